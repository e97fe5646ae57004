"""read_mapped: any CSV / Excel / Parquet through a YAML field-to-target mapping."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io.mapped import FieldMapping, read_mapped

SNOWPLOW_MAPPING = """
# Snowplow atomic events → touchpoints (one per event)
table: touchpoints
source_system: mapped
id_prefix: snowplow
columns:
  touchpoint_id: event_id
  anonymous_id: domain_userid
  session_id: [domain_userid, domain_sessionidx]
  user_id: user_id
  occurred_at: derived_tstamp
  source: mkt_source
  medium: mkt_medium
  campaign_name: mkt_campaign
  term: mkt_term
  content: mkt_content
  click_id: mkt_clickid
  referrer: page_referrer
  landing_page: page_urlpath
prefix_columns: [touchpoint_id, anonymous_id, session_id]
constants:
  touch_type: page_view
  is_marketing: true
values:
  medium: {"(none)": null}
  source: {"(direct)": null}
"""


def test_snowplow_events_through_a_yaml_mapping(shared_fixtures, tmp_path):
    events = (
        shared_fixtures
        / "dbt-snowplow-fractribution/integration_tests/data/source"
        / "snowplow_fractribution_events.csv"
    )
    mapping = tmp_path / "snowplow.yaml"
    mapping.write_text(SNOWPLOW_MAPPING)
    res = read_mapped(events, mapping)
    tp = res["touchpoints"]
    raw = pl.read_csv(events, infer_schema=False)
    assert res.reconciles
    assert tp.height + res.rejected.height == raw.height
    assert tp["touchpoint_id"].str.starts_with("snowplow:").all()
    assert tp.schema["occurred_at"] == pl.Datetime("us", "UTC")
    first = tp.filter(pl.col("source_id") == "f36c0fc6-ccb6-4da7-b93d-eea08061db3d").row(
        0, named=True
    )
    assert first["anonymous_id"] == "snowplow:f000170187170673177"
    assert first["session_id"] == "snowplow:f000170187170673177:1"
    assert first["medium"] is None  # "(none)" mapped to null
    assert first["source"] is None
    assert str(first["occurred_at"]) == "2022-06-10 15:28:23+00:00"


def test_constants_value_maps_formats_time_zone_and_prefix(tmp_path):
    p = tmp_path / "booth_scans.csv"
    p.write_text(
        "Badge;Scanned;Booth;Spend\n"
        "B-1;05.03.2026 14:00;Hall A;1.234,50\n"
        "B-2;06.03.2026 09:30;Hall B;99,00\n"
    )
    m = {
        "table": "touchpoints",
        "id_prefix": "expo",
        "columns": {"touchpoint_id": "Badge", "person_id": "Badge", "occurred_at": "Scanned"},
        "constants": {"touch_type": "event", "channel": "Trade Show", "is_marketing": True},
        "values": {},
        "formats": {"occurred_at": "%d.%m.%Y %H:%M"},
        "time_zone": "Europe/Berlin",
    }
    res = read_mapped(p, m)
    tp = res["touchpoints"].sort("touchpoint_id")
    assert tp["person_id"].to_list() == ["expo:B-1", "expo:B-2"]
    # 14:00 in Berlin (CET, UTC+1) is 13:00 UTC
    assert tp["occurred_at"][0] == dt.datetime(2026, 3, 5, 13, 0, tzinfo=dt.UTC)
    assert tp["channel"].to_list() == ["Trade Show", "Trade Show"]
    assert res.report["time_zone_assumed"].to_list() == ["Europe/Berlin"]


def test_spend_with_localized_numbers_and_bad_row(tmp_path):
    p = tmp_path / "events_cost.csv"
    p.write_text('Day,Program,Cost,Cur\n2026-01-05,Expo,"1,234.50",USD\n2026-01-06,Expo,lots,USD\n')
    m = {
        "table": "spend",
        "columns": {
            "date": "Day",
            "ad_campaign_name": "Program",
            "cost": "Cost",
            "currency": "Cur",
        },
        "constants": {"platform": "events"},
    }
    res = read_mapped(p, m)
    assert res["spend"]["cost"].to_list() == [1234.5]
    assert res.rejected["source_row"].to_list() == [3]
    assert "lots" in res.rejected["reason"].item()
    assert res.reconciles


def test_excel_and_parquet(tmp_path):
    frame = pl.DataFrame({"Id": ["L1", "L2"], "Mail": ["A@x.com", "b@y.com"], "Kind": ["l", "l"]})
    m = {
        "table": "people",
        "columns": {"person_id": "Id", "email": "Mail", "person_type": "Kind"},
        "values": {"person_type": {"l": "lead"}},
    }
    openpyxl = pytest.importorskip("openpyxl")
    xlsx = tmp_path / "people.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(frame.columns)
    for row in frame.rows():
        ws.append(list(row))
    wb.save(xlsx)
    res = read_mapped(xlsx, m)
    assert res["people"]["person_id"].to_list() == ["map:L1", "map:L2"]
    assert res["people"]["person_type"].to_list() == ["lead", "lead"]
    pq = tmp_path / "people.parquet"
    frame.write_parquet(pq)
    assert read_mapped(pq, m)["people"].height == 2


def test_missing_column_names_file_and_columns(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("Id,Email\n1,a@x.com\n")
    m = {
        "table": "people",
        "columns": {"person_id": "Id", "email": "E-mail"},
        "constants": {"person_type": "lead"},
    }
    with pytest.raises(SourceFormatError, match=r"x\.csv.*'E-mail'.*\['Id', 'Email'\]") as info:
        read_mapped(p, m)
    assert info.value.column == "E-mail"


def test_mapping_errors():
    with pytest.raises(ValueError, match="table"):
        FieldMapping.parse({"table": "nope", "columns": {}})
    with pytest.raises(ValueError, match="does not have"):
        FieldMapping.parse({"table": "people", "columns": {"colour": "c"}})
    with pytest.raises(ValueError, match="unknown key"):
        FieldMapping.parse({"table": "people", "columns": {}, "colums": {}})
    with pytest.raises(ValueError, match=r"required column\(s\) \['is_marketing'\]"):
        FieldMapping.parse(
            {
                "table": "touchpoints",
                "columns": {"touchpoint_id": "a", "occurred_at": "b"},
                "constants": {"touch_type": "x"},
            }
        )


def test_excel_serial_dates_nbsp_numbers_and_ambiguous_dates(tmp_path):
    p = tmp_path / "costs.csv"
    # 46027 is 2026-01-05 as an Excel serial day; "1\u00a0234,50" has an NBSP thousands sep
    p.write_text("Day;Cost;Cur\n46027;1\u00a0234,50;EUR\n46028;10,00;EUR\n", encoding="utf-8")
    m = {
        "table": "spend",
        "columns": {"date": "Day", "cost": "Cost", "currency": "Cur"},
        "constants": {"platform": "events"},
    }
    s = read_mapped(p, m)["spend"].sort("date")
    assert s["date"].to_list() == [dt.date(2026, 1, 5), dt.date(2026, 1, 6)]
    assert s["cost"].to_list() == [1234.5, 10.0]
    q = tmp_path / "ambiguous.csv"
    q.write_text("Day,Cost,Cur\n01/02/2026,1,USD\n03/04/2026,2,USD\n")
    with pytest.raises(SourceFormatError, match="dayfirst"):
        read_mapped(q, m)
    m2 = {**m, "dayfirst": True}
    assert read_mapped(q, m2)["spend"]["date"].to_list() == [
        dt.date(2026, 2, 1),
        dt.date(2026, 4, 3),
    ]


def test_tz_applies_when_the_mapping_names_no_zone(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("Email,When\na@x.com,2026-01-05 09:00\n")
    m = {
        "table": "touchpoints",
        "columns": {"touchpoint_id": "Email", "person_id": "Email", "occurred_at": "When"},
        "constants": {"touch_type": "webinar", "is_marketing": True},
    }
    got = read_mapped(p, m, tz="America/New_York")["touchpoints"]["occurred_at"][0]
    assert got == dt.datetime(2026, 1, 5, 14, 0, tzinfo=dt.UTC)  # 09:00 EST = 14:00 UTC
    fixed = read_mapped(p, {**m, "time_zone": "UTC"}, tz="America/New_York")
    assert fixed["touchpoints"]["occurred_at"][0] == dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
