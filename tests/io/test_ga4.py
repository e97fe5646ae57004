"""GA4 BigQuery export reader: nested event_params, sessions, identity links, bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._ga4_events import _unquote
from closedloop_kit.io.ga4 import read_ga4

T0 = 1_698_800_000_000_000  # 2023-11-01T00:53:20Z in µs


def ev(ts: int, name: str, upid: str | None, sid: int | None = None, params=None, **top):
    """One event in the BigQuery export's shape (INT64 written as JSON strings)."""
    event_params = []
    if sid is not None:
        event_params.append({"key": "ga_session_id", "value": {"int_value": str(sid)}})
    for k, v in (params or {}).items():
        kind = "int_value" if isinstance(v, int) else "string_value"
        event_params.append({"key": k, "value": {kind: v}})
    return {
        "event_date": "20231101",
        "event_timestamp": str(ts),
        "event_name": name,
        "event_params": event_params,
        "user_pseudo_id": upid,
        **top,
    }


def write(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def test_sessions_from_nested_params_without_session_start(tmp_path):
    # session 10 has no session_start: the first event (by time, not file order) sets
    # landing page, referrer and source
    events = [
        ev(T0 + 5_000_000, "scroll", "1234567890.1698765432", 10),
        ev(
            T0,
            "page_view",
            "1234567890.1698765432",
            10,
            {
                "page_location": "https://x.com/pricing?utm_source=google&utm_medium=cpc"
                "&utm_campaign=brand&gclid=abc",
                "page_referrer": "https://www.google.com/",
            },
        ),
        ev(T0 + 9_000_000, "page_view", "1234567890.1698765432", 10, {"page_location": "/b"}),
    ]
    res = read_ga4(write(tmp_path / "events_20231101.json", events))
    tp = res["touchpoints"]
    assert tp.height == 1
    row = tp.row(0, named=True)
    assert row["touchpoint_id"] == "ga4:1234567890.1698765432:10"
    assert row["anonymous_id"] == "ga4:1234567890.1698765432"  # kept as a string
    assert row["landing_page"].startswith("https://x.com/pricing")
    assert (row["source"], row["medium"], row["campaign_name"]) == ("google", "cpc", "brand")
    assert row["click_id"] == "gclid:abc"  # typed: "<parameter>:<value>"
    assert row["landing_page"] == "https://x.com/pricing"  # query string dropped
    assert row["referrer"] == "https://www.google.com/"
    assert str(row["occurred_at"]) == "2023-11-01 00:53:20+00:00"
    assert row["touch_type"] == "web_session"
    rep = res.report.row(0, named=True)
    # 3 events read = 1 session kept + 2 merged into it
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_merged"]) == (3, 1, 2)
    assert res.reconciles


def test_integer_timestamps_and_double_values(tmp_path):
    e = ev(T0, "page_view", "9.9", None)
    e["event_timestamp"] = T0  # an int, not a string
    e["event_params"] = [
        {"key": "ga_session_id", "value": {"int_value": 77}},
        {"key": "engagement_time_msec", "value": {"double_value": 1.5}},
    ]
    res = read_ga4(write(tmp_path / "events_20231101.json", [e]))
    assert res["touchpoints"]["session_id"].to_list() == ["ga4:9.9:77"]


def test_traffic_source_precedence(tmp_path):
    events = [
        # collected_traffic_source wins over the user's first-touch traffic_source
        ev(
            T0,
            "page_view",
            "1.1",
            1,
            {"ga_session_number": 1},
            collected_traffic_source={"manual_source": "linkedin", "manual_medium": "paid"},
            traffic_source={"source": "bing", "medium": "organic", "name": "(organic)"},
        ),
        # nothing collected: the user's first touch applies to their first session only
        ev(
            T0,
            "page_view",
            "2.2",
            2,
            {"ga_session_number": 1},
            traffic_source={"source": "bing", "medium": "organic", "name": "(organic)"},
        ),
        ev(
            T0,
            "page_view",
            "3.3",
            3,
            {"ga_session_number": 4},
            traffic_source={"source": "bing", "medium": "organic", "name": "(organic)"},
        ),
        # session_traffic_source_last_click fills in when nothing else is known
        ev(
            T0,
            "page_view",
            "4.4",
            4,
            session_traffic_source_last_click={
                "manual_campaign": {"source": "newsletter", "medium": "email"}
            },
        ),
    ]
    tp = read_ga4(write(tmp_path / "events_20231101.json", events))["touchpoints"].sort(
        "anonymous_id"
    )
    # session 3: nothing known (no source, referrer or click id): GA4 reports (direct)
    assert tp["source"].to_list() == ["linkedin", "bing", "(direct)", "newsletter"]
    assert tp["medium"].to_list() == ["paid", "organic", "(none)", "email"]


def test_form_events_become_form_fills_and_identity_links(tmp_path):
    events = [
        ev(T0, "page_view", "5.5", 50, {"page_location": "https://x.com/?utm_source=li"}),
        ev(T0 + 1, "generate_lead", "5.5", 50, {"crm_id": "001A0000006Vm9r"}, user_id="U-9"),
        ev(T0 + 2, "sign_up", "5.5", 50, {"email_sha256": "ABCDEF0123"}),
    ]
    res = read_ga4(write(tmp_path / "events_20231101.json", events))
    tp = res["touchpoints"]
    forms = tp.filter(pl.col("touch_type") == "form_fill").sort("occurred_at")
    assert forms.height == 2
    assert forms["source"].to_list() == ["li", "li"]  # inherited from the session
    links = res["identity_links"].sort("linked_id_type")
    assert links["id_value"].unique().to_list() == ["ga4:5.5"]
    got = dict(zip(links["linked_id_type"], links["linked_id_value"], strict=True))
    # a 15-char Salesforce id becomes the canonical 18-char key
    assert got == {
        "crm_id": "sf:001A0000006Vm9rIAC",
        "email_sha256": "abcdef0123",
        "user_id": "U-9",
    }
    assert res.reconciles


def test_events_without_session_are_rejected_not_fatal(tmp_path):
    events = [
        ev(T0, "page_view", "1.1", 1),
        ev(T0, "page_view", None, 1),  # consent-mode cookieless ping
        ev(T0, "user_engagement", "1.1", None),  # no ga_session_id
    ]
    res = read_ga4(write(tmp_path / "events_20231101.json", events))
    assert res["touchpoints"].height == 1
    assert sorted(res.rejected["source_row"].to_list()) == [2, 3]
    assert res.rejected["reason"].str.contains("user_pseudo_id").any()
    assert res.rejected["raw"].str.contains("user_engagement").any()
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_rejected"]) == (3, 1, 2)


def test_session_spanning_two_daily_files_is_one_touchpoint(tmp_path):
    write(tmp_path / "events_20231101.json", [ev(T0, "page_view", "7.7", 70)])
    write(tmp_path / "events_20231102.json", [ev(T0 + 60_000_000, "scroll", "7.7", 70)])
    res = read_ga4(tmp_path)
    assert res["touchpoints"].height == 1
    assert res.report["rows_read"].to_list() == [1, 1]
    assert res.report["rows_merged"].to_list() == [0, 1]
    assert res.reconciles


def test_gzip_and_parquet_exports(tmp_path):
    events = [ev(T0, "page_view", "8.8", 80, {"page_location": "https://x.com/"})]
    gz = tmp_path / "gz" / "events_20231101.json.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress((json.dumps(events[0]) + "\n").encode()))
    assert read_ga4(gz)["touchpoints"]["landing_page"].to_list() == ["https://x.com/"]
    # Parquet keeps the typed nesting: int_value is an INT64, event_timestamp an INT64
    value = pl.Struct(
        {
            "string_value": pl.String,
            "int_value": pl.Int64,
            "float_value": pl.Float64,
            "double_value": pl.Float64,
        }
    )
    frame = pl.DataFrame(
        {
            "event_timestamp": [T0],
            "event_name": ["page_view"],
            "user_pseudo_id": ["8.8"],
            "event_params": [
                [
                    {"key": "ga_session_id", "value": {"int_value": 80}},
                    {"key": "page_location", "value": {"string_value": "https://x.com/"}},
                ]
            ],
        },
        schema={
            "event_timestamp": pl.Int64,
            "event_name": pl.String,
            "user_pseudo_id": pl.String,
            "event_params": pl.List(pl.Struct({"key": pl.String, "value": value})),
        },
    )
    # nested traffic-source structs with more fields than the reader uses
    frame = frame.with_columns(
        pl.struct(
            pl.struct(
                pl.lit("newsletter").alias("source"),
                pl.lit("email").alias("medium"),
                pl.lit("nov").alias("campaign_name"),
                pl.lit("123").alias("campaign_id"),
            ).alias("manual_campaign"),
            pl.lit("x").alias("cross_channel_campaign"),
        ).alias("session_traffic_source_last_click")
    )
    pq = tmp_path / "events_20231101.parquet"
    frame.write_parquet(pq)
    tp = read_ga4(pq)["touchpoints"]
    assert tp["touchpoint_id"].to_list() == ["ga4:8.8:80"]
    assert tp.select("source", "medium", "campaign_name").row(0) == ("newsletter", "email", "nov")


def test_truncated_line_names_the_line(tmp_path):
    p = tmp_path / "events_20231101.json"
    good = json.dumps(ev(T0, "page_view", "1.1", 1))
    p.write_text(good + "\n" + good + "\n" + good[:40] + "\n")
    with pytest.raises(SourceFormatError, match="line 3") as info:
        read_ga4(p)
    assert info.value.line == 3
    assert info.value.path == str(p)


def test_wrong_file_is_refused_with_a_hint(tmp_path):
    p = tmp_path / "leads.csv"
    p.write_text("Id,Email\n00Q1,a@x.com\n")
    with pytest.raises(SourceFormatError, match="GA4"):
        read_ga4(p)
    j = tmp_path / "other.json"
    j.write_text('{"id": 1, "name": "x"}\n{"id": 2, "name": "y"}\n')
    with pytest.raises(SourceFormatError, match="event_timestamp"):
        read_ga4(j)


def test_doc_lists_every_mapping():
    from closedloop_kit.io._ga4_events import FORM_EVENTS, IDENTITY_PARAMS

    doc = (Path(__file__).parents[2] / "docs" / "howto-ga4.md").read_text()
    for name in [*FORM_EVENTS, *IDENTITY_PARAMS]:
        assert f"`{name}`" in doc, name


@pytest.mark.slow
def test_sample_export_matches_the_simulated_world(sample_data_dir):
    """Independent cross-check: the simulation knows the sessions it exported."""
    import closedloop_kit as clk

    if not (sample_data_dir / "ga4").is_dir():
        pytest.skip("sample_data/ not generated (make sample-data)")
    world = clk.datasets.make_b2b(seed=7, accounts=200, months=12)
    truth = world.data.frame("touchpoints").filter(pl.col("source_system") == "ga4")
    res = read_ga4(sample_data_dir / "ga4")
    assert res.reconciles
    got = res["touchpoints"]
    assert sorted(got["touchpoint_id"]) == sorted(truth["touchpoint_id"])
    both = truth.join(got, on="touchpoint_id", suffix="_read")
    sessions = both.filter(pl.col("touch_type") == "web_session")
    for col in ("occurred_at", "anonymous_id", "session_id", "user_id"):
        assert both[col].eq_missing(both[f"{col}_read"]).all(), col
    for col in ("source", "medium", "landing_page", "referrer"):
        assert sessions[col].eq_missing(sessions[f"{col}_read"]).all(), col
    key = ["id_type", "id_value", "linked_id_type", "linked_id_value", "rule"]
    want = world.data.frame("identity_links").filter(pl.col("source_system") == "ga4")
    assert res["identity_links"].select(key).sort(key).equals(want.select(key).sort(key))


def test_one_scan_keeps_each_files_line_numbers_with_blank_lines(tmp_path):
    # the second file has a blank line (skipped by the scan) before its bad event: the
    # rejected event is still reported on its own file's line 3
    write(tmp_path / "events_20231101.json", [ev(T0, "page_view", "1.1", 1)] * 2)
    second = tmp_path / "events_20231102.json"
    good = json.dumps(ev(T0 + 1, "scroll", "2.2", 2))
    bad = json.dumps(ev(T0 + 2, "scroll", "2.2", None))
    second.write_text(good + "\n\n" + bad + "\n")
    res = read_ga4([tmp_path / "events_20231101.json", second])
    rej = res.rejected
    assert rej.select("source_file", "source_row").rows() == [(str(second), 3)]
    tp = res["touchpoints"].sort("touchpoint_id")
    assert tp.select("source_file", "source_row").rows() == [
        (str(tmp_path / "events_20231101.json"), 1),
        (str(second), 1),
    ]
    # 2 + 2 events read; file 1: 1 session + 1 merged; file 2: 1 session + 1 rejected
    rep = res.report.select("rows_read", "rows_kept", "rows_rejected", "rows_merged").rows()
    assert rep == [(2, 1, 0, 1), (2, 1, 1, 0)]
    assert res.reconciles


def test_parquet_and_ndjson_in_one_read(tmp_path):
    write(tmp_path / "events_20231101.json", [ev(T0, "page_view", "3.3", 30)])
    frame = pl.DataFrame(
        {
            "event_timestamp": [T0 + 60_000_000],
            "event_name": ["generate_lead"],
            "user_pseudo_id": ["3.3"],
            "event_params": [
                [
                    {"key": "ga_session_id", "value": {"int_value": 30}},
                    {"key": "email_sha256", "value": {"string_value": "ABC"}},
                ]
            ],
        }
    )
    frame.write_parquet(tmp_path / "events_20231102.parquet")
    res = read_ga4(tmp_path)
    tp = res["touchpoints"]
    # the session spans both files; the Parquet form event is a form fill and a link
    assert tp.filter(pl.col("touch_type") == "web_session")["touchpoint_id"].to_list() == [
        "ga4:3.3:30"
    ]
    assert tp.filter(pl.col("touch_type") == "form_fill").height == 1
    links = res["identity_links"]
    assert links.select("linked_id_type", "linked_id_value", "source_row").rows() == [
        ("email_sha256", "abc", 1)
    ]
    assert res.reconciles


def test_streamed_and_in_memory_reads_agree(tmp_path, monkeypatch):
    import closedloop_kit.io.ga4 as ga4_module

    write(tmp_path / "events_20231101.json", [ev(T0, "page_view", "1.1", 1)] * 2)
    write(
        tmp_path / "events_20231102.json",
        [
            ev(T0 + 5, "generate_lead", "1.1", 1, {"crm_id": "001A0000006Vm9r"}),
            ev(T0 + 6, "scroll", "2.2", None),
        ],
    )
    small = read_ga4(tmp_path)  # tiny files: read into memory first
    monkeypatch.setattr(ga4_module, "IN_MEMORY_BYTES", 0)  # force the streaming scan
    streamed = read_ga4(tmp_path)
    key = ["touchpoint_id", "source_file", "source_row"]
    assert (
        small["touchpoints"]
        .select(key)
        .sort(key)
        .equals(streamed["touchpoints"].select(key).sort(key))
    )
    assert small.rejected.select("source_file", "source_row").equals(
        streamed.rejected.select("source_file", "source_row")
    )
    assert small.report.equals(streamed.report)
    assert streamed["identity_links"].height == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["\\", '"', "n", "r", "a", "é", "\\n", '\\"']), max_size=12))
def test_one_pass_unescape_equals_undoing_each_escape_in_turn(parts):
    """``_unquote`` undoes polars' three escapes in one pass: the same as one at a time."""
    raw = '"' + "".join(parts) + '"'
    frame = pl.DataFrame({"raw": [raw], "params": ["[...]"]})
    got = frame.select(_unquote(pl.col("raw"), pl.col("params"))).item()
    want = raw[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\r", "\r")
    assert got == want
