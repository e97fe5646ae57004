"""Parsers for localized numbers, money, dates and booleans."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._parse import (
    clean_text,
    currency_from_text,
    decimal_marks,
    map_columns,
    number_expr,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_number,
    plain_numbers,
)

UTC = dt.UTC


def _num(values: list[str | None], **kw: object) -> list[float | None]:
    return parse_number(pl.Series(values, dtype=pl.String), **kw).value.to_list()  # type: ignore[arg-type]


def test_us_thousands_and_currency_symbols() -> None:
    assert _num(["1,234.50", "$1,234.50", "US$10", "CA$5.25", "12 USD"]) == [
        1234.5,
        1234.5,
        10.0,
        5.25,
        12.0,
    ]


def test_european_decimal_comma_decided_from_the_column() -> None:
    # "1.234" alone is ambiguous; "1.234,50" and "0,5" decide the column is decimal-comma
    assert _num(["1.234,50", "€10", "0,5", "1.234"]) == [1234.5, 10.0, 0.5, 1234.0]


def test_nbsp_and_space_thousands() -> None:
    assert _num(["1\u00a0234,56 €", "2 000,00"]) == [1234.56, 2000.0]


def test_scientific_notation_like_data_loader() -> None:
    assert _num(["3.5E8", "5.0E7", "-1E02"]) == [350_000_000.0, 50_000_000.0, -100.0]


def test_empty_dashes_and_na_are_null_without_problem() -> None:
    r = parse_number(pl.Series(["--", "", None, "N/A", " "], dtype=pl.String))
    assert r.value.to_list() == [None] * 5
    assert r.problem.null_count() == 5


def test_percentages_become_rates() -> None:
    assert _num(["12.5%", "100%"]) == [0.125, 1.0]


def test_unreadable_number_gives_reason_not_error() -> None:
    r = parse_number(pl.Series(["12", "1;DROP TABLE users"]), column="Amount")
    assert r.value.to_list() == [12.0, None]
    assert r.problem.to_list() == [None, "`Amount`: cannot read '1;DROP TABLE users' as a number"]


def test_accounting_negative() -> None:
    assert _num(["(1,200.00)"]) == [-1200.0]


def test_currency_from_text() -> None:
    s = pl.Series(["$1,234.50", "€10", "CA$5", "£3", "10 EUR", "USD 4", "7", None])
    assert currency_from_text(s).to_list() == ["USD", "EUR", "CAD", "GBP", "EUR", "USD", None, None]


def test_salesforce_api_datetime_with_offset() -> None:
    r = parse_datetime(pl.Series(["2026-01-05T14:03:22.000+0000", "2026-01-05T15:03:22Z"]))
    assert r.value.to_list() == [
        dt.datetime(2026, 1, 5, 14, 3, 22, tzinfo=UTC),
        dt.datetime(2026, 1, 5, 15, 3, 22, tzinfo=UTC),
    ]
    assert r.assumed_time_zone is None


def test_naive_local_times_converted_and_zone_reported() -> None:
    # 09:00 in New York in January (UTC-5) is 14:00 UTC
    r = parse_datetime(pl.Series(["1/5/2026 9:00 AM"]), tz="America/New_York")
    assert r.value.to_list() == [dt.datetime(2026, 1, 5, 14, 0, tzinfo=UTC)]
    assert r.assumed_time_zone == "America/New_York"


def test_excel_serial_dates() -> None:
    # Excel day 46027 = 2026-01-05 (days since 1899-12-30); .5 = noon
    r = parse_datetime(pl.Series(["46027", "46027.5"]))
    assert r.value.to_list() == [
        dt.datetime(2026, 1, 5, tzinfo=UTC),
        dt.datetime(2026, 1, 5, 12, tzinfo=UTC),
    ]


def test_epoch_milliseconds() -> None:
    r = parse_datetime(pl.Series(["1767621802000"]))
    assert r.value.to_list() == [dt.datetime(2026, 1, 5, 14, 3, 22, tzinfo=UTC)]


def test_day_first_decided_from_the_data() -> None:
    r = parse_date(pl.Series(["13/01/2026", "02/01/2026"]))
    assert r.value.to_list() == [dt.date(2026, 1, 13), dt.date(2026, 1, 2)]
    assert any("day-first" in n for n in r.notes)


def test_month_first_decided_from_the_data() -> None:
    r = parse_date(pl.Series(["01/13/2026", "02/01/2026"]))
    assert r.value.to_list() == [dt.date(2026, 1, 13), dt.date(2026, 2, 1)]


def test_ambiguous_dates_are_refused_with_a_clear_message() -> None:
    with pytest.raises(SourceFormatError, match=r"Close Date.*pass `dayfirst=True`") as exc:
        parse_date(pl.Series(["01/02/2026", "03/04/2026"]), column="Close Date", path="x.csv")
    assert exc.value.column == "Close Date"
    # the user decides
    r = parse_date(pl.Series(["01/02/2026"]), dayfirst=True)
    assert r.value.to_list() == [dt.date(2026, 2, 1)]


def test_mixed_day_month_orders_refused() -> None:
    with pytest.raises(SourceFormatError, match="mixes day-first and month-first"):
        parse_date(pl.Series(["13/01/2026", "01/13/2026"]))


def test_bad_date_is_a_row_problem() -> None:
    r = parse_datetime(pl.Series(["2026-01-05", "not a date"]), column="CreatedDate")
    assert r.value[1] is None
    assert r.problem.to_list()[1] == "`CreatedDate`: cannot read 'not a date' as a date/time"


def test_parse_bool() -> None:
    r = parse_bool(pl.Series(["true", "FALSE", "1", "0", "Yes", "", "maybe"]))
    assert r.value.to_list() == [True, False, True, False, True, None, None]
    assert r.problem.drop_nulls().to_list() == ["cannot read 'maybe' as true/false"]


def test_map_columns_matches_api_allcaps_snake_and_label_names() -> None:
    fields = {"annual_revenue": ("AnnualRevenue",), "first_name": ("FirstName",)}
    dtypes = {"annual_revenue": pl.Float64(), "first_name": pl.String()}
    for names in (
        ("ANNUALREVENUE", "FIRSTNAME"),
        ("annual_revenue", "first_name"),
        ("Annual Revenue", "First Name"),
    ):
        raw = pl.DataFrame({names[0]: ["3.5E8"], names[1]: ["Ann"], "source_row": [2]})
        m = map_columns(raw, fields, dtypes)
        assert m.frame.row(0) == (350_000_000.0, "Ann", 2)


@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=20))
def test_number_formats_round_trip(cents: list[int]) -> None:
    # every amount written US style ("1,234.50") or European style ("1.234,50") reads back
    values = [c / 100 for c in cents]
    us = [f"{v:,.2f}" for v in values]
    eu = [f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".") for v in values]
    assert _num(us) == pytest.approx(values)
    assert _num(eu) == pytest.approx(values)


_NUMBER_TEXT = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.integers(-(10**12), 10**12).map(lambda v: f"{v:,}"),
    st.floats(-1e9, 1e9, allow_nan=False).map(lambda v: f"{v:,.3f}"),
    st.floats(-1e9, 1e9, allow_nan=False).map(lambda v: f"{v:.4f}"),
    st.sampled_from(["1,2", "1.2.3", "12,3456", "1,23", "-0", "007", ".5", "5.", "1e3"]),
)


@given(st.lists(_NUMBER_TEXT, min_size=1, max_size=12), st.sampled_from([".", ","]))
def test_plain_numbers_read_as_the_full_parser_reads_them(texts: list[str], mark: str) -> None:
    # the float-cast shortcut for plain columns gives the full clean-up's numbers
    if mark == ",":  # the same values written with the marks swapped
        texts = [t.replace(",", "_").replace(".", ",").replace("_", ".") for t in texts]
    s = pl.Series("v", texts, dtype=pl.String)
    assume(plain_numbers(s, mark))
    frame = pl.DataFrame({"v": s}).with_columns(clean_text(pl.col("v")))
    fast = frame.select(number_expr(pl.col("v"), decimal=mark, plain=True))["v"]
    full = frame.select(number_expr(pl.col("v"), decimal=mark))["v"]
    assert fast.to_list() == full.to_list()


@given(st.lists(st.tuples(_NUMBER_TEXT, _NUMBER_TEXT), min_size=1, max_size=6))
def test_decimal_marks_shortcut_agrees_with_the_counts(rows: list[tuple[str, str]]) -> None:
    # files without a comma or a second dot skip the counting; a text column with a
    # comma but no number evidence ("a,b") forces the counting without changing it
    frames = {c: pl.Series([r[i] for r in rows], dtype=pl.String) for i, c in enumerate("ab")}
    counted = decimal_marks({**frames, "forced": pl.Series(["a,b"] * len(rows))})
    assert decimal_marks(frames) == {k: counted[k] for k in frames}


_LAYOUTS = [
    "%Y-%m-%dT%H:%M:%S.000+0000",
    "%Y-%m-%dT%H:%M:%S+01:00",
    "%Y-%m-%dT%H:%M:%S.123Z",
    "%Y-%m-%d %H:%M:%S-05:00",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.250",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M",
]


@given(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2035, 12, 31)), st.sampled_from(_LAYOUTS))
def test_the_quick_look_never_rules_out_a_format_that_reads_the_value(
    when: dt.datetime, layout: str
) -> None:
    # the date-time plan tries the formats the look allows first; a format the look
    # rules out must not read the value, so the plan is the one every format in turn gives
    from closedloop_kit.io._parse import _FAST_AWARE, _FAST_NAIVE, _could_read

    text = when.strftime(layout)
    for fmt in (*_FAST_AWARE, *_FAST_NAIVE):
        zone = "UTC" if fmt in _FAST_AWARE else None
        read = pl.Series([text]).str.to_datetime(fmt, strict=False, time_unit="us", time_zone=zone)
        if read.null_count() == 0:
            assert _could_read(fmt, text), (fmt, text)


def test_map_columns_reads_odd_boolean_casing_and_empty_columns() -> None:
    # "tRuE" misses the fast lookup of usual casings and is re-read by parse_bool
    raw = pl.DataFrame(
        {
            "IsConverted": ["true", "FALSE", "tRuE", "Yes", "maybe"],
            "Empty": [None] * 5,
            "source_row": [2, 3, 4, 5, 6],
        },
        schema_overrides={"Empty": pl.String},
    )
    m = map_columns(
        raw,
        {"is_converted": ("IsConverted",), "converted_at": ("Empty",)},
        {"is_converted": pl.Boolean(), "converted_at": pl.Datetime("us", "UTC")},
    )
    assert m.frame["is_converted"].to_list() == [True, False, True, True, None]
    assert m.frame["converted_at"].null_count() == 5
    assert m.problem.to_list() == [None] * 4 + ["`IsConverted`: cannot read 'maybe' as true/false"]
