"""read_calls: CallRail-style call-tracking exports (UI labels and API/warehouse columns)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io import read_calls

UTC = dt.UTC


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


UI = (
    "Start Time,Name,Phone Number,Email,Tracking Number,Source,Medium,Campaign,Keywords,"
    "Landing Page,Duration,Call Status,Lead Status,First-Time Caller,Call ID\n"
    "2026-01-05 14:03,Ann Lee,+1 (555) 123-4567,Ann@X.com,(555) 000-1111,Google Ads,cpc,"
    "Brand,closed loop,https://x.com/pricing,95,Answered Call,Good Lead,true,CAL001\n"
    "2026-01-06 09:30,,Restricted,,(555) 000-1111,Direct,,,,,0,Missed Call,,true,CAL002\n"
)


def test_ui_export_calls_touches_and_links(tmp_path: Path) -> None:
    res = read_calls(_write(tmp_path, "callrail_calls.csv", UI), tz="America/New_York")
    assert res.reconciles
    a = res["activities"].sort("activity_id")
    assert a["activity_id"].to_list() == ["call:CAL001", "call:CAL002"]
    assert a["type"].unique().to_list() == ["call"]
    assert a["status"].to_list() == ["Answered Call", "Missed Call"]
    assert a["outcome"].to_list() == ["Good Lead", None]
    assert a["duration_seconds"].to_list() == [95, 0]
    # 14:03 in New York (UTC-5 in January) is 19:03 UTC
    assert a["occurred_at"][0] == dt.datetime(2026, 1, 5, 19, 3, tzinfo=UTC)
    t = res["touchpoints"]
    # the blocked caller has no number: an activity, but no touch of anyone
    assert t.height == 1
    row = t.row(0, named=True)
    assert row["anonymous_id"] == "call:+15551234567"
    assert (row["touch_type"], row["medium"], row["term"]) == ("call", "cpc", "closed loop")
    assert row["landing_page"] == "https://x.com/pricing"
    link = res["identity_links"].row(0, named=True)
    assert (link["id_value"], link["linked_id_type"], link["linked_id_value"]) == (
        "call:+15551234567",
        "email",
        "ann@x.com",
    )
    assert "without a caller number" in res.report["notes"][0]


def test_api_columns_and_detection_in_a_folder(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "calls.csv",
        "id,answered,customer_name,customer_phone_number,direction,duration,start_time,"
        "tracking_phone_number,source,medium,campaign,gclid,lead_status,formatted_call_type\n"
        "CAL9,false,Bo Ng,+4930123456,inbound,12,2026-02-01T08:00:00Z,+4930999,Google Ads,cpc,"
        "Generic,Cj0KCQ,,\n",
    )
    data = clk.load(tmp_path, progress=False)
    assert data.load_report["reader"].to_list() == ["calls"]
    a = data.activities.row(0, named=True)
    assert a["status"] == "Missed"  # `answered` false and no formatted type
    assert a["direction"] == "inbound"
    assert a["source_system"] == "call_tracking"
    t = data.touchpoints.row(0, named=True)
    assert (t["click_id"], t["anonymous_id"]) == ("Cj0KCQ", "call:+4930123456")
    assert data.identity_links.height == 0


def test_a_file_without_caller_numbers_is_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, "calls.csv", "Start Time,Duration,Tracking Number\n2026-01-05 14:03,9,1\n")
    with pytest.raises(SourceFormatError, match="Phone Number"):
        read_calls(p)


def test_hubspot_call_exports_are_not_call_tracking(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "calls.csv",
        "Record ID,Call Title,Activity date,Call outcome,Call duration,Create Date\n"
        "1,Call,2026-01-05 14:03,Connected,60000,2026-01-05 14:03\n",
    )
    data = clk.load(tmp_path, progress=False)
    assert data.load_report["reader"].to_list() == ["hubspot"]
    assert data.activities.filter(pl.col("duration_seconds") == 60).height == 1
