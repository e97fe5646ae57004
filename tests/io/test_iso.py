"""The numpy fixed-width ISO 8601 reader agrees with polars' strftime parser."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from closedloop_kit.io._iso import fixed_width_iso
from closedloop_kit.io._parse import datetime_expr, parse_datetime

UTC = dt.UTC

# (strftime layout written, polars format that reads it, has an offset)
LAYOUTS = [
    ("%Y-%m-%dT%H:%M:%S.{ms}{off}", "%Y-%m-%dT%H:%M:%S%.f%#z", True),  # Salesforce
    ("%Y-%m-%dT%H:%M:%S{off}", "%Y-%m-%dT%H:%M:%S%#z", True),
    ("%Y-%m-%d %H:%M:%S.{us}", "%Y-%m-%d %H:%M:%S%.f", False),  # warehouses
    ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", False),
    ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M", False),
    ("%Y-%m-%d", "%Y-%m-%d", False),
]


def _offset(minutes: int, style: int) -> str:
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return [f"{sign}{h:02d}{m:02d}", f"{sign}{h:02d}:{m:02d}"][style]


@given(
    st.lists(
        st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 30)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(range(len(LAYOUTS))),
    st.integers(-14 * 60, 14 * 60),
    st.integers(0, 1),
    st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_fast_path_equals_polars(
    stamps: list[dt.datetime], layout: int, offset: int, style: int, nulls: list[bool]
) -> None:
    # four-digit years (strftime writes year 999 as "999", which is not fixed-width)
    written, fmt, aware = LAYOUTS[layout]
    off = _offset(offset, style) if aware else ""
    text = [
        None
        if nulls[i]
        else t.strftime(
            written.format(ms=f"{t.microsecond // 1000:03d}", us="{us}", off=off)
        ).replace("{us}", f"{t.microsecond:06d}")
        for i, t in enumerate(stamps)
    ]
    s = pl.Series("t", text, dtype=pl.String)
    zone = "UTC" if aware else None
    expected = s.str.to_datetime(fmt, strict=False, time_unit="us", time_zone=zone)
    got = fixed_width_iso(s, aware=aware)
    if s.null_count() == s.len():
        assert got is None
        return
    assert got is not None
    assert got.to_list() == expected.to_list()


def test_known_values() -> None:
    # 2026-02-28 23:59:59.5 at -01:30 is 2026-03-01 01:29:59.5 UTC (2026 is no leap year)
    s = pl.Series(["2026-02-28T23:59:59.500-0130", "1970-01-01T00:00:00.000+0000"])
    assert fixed_width_iso(s, aware=True).to_list() == [  # type: ignore[union-attr]
        dt.datetime(2026, 3, 1, 1, 29, 59, 500_000, tzinfo=UTC),
        dt.datetime(1970, 1, 1, tzinfo=UTC),
    ]
    leap = pl.Series(["2024-02-29", "2000-02-29", "1600-03-01"])
    assert fixed_width_iso(leap, aware=False).to_list() == [  # type: ignore[union-attr]
        dt.datetime(2024, 2, 29),
        dt.datetime(2000, 2, 29),
        dt.datetime(1600, 3, 1),
    ]


def test_refuses_what_it_cannot_read_exactly() -> None:
    cases = [
        ["2026-02-29"],  # not a leap year
        ["1900-02-29"],  # century rule
        ["2026-13-01"],
        ["2026-01-01 24:00"],
        ["2026-01-01", "2026-1-01x"],  # widths differ
        ["2026-01-01", "2026/01/01"],  # separator differs
        ["2026-01-01T10:00:00.1234567Z"],  # more than 6 fraction digits
        ["2026-01-0é"],
    ]
    for values in cases:
        assert fixed_width_iso(pl.Series(values), aware=False) is None, values
    # offsets required when aware, forbidden when naive
    assert fixed_width_iso(pl.Series(["2026-01-01 10:00"]), aware=True) is None
    assert fixed_width_iso(pl.Series(["2026-01-01T10:00:00Z"]), aware=False) is None


def test_expression_falls_back_to_polars_for_other_layouts() -> None:
    s = pl.Series("t", ["2026-01-05T14:03:22+0000", "2026-01-05T14:03:22.5+0000"])
    got = pl.DataFrame({"t": s}).select(datetime_expr(pl.col("t"), "%Y-%m-%dT%H:%M:%S%.f%#z"))
    assert got["t"].to_list() == [
        dt.datetime(2026, 1, 5, 14, 3, 22, tzinfo=UTC),
        dt.datetime(2026, 1, 5, 14, 3, 22, 500_000, tzinfo=UTC),
    ]
    # and naive local times still go through the zone (09:00 New York = 14:00 UTC)
    r = parse_datetime(pl.Series(["2026-01-13 09:00:00"]), tz="America/New_York")
    assert r.value.to_list() == [dt.datetime(2026, 1, 13, 14, tzinfo=UTC)]
