"""GA4 as a flattened events table (Fivetran ``event``, dbt-ga4 ``base_ga4__events``).

The same events written in the BigQuery export's nested shape and in the flattened
shapes must give the same touchpoints, identity links and rejects.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io.ga4 import read_ga4

T0 = 1_698_800_000_123_456  # 2023-11-01T00:53:20.123456Z in µs
LINEAGE = ["source_file", "source_row"]

# (µs offset, event, visitor, session, number, params, user_id, collected source/medium,
#  first-touch source/medium/name)
EVENTS: list[dict] = [
    {
        "t": 0,
        "name": "page_view",
        "upid": "111.222",
        "sid": "1698800000",
        "num": "1",
        "params": {
            "page_location": "https://x.com/pricing?utm_source=google&utm_medium=cpc"
            "&utm_campaign=Brand&gclid=abc",
            "page_referrer": "https://www.google.com/",
        },
        "first": ("google", "cpc", "Brand"),
    },
    {"t": 4_000_000, "name": "scroll", "upid": "111.222", "sid": "1698800000", "num": "1"},
    {
        "t": 9_000_001,
        "name": "generate_lead",
        "upid": "111.222",
        "sid": "1698800000",
        "num": "1",
        "params": {"page_location": "https://x.com/demo", "crm_id": "00Q5e00000AbCdE"},
        "user_id": "u-1",
    },
    {
        # a later session: first-touch source must not colour it; collected source does
        "t": 86_400_000_000,
        "name": "page_view",
        "upid": "111.222",
        "sid": "1698886400",
        "num": "2",
        "params": {"page_location": "https://x.com/blog"},
        "collected": ("linkedin", "paid_social", "Q4 ABM"),
        "first": ("google", "cpc", "Brand"),
    },
    {
        "t": 60_000_000,
        "name": "page_view",
        "upid": "333.444",
        "sid": "1698800060",
        "num": "1",
        "params": {
            "page_location": "https://x.com/",
            "page_referrer": "https://news.ycombinator.com/",
        },
    },
    # rejected: no session, no visitor (consent-mode ping)
    {"t": 70_000_000, "name": "page_view", "upid": "333.444", "sid": None, "num": None},
    {"t": 80_000_000, "name": "page_view", "upid": None, "sid": "1698800080", "num": "1"},
]


def _nested(e: dict) -> dict:
    params = []
    if e["sid"] is not None:
        params.append({"key": "ga_session_id", "value": {"int_value": e["sid"]}})
    if e["num"] is not None:
        params.append({"key": "ga_session_number", "value": {"int_value": e["num"]}})
    params += [{"key": k, "value": {"string_value": v}} for k, v in e.get("params", {}).items()]
    out = {
        "event_date": "20231101",
        "event_timestamp": str(T0 + e["t"]),
        "event_name": e["name"],
        "event_params": params,
        "user_pseudo_id": e["upid"],
        "user_id": e.get("user_id"),
    }
    if "collected" in e:
        s, m, c = e["collected"]
        out["collected_traffic_source"] = {
            "manual_source": s,
            "manual_medium": m,
            "manual_campaign_name": c,
        }
    if "first" in e:
        s, m, c = e["first"]
        out["traffic_source"] = {"source": s, "medium": m, "name": c}
    return out


def _ts_text(us: int) -> str:
    when = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


def _fivetran(e: dict) -> dict[str, str | None]:
    """The event as a row of Fivetran's GA4 Export ``event`` table (columns mode)."""
    p = e.get("params", {})
    collected = e.get("collected", (None, None, None))
    first = e.get("first", (None, None, None))
    return {
        "_fivetran_id": f"{e['upid']}-{e['t']}",
        "_fivetran_synced": "2023-11-03 04:00:00",
        "date": "2023-11-01",
        "name": e["name"],
        "timestamp": _ts_text(T0 + e["t"]),
        "user_pseudo_id": e["upid"],
        "user_id": e.get("user_id"),
        "param_ga_session_id": None if e["sid"] is None else f"{e['sid']}.0",  # a FLOAT column
        "param_ga_session_number": e["num"],
        "param_page_location": p.get("page_location"),
        "param_page_referrer": p.get("page_referrer"),
        "param_crm_id": p.get("crm_id"),
        "collected_traffic_source_manual_source": collected[0],
        "collected_traffic_source_manual_medium": collected[1],
        "collected_traffic_source_manual_campaign_name": collected[2],
        "traffic_source_source": first[0],
        "traffic_source_medium": first[1],
        "traffic_source_name": first[2],
        "is_intraday": "false",
    }


def _dbt_ga4(e: dict) -> dict[str, object]:
    """The event as a row of dbt-ga4's ``base_ga4__events`` (typed, as in Parquet)."""
    p = e.get("params", {})
    collected = e.get("collected", (None, None, None))
    first = e.get("first", (None, None, None))
    return {
        "event_date_dt": dt.date(2023, 11, 1),
        "event_timestamp": T0 + e["t"],
        "event_name": e["name"],
        "user_pseudo_id": e["upid"],
        "user_id": e.get("user_id"),
        "session_id": None if e["sid"] is None else int(e["sid"]),
        "session_number": None if e["num"] is None else int(e["num"]),
        "page_location": p.get("page_location"),
        "page_referrer": p.get("page_referrer"),
        "param_crm_id": p.get("crm_id"),
        "user_source": first[0],
        "user_medium": first[1],
        "user_campaign": first[2],
        "collected_traffic_source_manual_source": collected[0],
        "collected_traffic_source_manual_medium": collected[1],
        "collected_traffic_source_manual_campaign_name": collected[2],
    }


def _write_nested(tmp_path: Path) -> Path:
    p = tmp_path / "events_20231101.json"
    p.write_text("".join(json.dumps(_nested(e)) + "\n" for e in EVENTS), encoding="utf-8")
    return p


def _write_fivetran(tmp_path: Path) -> Path:
    p = tmp_path / "event.csv"
    pl.DataFrame([_fivetran(e) for e in EVENTS]).write_csv(p)
    return p


def _sorted(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    return frame.drop(LINEAGE).sort(key, "rule" if "rule" in frame.columns else key)


def _assert_same(got: clk.io.LoadResult, want: clk.io.LoadResult) -> None:
    for table, key in (("touchpoints", "touchpoint_id"), ("identity_links", "id_value")):
        assert got[table].height == want[table].height > 0
        assert _sorted(got[table], key).equals(_sorted(want[table], key)), table
    assert sorted(got.rejected["reason"].to_list()) == sorted(want.rejected["reason"].to_list())
    assert got.reconciles
    assert want.reconciles


def test_fivetran_event_table_gives_the_same_touchpoints_as_the_export(tmp_path: Path) -> None:
    want = read_ga4(_write_nested(tmp_path))
    got = read_ga4(_write_fivetran(tmp_path))
    _assert_same(got, want)
    tp = got["touchpoints"].sort("touchpoint_id")
    # the session of 111.222 on day 1: UTM source, landing page without query, gclid
    first = tp.filter(pl.col("touchpoint_id") == "ga4:111.222:1698800000").row(0, named=True)
    assert (first["source"], first["medium"], first["campaign_name"]) == ("google", "cpc", "Brand")
    assert first["landing_page"] == "https://x.com/pricing"
    assert first["click_id"] == "gclid:abc"
    # lineage: the CSV line (header on line 1), where the NDJSON has the event number
    assert first["source_row"] == 2
    assert want["touchpoints"].filter(pl.col("touchpoint_id") == first["touchpoint_id"])[
        "source_row"
    ].to_list() == [1]
    rej = got.rejected.sort("source_row")
    assert rej["source_row"].to_list() == [7, 8]
    assert rej["source_file"].to_list() == [str(tmp_path / "event.csv")] * 2
    rep = got.report.filter(pl.col("object") == "events").row(0, named=True)
    assert rep["format"] == "ga4 flattened events table (csv)"
    assert rep["time_zone_assumed"] == "UTC"
    assert "`timestamp` → event_timestamp" in rep["notes"]
    assert (rep["rows_read"], rep["rows_rejected"]) == (7, 2)


def test_dbt_ga4_parquet_gives_the_same_touchpoints_as_the_export(tmp_path: Path) -> None:
    want = read_ga4(_write_nested(tmp_path))
    p = tmp_path / "base_ga4__events.parquet"
    pl.DataFrame([_dbt_ga4(e) for e in EVENTS]).write_parquet(p)
    got = read_ga4(p)
    _assert_same(got, want)
    # integers are GA4's microseconds: no zone to assume
    assert got.report["time_zone_assumed"].to_list()[0] is None
    assert got.report["format"][0] == "ga4 flattened events table (parquet)"


def test_warehouse_event_table_through_clk_load(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    want = read_ga4(_write_nested(tmp_path))
    csv = _write_fivetran(tmp_path)
    db = tmp_path / "ga4.db"
    con = duckdb.connect(str(db))
    con.execute("create schema google_analytics_4_export")
    # typed as the connector lands it: `timestamp` a TIMESTAMP, the session id a DOUBLE
    con.execute(
        "create table google_analytics_4_export.event as select * replace "
        '("timestamp"::timestamp as "timestamp", param_ga_session_id::double as '
        f"param_ga_session_id) from read_csv('{csv}', all_varchar = true)"
    )
    con.close()
    data = clk.load(f"duckdb:///{db}", progress=False)
    assert data.load_report["reader"].unique().to_list() == ["ga4"]
    got_tp = data.touchpoints.select(want["touchpoints"].columns)
    assert _sorted(got_tp, "touchpoint_id").equals(_sorted(want["touchpoints"], "touchpoint_id"))
    assert data.touchpoints["source_file"].str.ends_with("#google_analytics_4_export.event").all()
    assert sorted(data.rejected["reason"].to_list()) == sorted(want.rejected["reason"].to_list())


def test_load_detects_a_flattened_csv_in_a_folder(tmp_path: Path) -> None:
    _write_fivetran(tmp_path)
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    res = clk.io.read_ga4(tmp_path)  # the folder: only the GA4 table is taken
    assert res.report["path"].unique().to_list() == [str(tmp_path / "event.csv")]
    data = clk.load(tmp_path, progress=False)
    assert data.load_report.filter(pl.col("reader") == "ga4")["path"].unique().to_list() == [
        str(tmp_path / "event.csv")
    ]


def test_unreadable_and_implausible_times_are_rejected_with_the_reason(tmp_path: Path) -> None:
    p = tmp_path / "event.csv"
    p.write_text(
        "name,timestamp,user_pseudo_id,param_ga_session_id\n"
        "page_view,2023-11-01 10:00:00+00:00,1.1,10\n"
        "page_view,soon,1.1,10\n"
        "page_view,1698800000000,1.1,11\n"  # milliseconds: never read as µs (1970)
        "page_view,1698800000000000,1.1,12\n"
    )
    res = read_ga4(p)
    assert res["touchpoints"]["touchpoint_id"].sort().to_list() == ["ga4:1.1:10", "ga4:1.1:12"]
    rej = res.rejected.sort("source_row")
    assert rej["source_row"].to_list() == [3, 4]
    assert "cannot read 'soon'" in rej["reason"][0]
    assert "outside the plausible dates" in rej["reason"][1]
    assert "milliseconds or seconds" in rej["reason"][1]
    # offsets given: nothing assumed
    assert res.report["time_zone_assumed"][0] is None
    assert res.reconciles


def test_a_table_that_is_not_ga4_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "event.csv"
    p.write_text("name,timestamp,visitor\npage_view,2023-11-01,1\n")
    with pytest.raises(SourceFormatError, match="expected a flattened GA4 events table"):
        read_ga4(p)


def test_fivetran_fixture_reads_every_row(shared_fixtures: Path) -> None:
    # Fivetran's own sample of the connector's `event` table (dbt_ga4_export seeds):
    # a duplicated `param_session_engaged` header, session ids that are not numbers
    seed = shared_fixtures / "dbt_ga4_export" / "integration_tests" / "seeds" / "event_data.csv"
    res = read_ga4(seed)
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_merged"]) == (6, 5, 1)
    assert res.rejected.height == 0
    assert "named twice" in rep["notes"]
    tp = res["touchpoints"].sort("source_row")
    assert tp["touchpoint_id"][0] == "ga4:pseudo_123:session_123"
    # user 456's two events (12:40 and 12:42) are one session, first event on line 3
    s456 = tp.filter(pl.col("anonymous_id") == "ga4:pseudo_456").row(0, named=True)
    assert (s456["source_row"], s456["source"], s456["medium"]) == (3, "source1", "paid_search")
    assert str(s456["occurred_at"]) == "2024-09-10 12:40:00+00:00"
