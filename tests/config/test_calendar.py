import datetime as dt

import polars as pl
import pytest

from closedloop_kit.config import FiscalCalendar, Window, parse_duration


@pytest.mark.parametrize(
    ("start", "day", "label"),
    [
        (1, dt.date(2026, 1, 1), "2026Q1"),
        (1, dt.date(2026, 12, 31), "2026Q4"),
        # FY starts Feb: Feb–Apr is Q1 of the FY ending next January
        (2, dt.date(2026, 2, 1), "2027Q1"),
        (2, dt.date(2026, 1, 31), "2026Q4"),
        (2, dt.date(2026, 5, 1), "2027Q2"),
        # FY starts Oct (US federal style): Oct 2025 is FY2026 Q1
        (10, dt.date(2025, 10, 15), "2026Q1"),
        (10, dt.date(2026, 9, 30), "2026Q4"),
    ],
)
def test_quarter_labels(start, day, label):
    cal = FiscalCalendar(start_month=start)
    assert cal.quarter_label(day) == label
    expr_label = pl.select(cal.period_expr(pl.lit(day), "quarter")).item()
    assert expr_label == label
    # the quarter's start date maps back to the same label
    assert cal.quarter_label(cal.quarter_start(label)) == label


def test_name_by_start():
    cal = FiscalCalendar(start_month=4, name_by="start")
    assert cal.quarter_label(dt.date(2026, 4, 1)) == "2026Q1"
    assert cal.quarter_label(dt.date(2027, 3, 31)) == "2026Q4"


def test_shift_quarter_two_quarters_ahead():
    # a six-month cycle targeting 2027Q1 bookings needs funding in 2026Q3
    assert FiscalCalendar().shift_quarter("2027Q1", -2) == "2026Q3"
    assert FiscalCalendar().shift_quarter("2026Q4", 1) == "2027Q1"


def test_bad_values():
    with pytest.raises(ValueError, match="`start_month` must be between 1 and 12, got 13"):
        FiscalCalendar(start_month=13)
    with pytest.raises(ValueError, match="quarter label must look like"):
        FiscalCalendar().quarter_start("2026-Q5")
    with pytest.raises(ValueError, match="`lookback` must look like"):
        parse_duration("ninety days")


def test_durations():
    assert parse_duration("90d") == dt.timedelta(days=90)
    assert parse_duration("6mo") == dt.timedelta(days=182.625)
    assert Window("2w").duration == dt.timedelta(days=14)


def test_config_yaml_errors_name_the_line(tmp_path):
    from closedloop_kit.config import ChannelRules, IdentityRules, Taxonomy

    bad = tmp_path / "taxonomy.yaml"
    bad.write_text("stages: [lead, deal\nexits: [lost]\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"taxonomy YAML \(.*taxonomy.yaml\) is not valid YAML at line"
    ):
        Taxonomy.from_yaml(bad)
    with pytest.raises(ValueError, match="channel rules YAML"):
        ChannelRules.from_yaml("rules: [ {")
    with pytest.raises(ValueError, match="identity rules YAML"):
        IdentityRules.from_yaml("a: b: c")
