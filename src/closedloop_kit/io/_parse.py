"""Vectorised parsers for exported text: numbers, money, dates and times, booleans.

Each parser exists at two levels over ONE implementation:

* expression builders (:func:`number_expr`, :func:`bool_expr`, :func:`datetime_expr`,
  :func:`problem_expr`) that :func:`map_columns` puts into a single lazy ``select``, so a
  whole export is cleaned, parsed and checked in one parallel pass;
* Series functions (:func:`parse_number`, :func:`parse_bool`, :func:`parse_datetime`,
  :func:`parse_date`) returning a :class:`Parsed`: the typed values and, per row, why a
  value could not be read (null when it was read or was empty).

Readers turn those reasons into rejected rows, so one bad cell never aborts a load.
Decisions that depend on the data are taken from all the values: the decimal mark of
each number column by :func:`decimal_marks` (its own evidence, else the file's), in a
small pass before the parse; the date-time format from a sample, then confirmed on every
value (a column the sampled format does not fully read is re-parsed by the general
parser, which also decides day-first or month-first order).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from closedloop_kit._core.frames import collect_in_memory, null_series
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._iso import fixed_width_iso

__all__ = [
    "NULL_TOKENS",
    "TWO_DIGIT_YEAR_PIVOT",
    "DateRange",
    "Parsed",
    "bool_expr",
    "combine_problems",
    "currency_from_text",
    "date_bounds",
    "datetime_expr",
    "decimal_marks",
    "number_expr",
    "numeric_id_exprs",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_number",
    "plain_numbers",
    "problem_expr",
]

NULL_TOKENS = ("", "--", "-", "—", "n/a", "na", "#n/a", "null", "none", "nan", "(not set)")
"""Cell values read as empty (compared lower-cased, after trimming)."""

_NULL_VARIANTS = sorted(
    {v for t in NULL_TOKENS for v in (t, t.upper(), t.title(), t.capitalize())}
    | {"NaN", "#N/A", "N/a"}
)

_SPACES = "[\u00a0\u202f\u2009 ']"
_CURRENCY_PREFIX: dict[str, str] = {
    "US$": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "AU$": "AUD",
    "A$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "MX$": "MXN",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "CHF": "CHF",
    "kr": "SEK",
    "zł": "PLN",
}
"""Currency symbols (as they prefix amounts) to ISO codes; a bare ``$`` is taken as USD."""


@dataclass(frozen=True)
class Parsed:
    """Values parsed from text, with the reason each unreadable value failed.

    Attributes
    ----------
    value
        Typed values (null where empty or unreadable).
    problem
        Per row: null, or a message saying why the value could not be read.
    assumed_time_zone
        For date-times: the zone naive values were taken to be in (to report), else None.
    notes
        Decisions taken from the data (e.g. "decimal comma", "day-first dates").
    """

    value: pl.Series
    problem: pl.Series
    assumed_time_zone: str | None = None
    notes: tuple[str, ...] = field(default=())


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Trim text and turn the :data:`NULL_TOKENS` (``""``, ``"--"``, ``"N/A"``...) into null."""
    return expr.cast(pl.String).str.strip_chars().replace(_NULL_VARIANTS, None)


def _clean(s: pl.Series) -> pl.Series:
    return pl.select(clean_text(pl.lit(s)).alias(s.name)).to_series()


def problem_expr(original: pl.Expr, value: pl.Expr, what: str, column: str | None) -> pl.Expr:
    """Per row: ``"`column`: cannot read '<text>' as <what>"`` where text gave no value.

    ``original`` is the cleaned text (null for empty cells, which are not problems).
    """
    col = f"`{column}`: " if column else ""
    return (
        pl.when(original.is_not_null() & value.is_null())
        .then(pl.format(f"{col}cannot read '{{}}' as {what}", original))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _problem(original: pl.Series, value: pl.Series, what: str, column: str | None) -> pl.Series:
    return pl.select(
        problem_expr(pl.lit(original), pl.lit(value), what, column).alias("problem")
    ).to_series()


_EXCEL_SCIENTIFIC_ID = r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$"
_EXCEL_FLOAT_ID = r"^(\d+)[.,]0+$"


def numeric_id_exprs(text: pl.Expr, column: str) -> tuple[pl.Expr, pl.Expr]:
    """A numeric id column as exported, and what Excel did to it.

    An id saved through Excel comes back as ``51234567890.0`` (all digits kept: the
    ``.0`` is dropped) or as ``5.12346E+10`` (digits lost: the id is null and the
    problem says so, since no rule can restore it). Other text is kept as it is.

    Returns
    -------
    value, problem
        The id text (trimmed), and per row a message or null.

    Examples
    --------
    >>> import polars as pl
    >>> v, p = numeric_id_exprs(pl.col("id"), "Record ID")
    >>> out = pl.DataFrame({"id": ["51234567890.0", "5.12346E+10", "0051", None]}).select(v, p)
    >>> out["id"].to_list()
    ['51234567890', None, '0051', None]
    >>> out["problem"][1][:61]
    "`Record ID`: '5.12346E+10' is an id Excel wrote in scientific"
    """
    clean = text.cast(pl.String).str.strip_chars()
    mangled = clean.str.contains(_EXCEL_SCIENTIFIC_ID).fill_null(False)
    value = (
        pl.when(mangled)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(clean.str.replace(_EXCEL_FLOAT_ID, "${1}"))
        .alias(text.meta.output_name())
    )
    problem = (
        pl.when(mangled)
        .then(
            pl.format(
                f"`{column}`: '{{}}' is an id Excel wrote in scientific notation; its digits "
                "are lost (export the file again without saving it from Excel)",
                clean,
            )
        )
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("problem")
    )
    return value, problem


def combine_problems(*problems: pl.Series) -> pl.Series:
    """Join per-row problem messages with ``"; "`` (null when a row has none).

    Examples
    --------
    >>> import polars as pl
    >>> a = pl.Series(["x", None, None]); b = pl.Series(["y", "z", None])
    >>> combine_problems(a, b).to_list()
    ['x; y', 'z', None]
    """
    if not problems:
        msg = "`problems` must hold at least one series"
        raise ValueError(msg)
    frame = pl.DataFrame({f"p{i}": p.cast(pl.String) for i, p in enumerate(problems)})
    joined = pl.concat_str([pl.col(c) for c in frame.columns], separator="; ", ignore_nulls=True)
    return frame.select(
        pl.when(joined == "").then(None).otherwise(joined).alias("problem")
    ).to_series()


def currency_from_text(s: pl.Series) -> pl.Series:
    """The ISO currency code written in a money string, or null.

    Recognises symbol prefixes (``$``, ``€``, ``£``, ``CA$``, ``US$``, ...) and ISO codes
    before or after the amount (``USD 10``, ``10 EUR``). A bare ``$`` is read as USD.

    Examples
    --------
    >>> import polars as pl
    >>> currency_from_text(pl.Series(["$1,234.50", "€10", "CA$5", "12 EUR", "7"])).to_list()
    ['USD', 'EUR', 'CAD', 'EUR', None]
    """
    text = s.cast(pl.String).str.strip_chars().str.replace_all(_SPACES, "")
    symbols = sorted(_CURRENCY_PREFIX, key=len, reverse=True)
    pattern = "|".join(_escape(sym) for sym in symbols)
    sym = text.str.extract(rf"^[-(]?({pattern})", 1)
    iso_before = text.str.extract(r"^[-(]?([A-Z]{3})[-(]?[\d.,]", 1)
    iso_after = text.str.extract(r"[\d.,)]([A-Z]{3})$", 1)
    mapped = sym.replace_strict(_CURRENCY_PREFIX, default=None, return_dtype=pl.String)
    return pl.select(pl.coalesce(mapped, iso_before, iso_after).alias(s.name)).to_series()


def _escape(sym: str) -> str:
    return "".join("\\" + ch if ch in r"$.^*+?()[]{}|\\" else ch for ch in sym)


_EU_SURE = r"^[-+]?(\d{1,3}(\.\d{3})+,\d*|\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(\.\d{3}){2,})$"
_US_SURE = r"^[-+]?(\d{1,3}(,\d{3})+\.\d*|\d+\.\d{1,2}|\d+\.\d{4,}|\d{1,3}(,\d{3}){2,})$"
_SCIENTIFIC = r"^[-+]?\d+(\.\d+)?[eE][-+]?\d+$"
_SYMBOLS = "|".join(_escape(sym) for sym in sorted(_CURRENCY_PREFIX, key=len, reverse=True))


def _number_core(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(digits and separators only, is negative, is a percentage) of cleaned text."""
    compact = text.str.replace_all(_SPACES, "")
    negative = compact.str.contains(r"^\(.*\)$") | compact.str.starts_with("-")
    pct = compact.str.ends_with("%")
    core = (
        compact.str.replace_all(r"[()%]", "")
        .str.replace(r"^[-+]", "")
        .str.replace(rf"^(?:[A-Z]{{3}})?(?:{_SYMBOLS})?", "")
        .str.replace(rf"(?:{_SYMBOLS}|[A-Z]{{3}})$", "")
        .str.replace(r"^[-+]", "")
    )
    return core, negative, pct


def decimal_marks(columns: Mapping[str, pl.Series]) -> dict[str, str]:
    r"""The decimal mark of each number column of one file: its own evidence, else the file's.

    In a column, :math:`n_{eu}` values can only be decimal-comma (``"1.234,50"``,
    ``"0,5"``) and :math:`n_{us}` only decimal-point (``"1,234.50"``, ``"0.5"``). A
    column with :math:`n_{eu} > n_{us}` reads with ``","``, one with
    :math:`n_{us} > n_{eu}` with ``"."``. A column without evidence (only ``"1.200"`` or
    ``"12"``) takes the file's mark: ``","`` when :math:`\sum n_{eu} > \sum n_{us}` over
    the file's number columns, else ``"."`` -- so in a German export whose amounts read
    ``"1.234,50"``, an employee count ``"1.200"`` is 1200, not 1.2.

    Examples
    --------
    >>> import polars as pl
    >>> decimal_marks({
    ...     "Cost": pl.Series(["1.234,50", "7,00"]), "Impr.": pl.Series(["1.200", "12"])
    ... })
    {'Cost': ',', 'Impr.': ','}
    """
    if not columns:
        return {}
    names = list(columns)
    texts = [columns[n].cast(pl.String) for n in names]
    joined = pl.concat(texts)
    if not (
        joined.str.contains(",", literal=True) | (joined.str.count_matches(".", literal=True) > 1)
    ).any():
        # a sure decimal-comma value has a comma or two dots ("1.234.567"): with
        # neither anywhere, no column has that evidence and every mark is "."
        return dict.fromkeys(names, ".")
    frame = pl.DataFrame({f"c{i}": text for i, text in enumerate(texts)})
    cores = frame.select(_number_core(clean_text(pl.col(c)))[0].alias(c) for c in frame.columns)
    counts = cores.select(
        expr
        for c in cores.columns
        for expr in (
            pl.col(c).str.contains(_EU_SURE).sum().alias(f"e{c[1:]}"),
            pl.col(c).str.contains(_US_SURE).sum().alias(f"u{c[1:]}"),
        )
    ).row(0, named=True)
    eu = [int(counts[f"e{i}"] or 0) for i in range(len(names))]
    us = [int(counts[f"u{i}"] or 0) for i in range(len(names))]
    file_mark = "," if sum(eu) > sum(us) else "."
    return {
        n: ("," if e > u else "." if u > e else file_mark)
        for n, e, u in zip(names, eu, us, strict=True)
    }


_PLAIN = {
    ".": r"^-?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$",
    ",": r"^-?(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d+)?$",
}


def plain_numbers(s: pl.Series, decimal: str = ".") -> bool:
    """Whether every non-null value of ``s`` is a plain number in the ``decimal`` mark.

    Plain: digits, a leading minus, thousands grouped by the other mark in threes, and
    one ``decimal`` mark; no space, symbol, code, parenthesis, percent sign or exponent.
    A column of such values skips :func:`number_expr`'s clean-up (``plain=True``): the
    grouping marks are dropped and the rest is cast, which gives the same numbers.

    Examples
    --------
    >>> import polars as pl
    >>> plain_numbers(pl.Series(["12", "-1,200.5", None])), plain_numbers(pl.Series(["$1"]))
    (True, False)
    >>> plain_numbers(pl.Series(["1.200,5"]), ","), plain_numbers(pl.Series(["1,2"]))
    (True, False)
    """
    return bool(s.cast(pl.String).str.contains(_PLAIN[decimal]).all())


def _ungrouped(digits: pl.Expr, decimal: str) -> pl.Expr:
    """Digits without thousands marks, with ``.`` as the decimal mark."""
    if decimal == ",":
        return digits.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    return digits.str.replace_all(",", "", literal=True)


def number_expr(text: pl.Expr, *, decimal: str = ".", plain: bool = False) -> pl.Expr:
    r"""Expression reading cleaned text (see :func:`clean_text`) as Float64.

    ``decimal`` is the column's decimal mark, as :func:`decimal_marks` decides it for
    all the number columns of a file. The value is then

    .. math:: v = \pm\,\frac{\text{digits read with that mark}}{100^{[\text{ends with }\%]}}

    Scientific notation (``3.5E8``) is read as written. ``plain``: the column holds only
    plain numbers (:func:`plain_numbers`), read by a float cast alone.
    """
    if decimal not in (".", ","):
        msg = f"`decimal` must be one of ('.', ','), got {decimal!r}"
        raise ValueError(msg)
    if plain:
        return _ungrouped(text, decimal).cast(pl.Float64, strict=False)
    core, negative, pct = _number_core(text)
    digits = pl.when(core.str.contains(_SCIENTIFIC)).then(core).otherwise(_ungrouped(core, decimal))
    return (
        digits.cast(pl.Float64, strict=False)
        * pl.when(negative).then(-1.0).otherwise(1.0)
        / pl.when(pct).then(100.0).otherwise(1.0)
    )


def parse_number(s: pl.Series, *, decimal: str | None = None, column: str | None = None) -> Parsed:
    r"""Read localized numbers, money strings and percentages as Float64.

    Handles ``"1,234.50"`` and ``"1.234,50"`` (the decimal mark is decided per column
    from the values whose mark is unambiguous; ``"1,234"`` alone reads as 1234), spaces,
    NBSP and apostrophes as thousands separators, currency symbols and ISO codes
    (``"$"``, ``"€"``, ``"CA$"``, ``"US$"``, trailing ``"USD"``), accounting negatives
    ``"(12.00)"``, scientific notation ``"3.5E8"``, and percentages (``"12.5%"`` →
    0.125). Empty cells, ``"--"`` and ``"N/A"`` are null without a problem. See
    :func:`number_expr` for the rule.

    Parameters
    ----------
    s
        Text values.
    decimal
        Force the decimal mark (``"."`` or ``","``) instead of deciding from the data.
    column
        Column name used in problem messages.

    Examples
    --------
    >>> import polars as pl
    >>> parse_number(pl.Series(["$1,234.50", "3.5E8", "--", "12.5%", "x"])).value.to_list()
    [1234.5, 350000000.0, None, 0.125, None]
    >>> parse_number(pl.Series(["1.234,50", "€10", "0,5"])).value.to_list()
    [1234.5, 10.0, 0.5]
    >>> parse_number(pl.Series(["1\u00a0234,5 €"])).value.to_list()
    [1234.5]
    """
    orig = _clean(s)
    mark = decimal if decimal is not None else decimal_marks({s.name: s})[s.name]
    expr = number_expr(pl.col("t"), decimal=mark, plain=plain_numbers(orig, mark))
    value = pl.DataFrame({"t": orig}).select(expr.alias(s.name)).to_series()
    # messages are formatted for the unreadable values only
    if bool((orig.is_not_null() & value.is_null()).any()):
        problem = _problem(orig, value, "a number", column)
    else:
        problem = null_series(s.len(), pl.String, "problem")
    notes = (f"{column or s.name}: decimal comma",) if mark == "," and s.len() else ()
    return Parsed(value, problem, notes=notes)


_TRUE_WORDS = ["true", "t", "1", "yes", "y", "checked", "x"]
_FALSE_WORDS = ["false", "f", "0", "no", "n", "unchecked"]


def bool_expr(text: pl.Expr) -> pl.Expr:
    """Expression reading cleaned text as Boolean (null for words it does not know).

    True: ``true t 1 yes y checked x``; False: ``false f 0 no n unchecked`` (any case).
    """
    low = text.str.to_lowercase()
    return pl.when(low.is_in(_TRUE_WORDS)).then(True).when(low.is_in(_FALSE_WORDS)).then(False)


_BOOL_CASED = {
    v: truth
    for words, truth in ((_TRUE_WORDS, True), (_FALSE_WORDS, False))
    for w in words
    for v in (w, w.upper(), w.title())
}


def _bool_cased_expr(text: pl.Expr) -> pl.Expr:
    """:func:`bool_expr` for the usual casings (``true``, ``TRUE``, ``True``) by lookup.

    Null for any other casing: the caller re-reads a column with such values through
    :func:`parse_bool`.
    """
    return text.replace_strict(_BOOL_CASED, default=None, return_dtype=pl.Boolean)


def parse_bool(s: pl.Series, *, column: str | None = None) -> Parsed:
    """Read ``true/false``, ``1/0``, ``yes/no``, ``y/n``, ``t/f``, ``checked`` as Boolean.

    Examples
    --------
    >>> import polars as pl
    >>> parse_bool(pl.Series(["TRUE", "0", "Yes", "", "maybe"])).value.to_list()
    [True, False, True, None, None]
    """
    text = pl.col("t")
    value = bool_expr(text)
    out = pl.DataFrame({"t": _clean(s)}).select(
        value.alias(s.name), problem_expr(text, value, "true/false", column).alias("problem")
    )
    return Parsed(out[s.name], out["problem"])


# (format, has offset) tried on ISO-like text; slash/dot formats are handled separately
_ISO_OFFSET = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M%#z",
)
_ISO_NAIVE = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%a %b %d %H:%M:%S %Y",
)
_TIME_PARTS = (
    " %I:%M:%S %p",
    " %I:%M %p",
    " %H:%M:%S%.f",
    " %H:%M",
    "",
)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_NUMERIC_DATE = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})\b"

TWO_DIGIT_YEAR_PIVOT = 1930
"""First year of the 100-year window two-digit years are read in, as Excel does:
``00``-``29`` are 2000-2029 and ``30``-``99`` are 1930-1999."""

DateRange = tuple[dt.date | str, dt.date | str]
"""Plausible dates ``(earliest, latest)``, as dates or ISO strings (``"1990-01-01"``)."""

_EARLIEST = dt.date(1990, 1, 1)
_OPEN_END = dt.date(9999, 1, 1)
_TWO_DIGIT_NUMERIC = r"^(\d{1,2}/\d{1,2}/)(\d{2})(\D.*)?$"
_TWO_DIGIT_NAMED = r"^(\d{1,2}[ \-][A-Za-z]{3,9}[ \-])(\d{2})(\D.*)?$"


def date_bounds(date_range: DateRange | None = None) -> tuple[dt.date, dt.date]:
    """The plausible dates of a load: ``date_range``, else 1990-01-01 to today + 10 years.

    A parsed date or date-time outside them is not kept: its row is rejected with the
    reason (a year ``24`` read as 24 AD, a ``0`` read as 1899-12-30, a sentinel
    ``9999-12-31``), unless the range is widened.

    Examples
    --------
    >>> date_bounds(("2000-01-01", "2030-12-31"))
    (datetime.date(2000, 1, 1), datetime.date(2030, 12, 31))
    """
    if date_range is None:
        today = dt.date.today()
        try:
            latest = today.replace(year=today.year + 10)
        except ValueError:  # 29 February
            latest = today.replace(year=today.year + 10, day=28)
        return _EARLIEST, latest
    try:
        lo, hi = (_as_date(v) for v in date_range)
    except (TypeError, ValueError):
        msg = (
            f"`date_range` must be (earliest, latest) as dates or ISO strings like "
            f"('1990-01-01', '2036-12-31'), got {date_range!r}"
        )
        raise ValueError(msg) from None
    if lo > hi:
        msg = f"`date_range` must have earliest <= latest, got {date_range!r}"
        raise ValueError(msg)
    return lo, hi


def _as_date(v: dt.date | str) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def _in_range(
    value: pl.Series, problem: pl.Series, column: str | None, bounds: tuple[dt.date, dt.date]
) -> tuple[pl.Series, pl.Series, tuple[str, ...]]:
    """Null the values outside ``bounds`` and say why in ``problem``.

    The year-9999 placeholder of an open end (Salesforce ``NextStartDate``
    ``9999-12-31``, warehouse ``_fivetran_end``) is read as empty, with a note, unless
    ``bounds`` reach it.
    """
    lo, hi = bounds
    day = value if value.dtype == pl.Date else value.dt.date()
    open_end = day.is_not_null() & (day >= _OPEN_END)
    if hi >= _OPEN_END:
        open_end = open_end & False
    outside = day.is_not_null() & ((day < lo) | (day > hi)) & ~open_end
    n_open = int(open_end.sum())
    if not n_open and not bool(outside.any()):
        return value, problem, ()
    notes: tuple[str, ...] = ()
    if n_open:
        notes = (
            f"{column or value.name}: {n_open} year-9999 value(s) read as no date (the "
            "placeholder of an open end)",
        )
    col = f"`{column}`: " if column else ""
    frame = pl.DataFrame({"v": value, "p": problem, "o": outside, "e": open_end})
    out = frame.select(
        pl.when(pl.col("o") | pl.col("e")).then(None).otherwise(pl.col("v")).alias(value.name),
        pl.when(pl.col("o"))
        .then(
            pl.format(
                f"{col}{{}} is outside the plausible dates {lo}..{hi} (a wrong year or a "
                "placeholder; pass `date_range=` to accept it)",
                pl.col("v").cast(pl.String),
            )
        )
        .otherwise(pl.col("p"))
        .alias("problem"),
    )
    return out[value.name], out["problem"], notes


def _four_digit_years(text: pl.Series) -> tuple[pl.Series, int, str | None]:
    """Two-digit years written out in the :data:`TWO_DIGIT_YEAR_PIVOT` window.

    ``02/03/24`` becomes ``02/03/2024`` and ``15-Mar-98`` ``15-Mar-1998``. Returns the
    text, how many values had a two-digit year, and one example.
    """
    out = text
    count = 0
    example: str | None = None
    cut = TWO_DIGIT_YEAR_PIVOT % 100
    for pattern in (_TWO_DIGIT_NUMERIC, _TWO_DIGIT_NAMED):
        if not bool(out.str.contains(pattern).any()):  # cheap check before the extract
            continue
        parts = out.str.extract_groups(pattern)
        yy = parts.struct.field("2")
        hit = yy.is_not_null()
        n = int(hit.sum())
        if not n:
            continue
        count += n
        example = example or out.filter(hit)[0]
        century = (
            pl.when(pl.col("yy").cast(pl.Int32) < cut).then(pl.lit("20")).otherwise(pl.lit("19"))
        )
        out = pl.DataFrame(
            {"t": out, "h": parts.struct.field("1"), "yy": yy, "r": parts.struct.field("3")}
        ).select(
            pl.when(pl.col("yy").is_not_null())
            .then(pl.concat_str([pl.col("h"), century, pl.col("yy"), pl.col("r").fill_null("")]))
            .otherwise(pl.col("t"))
            .alias(text.name)
        )[text.name]
    return out, count, example


def _sample(s: pl.Series, n: int = 2000) -> pl.Series:
    nn = s.drop_nulls()
    return nn.head(n) if nn.len() <= 2 * n else pl.concat([nn.head(n), nn.tail(n)])


def _try_formats(
    text: pl.Series, formats: tuple[str, ...] | list[str], *, tz_aware: bool
) -> list[pl.Series]:
    """Parse ``text`` with every format that reads at least one sampled value."""
    sample = _sample(text)
    out: list[pl.Series] = []
    zone = "UTC" if tz_aware else None
    for fmt in formats:
        if sample.len():
            probe = sample.str.to_datetime(fmt, strict=False, time_unit="us", time_zone=zone)
            if probe.null_count() == probe.len():
                continue
        elif out:
            continue
        out.append(text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone=zone))
    return out


def _day_first(
    text: pl.Series,
    dayfirst: bool | None,
    column: str | None,
    path: str | Path | None,
    hint: tuple[bool, str] | None = None,
) -> tuple[bool, str | None]:
    parts = text.str.extract_groups(_NUMERIC_DATE)
    first = parts.struct.field("1").cast(pl.Int32, strict=False)
    second = parts.struct.field("2").cast(pl.Int32, strict=False)
    present = first.is_not_null()
    if dayfirst is not None or not bool(present.any()):
        return bool(dayfirst), None
    any_day_first = bool((first > 12).any())
    any_month_first = bool((second > 12).any())
    if any_day_first and any_month_first:
        what = f"`{column}`" if column else "a date column"
        where = f"{Path(path).name}: " if path else ""
        msg = (
            f"{where}{what} mixes day-first and month-first dates (e.g. both "
            f"'13/01' and '01/13' appear); fix the export or pass `dayfirst=`"
        )
        raise SourceFormatError(msg, path=str(path) if path else None, column=column)
    if any_day_first:
        return True, "day-first dates (a first field > 12)"
    if any_month_first:
        return False, "month-first dates (a second field > 12)"
    has_ampm = bool(text.str.contains(r"(?i)\d\s*[ap]\.?m\.?\b").any())
    if has_ampm:
        return False, "month-first dates (12-hour clock, US style)"
    if bool(((first == second) | first.is_null()).all()):
        return False, None
    if hint is not None:
        order = "day-first" if hint[0] else "month-first"
        return hint[0], f"{order} dates, as the file's {hint[1]} decides"
    what = f"`{column}`" if column else "a date column"
    where = f"{Path(path).name}: " if path else ""
    examples = text.filter(present).unique(maintain_order=True).head(3).to_list()
    msg = (
        f"{where}{what} has dates like {examples} that read both as day/month and "
        f"month/day, and no value decides it; pass `dayfirst=True` or `dayfirst=False`"
    )
    raise SourceFormatError(msg, path=str(path) if path else None, column=column)


def parse_datetime(
    s: pl.Series,
    *,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    column: str | None = None,
    path: str | Path | None = None,
    excel_serial: bool | None = None,
    epoch: bool = True,
    date_range: DateRange | None = None,
    order_hint: tuple[bool, str] | None = None,
) -> Parsed:
    """Read exported date-times as UTC ``Datetime("us", "UTC")``.

    Understands ISO 8601 with or without an offset (``Z``, ``+0000`` as Salesforce
    writes ``2026-01-05T14:03:22.000+0000``, ``+01:00``), ``1/5/2026 2:03 PM``,
    ``05.01.2026 14:03``, month names, Excel serial dates (``46027.5``) and epoch
    seconds/milliseconds/microseconds. Values without an offset are local times in
    ``tz``, converted to UTC; the zone is reported in ``assumed_time_zone``.

    Day and month order of ``d/m/y``-style dates is decided from the data: a first field
    above 12 means day-first, a second field above 12 month-first, a 12-hour clock
    (AM/PM) month-first (US). When nothing in the column decides it, ``order_hint``
    (``(dayfirst, "what decided it")``, from the file's other date columns, see
    :func:`map_columns`) does; else pass ``dayfirst=``.

    Nothing is guessed silently: two-digit years (``02/03/24``) are read in the
    1930-2029 window (:data:`TWO_DIGIT_YEAR_PIVOT`, as Excel does) and noted; values
    outside the plausible dates (:func:`date_bounds`: ``date_range``, else 1990-01-01
    to today + 10 years) are null with the reason in ``problem``, so their rows are
    rejected.

    Raises
    ------
    SourceFormatError
        The dates are ambiguous (or mixed) and ``dayfirst`` was not given.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.Series(["2026-01-05T14:03:22.000+0000", "1/5/2026 2:03 PM", "", "46027.5"])
    >>> [str(v) for v in parse_datetime(s).value.to_list()]
    ['2026-01-05 14:03:22+00:00', '2026-01-05 14:03:00+00:00', 'None', '2026-01-05 12:00:00+00:00']
    >>> r = parse_datetime(pl.Series(["2026-03-02 09:00"]), tz="Europe/Berlin")
    >>> str(r.value[0]), r.assumed_time_zone
    ('2026-03-02 08:00:00+00:00', 'Europe/Berlin')
    """
    orig = _clean(s)
    plan = _datetime_plan(orig, tz)
    if plan is not None:
        expr = datetime_expr(pl.col("t"), plan[0], tz=tz)
        value = pl.DataFrame({"t": orig}).select(expr.alias(s.name)).to_series()
        if not bool((orig.is_not_null() & value.is_null()).any()):  # else the full parser
            none = null_series(s.len(), pl.String, "problem")
            kept, problem, notes = _in_range(value, none, column, date_bounds(date_range))
            return Parsed(kept, problem, assumed_time_zone=plan[1], notes=notes)
    r = _parse_datetime_full(
        orig,
        s.name,
        tz=tz,
        dayfirst=dayfirst,
        column=column,
        path=path,
        excel_serial=excel_serial,
        epoch=epoch,
        order_hint=order_hint,
    )
    kept, problem, notes = _in_range(r.value, r.problem, column, date_bounds(date_range))
    return Parsed(kept, problem, assumed_time_zone=r.assumed_time_zone, notes=r.notes + notes)


_FAST_AWARE = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z")
_FAST_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
FIXED_WIDTH_MIN = 4096
"""Batch size from which :func:`datetime_expr` reads fixed-width ISO text with numpy.

Below it polars' strftime parser is faster: the numpy path has a fixed cost of about
1 ms. ``python benchmarks/small_plans.py`` prints both at 300, 3,000 and 30,000 values
for the Salesforce, HubSpot and warehouse layouts: strftime wins at 300, they are about
even at 3,000, numpy wins by 1.4-5x at 30,000.
"""


def datetime_expr(text: pl.Expr, fmt: str, *, tz: str = "UTC") -> pl.Expr:
    """Expression reading cleaned text in one strftime format as ``Datetime("us", "UTC")``.

    A format with an offset (``%z``/``%#z``) is exact; values of a format without one are
    local times in ``tz`` (ambiguous fall-back times take the earlier instant, times
    skipped by a spring-forward are null). Columns of one fixed-width ISO 8601 layout
    are read by :func:`closedloop_kit.io._iso.fixed_width_iso` (same result, a fraction
    of the cost) when a batch holds at least :data:`FIXED_WIDTH_MIN` values; anything
    else by polars' strftime parser.
    """
    aware = "%z" in fmt or "%#z" in fmt

    def parse(batch: pl.Series) -> pl.Series:
        iso = fmt.startswith("%Y-%m-%d") and batch.len() >= FIXED_WIDTH_MIN
        fast = fixed_width_iso(batch, aware=aware) if iso else None
        if fast is not None:
            return fast
        return batch.str.to_datetime(
            fmt, strict=False, time_unit="us", time_zone="UTC" if aware else None
        )

    dtype = pl.Datetime("us", "UTC") if aware else pl.Datetime("us")
    parsed = text.map_batches(parse, return_dtype=dtype, is_elementwise=True)
    if aware:
        return parsed
    return parsed.dt.replace_time_zone(
        tz, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


_ZONE_TAIL = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$")


def _could_read(fmt: str, value: str) -> bool:
    """Whether a :data:`_FAST_AWARE` / :data:`_FAST_NAIVE` format can read ``value``.

    A necessary look only (the date-time separator at position 10, an offset at the end
    for the formats with one); the parse decides.
    """
    if fmt == "%Y-%m-%d":
        return len(value) == 10
    if len(value) < 16 or value[10] != fmt[8]:
        return False
    return bool(_ZONE_TAIL.search(value[11:])) == ("%#z" in fmt)


def _datetime_plan(orig: pl.Series, tz: str) -> tuple[str, str | None] | None:
    """(format, assumed zone) when a sample of the column all reads with one ISO format.

    The caller confirms the format on every value and falls back to the general parser
    when it does not read them all.
    """
    sample = _sample(orig)
    if sample.len() == 0:
        return None
    # the formats that can read the first value go first (one parse instead of up to
    # six); the rest follow in case that look was wrong, so the plan is the same
    first = str(sample[0])
    likely = [f for f in (*_FAST_AWARE, *_FAST_NAIVE) if _could_read(f, first)]
    for fmt in sorted((*_FAST_AWARE, *_FAST_NAIVE), key=lambda f: f not in likely):
        aware = fmt in _FAST_AWARE
        zone = "UTC" if aware else None
        probe = sample.str.to_datetime(fmt, strict=False, time_unit="us", time_zone=zone)
        if probe.null_count() == 0:
            return fmt, None if aware else tz
    return None


def _parse_datetime_full(
    orig: pl.Series,
    name: str,
    *,
    tz: str,
    dayfirst: bool | None,
    column: str | None,
    path: str | Path | None,
    excel_serial: bool | None,
    epoch: bool,
    order_hint: tuple[bool, str] | None = None,
) -> Parsed:
    s = orig.alias(name)
    text = (
        orig.str.replace(r"(?i)\s*\(?(UTC|GMT)\)?$", "+00:00")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"(\d:\d{2}(?::\d{2}(?:\.\d+)?)?[+-]\d{2})$", "${1}:00")
    )
    notes: list[str] = []
    text, two_digit, example = _four_digit_years(
        text.str.replace_all(r"^(\d{1,2})[.\-](\d{1,2})[.\-](\d{2})\b", "${1}/${2}/${3}")
    )
    if two_digit:
        low = TWO_DIGIT_YEAR_PIVOT
        notes.append(
            f"{column or s.name}: {two_digit} two-digit year(s) read in the {low}-{low + 99} "
            f"window (as Excel does), e.g. {example!r}"
        )
    aware = _try_formats(text, _ISO_OFFSET, tz_aware=True)
    naive = _try_formats(text, _ISO_NAIVE, tz_aware=False)
    numeric = text.str.contains(_NUMERIC_DATE)
    if bool(numeric.any()):
        first, note = _day_first(text.filter(numeric), dayfirst, column, path, order_hint)
        if note:
            notes.append(f"{column or s.name}: {note}")
        order = "%d/%m/%Y" if first else "%m/%d/%Y"
        sep_text = text.str.replace_all(r"^(\d{1,2})[.\-](\d{1,2})[.\-]", "${1}/${2}/")
        naive += _try_formats(sep_text, [order + t for t in _TIME_PARTS], tz_aware=False)
    aware_value = (
        pl.select(pl.coalesce(aware)).to_series()
        if aware
        else null_series(s.len(), pl.Datetime("us", "UTC"), s.name)
    )
    naive_value = (
        pl.select(pl.coalesce(naive)).to_series()
        if naive
        else null_series(s.len(), pl.Datetime("us"), s.name)
    )
    # numbers: Excel serial days or epoch seconds / ms / us
    num = text.str.strip_chars().cast(pl.Float64, strict=False)
    plain_number = text.str.contains(r"^\d+(\.\d+)?$")
    serial_ok = excel_serial if excel_serial is not None else True
    excel = (
        pl.select(
            pl.when(plain_number & (num >= 1) & (num < 2_958_466) & pl.lit(serial_ok))
            .then(
                pl.lit(_EXCEL_EPOCH, dtype=pl.Datetime("us"))
                + pl.duration(microseconds=pl.lit((num * 86_400_000_000).round(0).cast(pl.Int64)))
            )
            .otherwise(None)
        ).to_series()
        if bool((plain_number & (num < 2_958_466)).any())
        else None
    )
    epoch_value = None
    if epoch and bool((plain_number & (num >= 1e9)).any()):
        intval = text.cast(pl.Int64, strict=False)
        digits = text.str.len_chars()
        epoch_value = pl.select(
            pl.when(plain_number & digits.is_in([9, 10]))
            .then(pl.from_epoch(intval, time_unit="s"))
            .when(plain_number & digits.is_in([12, 13]))
            .then(pl.from_epoch(intval, time_unit="ms"))
            .when(plain_number & digits.is_in([15, 16]))
            .then(pl.from_epoch(intval, time_unit="us"))
            .otherwise(None)
            .dt.cast_time_unit("us")
            .dt.replace_time_zone("UTC")
        ).to_series()
    naive_parts = [naive_value]
    if excel is not None:
        naive_parts.append(excel)
    naive_all = pl.select(pl.coalesce(naive_parts)).to_series()
    assumed = tz if bool(naive_all.is_not_null().any()) else None
    naive_utc = naive_all.dt.replace_time_zone(
        tz, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    parts = [aware_value]
    if epoch_value is not None:
        parts.append(epoch_value)
    parts.append(naive_utc)
    value = pl.select(pl.coalesce(parts).alias(s.name)).to_series()
    return Parsed(
        value,
        _problem(orig, value, "a date/time", column),
        assumed_time_zone=assumed,
        notes=tuple(notes),
    )


def parse_date(
    s: pl.Series,
    *,
    dayfirst: bool | None = None,
    column: str | None = None,
    path: str | Path | None = None,
    date_range: DateRange | None = None,
    order_hint: tuple[bool, str] | None = None,
) -> Parsed:
    """Read exported calendar dates (``CloseDate``) as ``Date``; times are dropped.

    Two-digit years and implausible dates are handled as in :func:`parse_datetime`.

    Examples
    --------
    >>> import polars as pl
    >>> [str(d) for d in parse_date(pl.Series(["2026-01-31", "46053", "12/31/2026"])).value]
    ['2026-01-31', '2026-01-31', '2026-12-31']
    """
    r = parse_datetime(
        s,
        tz="UTC",
        dayfirst=dayfirst,
        column=column,
        path=path,
        epoch=False,
        date_range=(dt.date.min, dt.date.max),
        order_hint=order_hint,
    )
    value = r.value.dt.date()
    value, problem, notes = _in_range(
        value, _problem(_clean(s), value, "a date", column), column, date_bounds(date_range)
    )
    return Parsed(value, problem, notes=r.notes + notes)


@functools.lru_cache(maxsize=8192)
def normalize_name(name: str) -> str:
    """A source column name reduced for matching: lower case, letters and digits only.

    ``"ANNUALREVENUE"``, ``"AnnualRevenue"``, ``"annual_revenue"`` and
    ``"Annual Revenue"`` all become ``"annualrevenue"``.

    Examples
    --------
    >>> normalize_name("Company / Account"), normalize_name("number_of_employees")
    ('companyaccount', 'numberofemployees')
    """
    return "".join(ch for ch in name.lower() if ch.isalnum())


@dataclass(frozen=True)
class Mapped:
    """Source columns mapped and parsed into canonical columns.

    Attributes
    ----------
    frame
        Canonical columns (typed) plus ``source_row``.
    problem
        Per row: why some value could not be read, or null.
    used
        Canonical column → source column it came from.
    assumed_time_zone, notes
        As in :class:`Parsed`.
    """

    frame: pl.DataFrame
    problem: pl.Series
    used: dict[str, str]
    assumed_time_zone: str | None = None
    notes: tuple[str, ...] = ()


def find_column(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    """The first of ``columns`` whose normalized name is one of ``aliases`` (in order)."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(normalize_name(c), c)
    for alias in aliases:
        hit = by_norm.get(normalize_name(alias))
        if hit is not None:
            return hit
    return None


def map_columns(
    raw: pl.DataFrame,
    fields: dict[str, tuple[str, ...]],
    dtypes: dict[str, pl.DataType],
    *,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    path: str | Path | None = None,
    text_only: frozenset[str] = frozenset(),
    date_range: DateRange | None = None,
) -> Mapped:
    """Map source columns to canonical ones by alias and parse them by canonical dtype.

    Parameters
    ----------
    raw
        All-text source rows with ``source_row``.
    fields
        Canonical column → source column aliases (matched by :func:`normalize_name`,
        first present alias wins).
    dtypes
        Canonical dtypes (``TABLES[name].columns``): String stays text, Datetime goes
        through :func:`parse_datetime`, Date :func:`parse_date`, Boolean
        :func:`parse_bool`, numbers :func:`parse_number`.
    tz, dayfirst, path, date_range
        Passed to the date parsers (dates outside ``date_range``, see
        :func:`date_bounds`, are problems).
    text_only
        Canonical columns to keep as text whatever their dtype.

    Examples
    --------
    >>> import polars as pl
    >>> raw = pl.DataFrame({"AMOUNT": ["$1,200.00", "x"], "source_row": [2, 3]})
    >>> m = map_columns(raw, {"amount": ("Amount",)}, {"amount": pl.Float64()})
    >>> m.frame["amount"].to_list(), m.problem.to_list()
    ([1200.0, None], [None, "`AMOUNT`: cannot read 'x' as a number"])
    """
    names = list(raw.columns)
    used: dict[str, str] = {}
    for target, aliases in fields.items():
        src = find_column(names, aliases)
        if src is not None:
            used[target] = src
    # stage 1: every used source column cleaned once (trimmed, null tokens to null)
    cleaned = {src: f"__clean{i}" for i, src in enumerate(dict.fromkeys(used.values()))}
    stage1 = [
        pl.lit(None, dtype=pl.String).alias(c)  # an empty column needs no cleaning
        if raw[src].null_count() == raw.height
        else clean_text(pl.col(src)).alias(c)
        for src, c in cleaned.items()
    ]
    # stage 2: values; stage 3: which values failed (messages are written afterwards,
    # for failing rows only)
    # one decimal mark per number column, decided with the file's other number columns
    marks = decimal_marks(
        {
            t: raw[src]
            for t, src in used.items()
            if t not in text_only and _kind(dtypes.get(t, pl.String())) == "number"
        }
    )
    values: list[pl.Expr] = []
    flags: list[pl.Expr] = []
    whats: dict[str, str] = {}
    plans: dict[str, str] = {}  # target -> "datetime"/"date"/"bool" read by a fast plan
    assumed: dict[str, str | None] = {}
    general: list[str] = []  # targets parsed by the general date-time parser
    for target, src in used.items():
        text = pl.col(cleaned[src])
        dtype = dtypes.get(target, pl.String())
        kind = _kind(dtype) if target not in text_only else "text"
        if kind == "text":
            values.append(text.alias(target))
            continue
        if kind in ("datetime", "date"):
            plan = _datetime_plan(_clean(_sample(raw[src])), tz)
            if plan is None:
                general.append(target)
                continue
            value = datetime_expr(text, plan[0], tz=tz)
            whats[target] = "a date/time"
            if kind == "date":
                value, whats[target] = value.dt.date(), "a date"
            plans[target], assumed[target] = kind, plan[1]
        elif kind == "bool":
            value, whats[target] = _bool_cased_expr(text), "true/false"
            plans[target] = "bool"
        else:
            plain = plain_numbers(raw[src], marks[target])
            value, whats[target] = number_expr(text, decimal=marks[target], plain=plain), "a number"
            if dtype.is_integer():
                value = value.round(0).cast(dtype, strict=False)
        values.append(value.alias(target))
        flags.append((text.is_not_null() & pl.col(target).is_null()).alias(f"__bad_{target}"))
    lf = raw.lazy().with_columns(stage1).with_columns(values).with_columns(flags)
    kept = [t for t in used if t not in general]
    texts = list(dict.fromkeys(cleaned[used[t]] for t in whats))
    out = collect_in_memory(
        lf.select([*kept, "source_row", *texts, *[f.meta.output_name() for f in flags]])
    )
    notes = [f"{used[t]}: decimal comma" for t, mark in marks.items() if mark == "," and raw.height]
    problems: dict[str, pl.Series] = {}
    for target, what in whats.items():
        bad = out[f"__bad_{target}"]
        if bool(bad.any()):
            text = pl.col(cleaned[used[target]])
            problems[target] = out.select(
                problem_expr(text, pl.col(target), what, used[target])
            ).to_series()
    # a plan (sampled date-time format, usual boolean casing) that missed some values:
    # the general parser decides
    redo = [t for t in plans if t in problems]
    replaced: list[pl.Series] = []
    dated = [t for t in [*general, *redo] if plans.get(t, _kind(dtypes[t])) != "bool"]
    hint = _file_day_order(raw, [used[t] for t in dated]) if dayfirst is None else None
    for target in [*general, *redo]:
        src = used[target]
        plan_kind = plans.get(target, _kind(dtypes.get(target, pl.String())))
        if plan_kind == "bool":
            r = parse_bool(raw[src], column=src)
        elif plan_kind == "date":
            r = parse_date(
                raw[src],
                dayfirst=dayfirst,
                column=src,
                path=path,
                date_range=date_range,
                order_hint=hint,
            )
        else:
            r = parse_datetime(
                raw[src],
                tz=tz,
                dayfirst=dayfirst,
                column=src,
                path=path,
                date_range=date_range,
                order_hint=hint,
            )
        if plan_kind != "bool":
            assumed[target] = r.assumed_time_zone
        notes.extend(r.notes)
        replaced.append(r.value.alias(target))
        problems[target] = r.problem
    frame = out.select([*kept, "source_row"])
    # dates read by a sampled plan: outside the plausible range is a problem too
    bounds = date_bounds(date_range)
    for target in [t for t, k in plans.items() if k != "bool" and t not in redo]:
        before = problems.get(target, null_series(raw.height, pl.String, "problem"))
        in_range, problem, range_notes = _in_range(frame[target], before, used[target], bounds)
        if problem is not before:
            frame = frame.with_columns(in_range.alias(target))
            problems[target] = problem
            notes.extend(range_notes)
    if replaced:
        frame = frame.with_columns(replaced)
    problem = (
        combine_problems(*[problems[t] for t in used if t in problems])
        if any(p.null_count() < p.len() for p in problems.values())
        else null_series(raw.height, pl.String, "problem")
    )
    frame = frame.select([*used, "source_row"])
    zone = next((z for t, z in assumed.items() if z and t in used), None)
    return Mapped(frame, problem, used, zone, tuple(notes))


def _file_day_order(raw: pl.DataFrame, sources: list[str]) -> tuple[bool, str] | None:
    """Day/month order decided by any of a file's date columns, when they agree.

    A column decides when a first field is above 12 (day-first), a second field is
    above 12 or a time has AM/PM (month-first). None when no column decides, or
    columns disagree.
    """
    day: list[str] = []
    month: list[str] = []
    for src in dict.fromkeys(sources):
        text = _clean(_sample(raw[src]))
        parts = text.str.extract_groups(_NUMERIC_DATE)
        first = parts.struct.field("1").cast(pl.Int32, strict=False)
        second = parts.struct.field("2").cast(pl.Int32, strict=False)
        if not bool(first.is_not_null().any()):
            continue
        if bool((first > 12).any()):
            day.append(src)
        if bool((second > 12).any()) or bool(text.str.contains(r"(?i)\d\s*[ap]\.?m\.?\b").any()):
            month.append(src)
    if day and not month:
        return True, f"`{day[0]}`"
    if month and not day:
        return False, f"`{month[0]}`"
    return None


def _kind(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_numeric():
        return "number"
    return "text"
