"""Vectorised parsers for exported text: numbers, money, dates and times, booleans.

Every parser takes a text :class:`polars.Series` (as :func:`read_text_table` returns it)
and gives back a :class:`Parsed`: the typed values and, per row, why a value could not
be read (null when it was read or was empty). Readers turn those reasons into rejected
rows, so one bad cell never aborts a load. Decisions that depend on the data (decimal
comma or point; day-first or month-first) are taken once per column from all its values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from closedloop_kit.errors import SourceFormatError

__all__ = [
    "NULL_TOKENS",
    "Parsed",
    "combine_problems",
    "currency_from_text",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_number",
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
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text.is_in(_NULL_VARIANTS)).then(None).otherwise(text)


def _clean(s: pl.Series) -> pl.Series:
    return pl.select(clean_text(pl.lit(s)).alias(s.name)).to_series()


def _problem(original: pl.Series, value: pl.Series, what: str, column: str | None) -> pl.Series:
    col = f"`{column}`: " if column else ""
    return pl.select(
        pl.when(original.is_not_null() & value.is_null())
        .then(pl.format(f"{col}cannot read '{{}}' as {what}", original))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("problem")
    ).to_series()


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


def parse_number(s: pl.Series, *, decimal: str | None = None, column: str | None = None) -> Parsed:
    r"""Read localized numbers, money strings and percentages as Float64.

    Handles ``"1,234.50"`` and ``"1.234,50"`` (the decimal mark is decided per column
    from the values whose mark is unambiguous; ``"1,234"`` alone reads as 1234), spaces,
    NBSP and apostrophes as thousands separators, currency symbols and ISO codes
    (``"$"``, ``"€"``, ``"CA$"``, ``"US$"``, trailing ``"USD"``), accounting negatives
    ``"(12.00)"``, scientific notation ``"3.5E8"``, and percentages (``"12.5%"`` →
    0.125). Empty cells, ``"--"`` and ``"N/A"`` are null without a problem.

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
    text = orig.str.replace_all(_SPACES, "")
    negative = text.str.contains(r"^\(.*\)$") | text.str.starts_with("-")
    pct = text.str.ends_with("%")
    symbols = "|".join(_escape(sym) for sym in sorted(_CURRENCY_PREFIX, key=len, reverse=True))
    core = (
        text.str.replace_all(r"[()%]", "")
        .str.replace(r"^[-+]", "")
        .str.replace(rf"^(?:[A-Z]{{3}})?(?:{symbols})?", "")
        .str.replace(rf"(?:{symbols}|[A-Z]{{3}})$", "")
        .str.replace(r"^[-+]", "")
    )
    notes: list[str] = []
    if decimal is None:
        eu = int(core.str.contains(_EU_SURE).sum())
        us = int(core.str.contains(_US_SURE).sum())
        decimal = "," if eu > us else "."
        if decimal == ",":
            notes.append(f"{column or s.name}: decimal comma")
    if decimal not in (".", ","):
        msg = f"`decimal` must be one of ('.', ','), got {decimal!r}"
        raise ValueError(msg)
    sci = core.str.contains(_SCIENTIFIC)
    if decimal == ",":
        plain = core.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        plain = core.str.replace_all(",", "", literal=True)
    frame = pl.DataFrame({"plain": plain, "core": core, "sci": sci, "neg": negative, "pct": pct})
    value = frame.select(
        (
            pl.when(pl.col("sci"))
            .then(pl.col("core"))
            .otherwise(pl.col("plain"))
            .cast(pl.Float64, strict=False)
            * pl.when(pl.col("neg")).then(-1.0).otherwise(1.0)
            / pl.when(pl.col("pct")).then(100.0).otherwise(1.0)
        ).alias(s.name)
    ).to_series()
    return Parsed(value, _problem(orig, value, "a number", column), notes=tuple(notes))


_TRUE_WORDS = ["true", "t", "1", "yes", "y", "checked", "x"]
_FALSE_WORDS = ["false", "f", "0", "no", "n", "unchecked"]


def parse_bool(s: pl.Series, *, column: str | None = None) -> Parsed:
    """Read ``true/false``, ``1/0``, ``yes/no``, ``y/n``, ``t/f``, ``checked`` as Boolean.

    Examples
    --------
    >>> import polars as pl
    >>> parse_bool(pl.Series(["TRUE", "0", "Yes", "", "maybe"])).value.to_list()
    [True, False, True, None, None]
    """
    # map the distinct values only (a flag column has a handful)
    orig = _clean(s)
    uniq = orig.unique().drop_nulls()
    if uniq.len() > 1000:  # not a flag column: no point in a lookup
        uniq = orig
    low = uniq.str.to_lowercase()
    truth = pl.select(
        pl.when(low.is_in(_TRUE_WORDS)).then(True).when(low.is_in(_FALSE_WORDS)).then(False)
    ).to_series()
    if uniq is orig:
        value = truth.alias(s.name)
    else:
        mapping = dict(zip(uniq.to_list(), truth.to_list(), strict=True))
        value = orig.replace_strict(mapping, default=None, return_dtype=pl.Boolean).alias(s.name)
    return Parsed(value, _problem(orig, value, "true/false", column))


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
    "%d-%b-%y",
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
    text: pl.Series, dayfirst: bool | None, column: str | None, path: str | Path | None
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
) -> Parsed:
    """Read exported date-times as UTC ``Datetime("us", "UTC")``.

    Understands ISO 8601 with or without an offset (``Z``, ``+0000`` as Salesforce
    writes ``2026-01-05T14:03:22.000+0000``, ``+01:00``), ``1/5/2026 2:03 PM``,
    ``05.01.2026 14:03``, month names, Excel serial dates (``46027.5``) and epoch
    seconds/milliseconds/microseconds. Values without an offset are local times in
    ``tz``, converted to UTC; the zone is reported in ``assumed_time_zone``.

    Day and month order of ``d/m/y``-style dates is decided from the data: a first field
    above 12 means day-first, a second field above 12 month-first, a 12-hour clock
    (AM/PM) month-first (US). When nothing decides it, pass ``dayfirst=``.

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
    fast = _fast_datetime(orig, tz)
    if fast is not None:
        value, assumed = fast
        failed = orig.is_not_null() & value.is_null()
        if not bool(failed.any()):
            return Parsed(
                value.alias(s.name),
                _problem(orig, value, "a date/time", column),
                assumed_time_zone=assumed,
            )
    return _parse_datetime_full(
        orig,
        s.name,
        tz=tz,
        dayfirst=dayfirst,
        column=column,
        path=path,
        excel_serial=excel_serial,
        epoch=epoch,
    )


_FAST_AWARE = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z")
_FAST_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _fast_datetime(orig: pl.Series, tz: str) -> tuple[pl.Series, str | None] | None:
    """One-format parse when a sample of the column all reads with one common format."""
    sample = _sample(orig)
    if sample.len() == 0:
        return None
    for fmt in _FAST_AWARE:
        probe = sample.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
        if probe.null_count() == 0:
            return orig.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC"), None
    for fmt in _FAST_NAIVE:
        probe = sample.str.to_datetime(fmt, strict=False, time_unit="us")
        if probe.null_count() == 0:
            naive = orig.str.to_datetime(fmt, strict=False, time_unit="us")
            value = naive.dt.replace_time_zone(
                tz, ambiguous="earliest", non_existent="null"
            ).dt.convert_time_zone("UTC")
            return value, tz
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
) -> Parsed:
    s = orig.alias(name)
    text = (
        orig.str.replace(r"(?i)\s*\(?(UTC|GMT)\)?$", "+00:00")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"(\d:\d{2}(?::\d{2}(?:\.\d+)?)?[+-]\d{2})$", "${1}:00")
    )
    notes: list[str] = []
    aware = _try_formats(text, _ISO_OFFSET, tz_aware=True)
    naive = _try_formats(text, _ISO_NAIVE, tz_aware=False)
    numeric = text.str.contains(_NUMERIC_DATE)
    if bool(numeric.any()):
        first, note = _day_first(text.filter(numeric), dayfirst, column, path)
        if note:
            notes.append(f"{column or s.name}: {note}")
        order = "%d/%m/%Y" if first else "%m/%d/%Y"
        sep_text = text.str.replace_all(r"^(\d{1,2})[.\-](\d{1,2})[.\-]", "${1}/${2}/")
        fmts = [order + t for t in _TIME_PARTS] + [
            order.replace("%Y", "%y") + t for t in _TIME_PARTS
        ]
        naive += _try_formats(sep_text, fmts, tz_aware=False)
    aware_value = (
        pl.select(pl.coalesce(aware)).to_series()
        if aware
        else pl.Series(s.name, [None] * s.len(), dtype=pl.Datetime("us", "UTC"))
    )
    naive_value = (
        pl.select(pl.coalesce(naive)).to_series()
        if naive
        else pl.Series(s.name, [None] * s.len(), dtype=pl.Datetime("us"))
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
) -> Parsed:
    """Read exported calendar dates (``CloseDate``) as ``Date``; times are dropped.

    Examples
    --------
    >>> import polars as pl
    >>> [str(d) for d in parse_date(pl.Series(["2026-01-31", "46053", "12/31/2026"])).value]
    ['2026-01-31', '2026-01-31', '2026-12-31']
    """
    r = parse_datetime(s, tz="UTC", dayfirst=dayfirst, column=column, path=path, epoch=False)
    value = r.value.dt.date()
    return Parsed(value, _problem(_clean(s), value, "a date", column), notes=r.notes)


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
    tz, dayfirst, path
        Passed to the date parsers.
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
    cols: dict[str, pl.Series | None] = {}
    text_exprs: dict[str, pl.Expr] = {}
    problems: list[pl.Series] = []
    used: dict[str, str] = {}
    notes: list[str] = []
    assumed: str | None = None
    names = list(raw.columns)
    for target, aliases in fields.items():
        src = find_column(names, aliases)
        if src is None:
            continue
        used[target] = src
        s = raw[src]
        dtype = dtypes.get(target, pl.String())
        if s.dtype != pl.String:
            s = s.cast(pl.String)
        if target in text_only or dtype == pl.String:
            text_exprs[target] = clean_text(pl.col(src)).alias(target)
            cols[target] = None
            continue
        if isinstance(dtype, pl.Datetime):
            r = parse_datetime(s, tz=tz, dayfirst=dayfirst, column=src, path=path)
            assumed = assumed or r.assumed_time_zone
        elif dtype == pl.Date:
            r = parse_date(s, dayfirst=dayfirst, column=src, path=path)
        elif dtype == pl.Boolean:
            r = parse_bool(s, column=src)
        elif dtype.is_numeric():
            r = parse_number(s, column=src)
            if dtype.is_integer():
                r = Parsed(r.value.round(0).cast(dtype, strict=False), r.problem, notes=r.notes)
        else:
            text_exprs[target] = clean_text(pl.col(src)).alias(target)
            cols[target] = None
            continue
        cols[target] = r.value.alias(target)
        problems.append(r.problem)
        notes.extend(r.notes)
    texts = raw.select(list(text_exprs.values())) if text_exprs else pl.DataFrame()
    series = [texts[t] if v is None else v for t, v in cols.items()]
    frame = pl.DataFrame(series) if series else pl.DataFrame()
    frame = frame.with_columns(raw["source_row"]) if frame.width else raw.select("source_row")
    problem = (
        combine_problems(*problems)
        if problems
        else pl.Series("problem", [None] * raw.height, dtype=pl.String)
    )
    return Mapped(frame, problem, used, assumed, tuple(notes))
