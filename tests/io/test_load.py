"""clk.load: folders, YAML configs, FX conversion, reconciliation, progress."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit._core.money import convert_to_corporate
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.schema import salesforce_id18

OPP = salesforce_id18("0065e00000AbCdE")
OPP2 = salesforce_id18("0065e00000AbCdF")


def _opps(folder: Path) -> Path:
    p = folder / "Opportunity.csv"
    p.write_text(
        "Id,Name,StageName,Amount,CurrencyIsoCode,CloseDate\n"
        f"{OPP},A,Closed Won,100,EUR,2026-01-15\n"
        f"{OPP2},B,Prospecting,50,USD,2026-01-20\n"
    )
    return p


def test_folder_reports_every_file_and_reconciles(tmp_path: Path) -> None:
    _opps(tmp_path)
    (tmp_path / "readme.txt").write_text("hello")
    (tmp_path / "Case.json").write_text('{"records": [{"attributes": {"type": "Case"}}]}')
    data = clk.load(tmp_path, progress=False)
    r = data.load_report.sort("path")
    assert r["reader"].to_list() == ["unknown", "salesforce", "unknown"]
    assert "not part of the canonical model" in r["notes"][0]
    assert "no reader recognised" in r["notes"][2]
    assert (r["rows_read"] == r["rows_kept"] + r["rows_rejected"] + r["rows_merged"]).all()


def test_multi_currency_converted_with_dated_rates_missing_rate_rejected(
    tmp_path: Path,
) -> None:
    _opps(tmp_path)
    (tmp_path / "DatedConversionRate.csv").write_text(
        "Id,IsoCode,ConversionRate,StartDate,NextStartDate\n"
        "04w5e00000AbCdE,EUR,0.8,2026-01-01,2026-01-10\n"
        "04w5e00000AbCdF,USD,1,2025-01-01,\n"
    )
    data = clk.load(tmp_path, progress=False)
    assert data.corporate_currency == "USD"
    # EUR rate ends 2026-01-10: the EUR opportunity closing 2026-01-15 has no rate
    opps = data.frame("opportunities")
    assert opps["opportunity_id"].to_list() == [f"sf:{OPP2}"]
    assert opps["amount_corporate"].to_list() == [50.0]
    rej = data.rejected.filter(pl.col("table") == "opportunities")
    assert rej["reason"].to_list() == ["no fx rate EUR→USD on 2026-01-15"]
    r = data.load_report.filter(pl.col("object") == "Opportunity").row(0, named=True)
    assert (r["rows_kept"], r["rows_rejected"]) == (1, 1)


def test_convert_to_corporate_known_values() -> None:
    fx = pl.DataFrame(
        {
            "currency": ["EUR", "EUR"],
            "valid_from": [dt.date(2026, 1, 1), dt.date(2026, 2, 1)],
            "valid_to": [dt.date(2026, 2, 1), None],
            "rate_to_corporate": [1.25, 1.5],
        }
    )
    frame = pl.DataFrame(
        {
            "amount": [100.0, 100.0],
            "currency": ["EUR", "EUR"],
            "d": [dt.date(2026, 1, 31), dt.date(2026, 2, 1)],
        }
    )
    out, problem = convert_to_corporate(
        frame, fx, amount="amount", out="usd", date=pl.col("d"), corporate_currency="USD"
    )
    # 100 EUR × 1.25 on Jan 31 (first rate), × 1.5 from Feb 1 (valid_to is exclusive)
    assert out["usd"].to_list() == [125.0, 150.0]
    assert problem.null_count() == 2


def test_yaml_config(tmp_path: Path) -> None:
    crm = tmp_path / "crm"
    crm.mkdir()
    _opps(crm)
    (crm / "Lead.csv").write_text(
        "Id,LastName,Company,Status,CreatedDate\n00Q5e00000AbCdE,A,B,Open,1/13/2026 9:00 AM\n"
    )
    cfg = tmp_path / "load.yaml"
    cfg.write_text(
        "corporate_currency: USD\n"
        "time_zone: America/New_York\n"
        "fx_rates:\n"
        "  - {currency: EUR, valid_from: 2026-01-01, rate_to_corporate: 1.1}\n"
        "sources:\n"
        "  - path: crm/\n"
        "    reader: salesforce\n"
    )
    data = clk.load(cfg, progress=False)
    assert data.frame("opportunities").sort("opportunity_id")["amount_corporate"].to_list() == (
        pytest.approx([110.0, 50.0])
    )
    assert data.frame("people")["created_at"].to_list() == [
        dt.datetime(2026, 1, 13, 14, tzinfo=dt.UTC)
    ]
    assert set(data.load_report["time_zone_assumed"].drop_nulls()) == {"America/New_York"}


def test_bad_config(tmp_path: Path) -> None:
    cfg = tmp_path / "load.yaml"
    cfg.write_text("corporate_currency: USD\n")
    with pytest.raises(SourceFormatError, match="needs a `sources` list"):
        clk.load(cfg)


def test_duplicate_keys_across_files_are_merged_in_report(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _opps(a)
    _opps(b)
    data = clk.load(tmp_path, progress=False, corporate_currency="EUR")
    r = data.load_report.sort("path")
    assert r["rows_merged"].to_list() == [0, 2]
    assert data.frame("opportunities").height <= 2


def test_progress_bar_on_multi_file_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bar where a person watches (notebook, terminal); silent in a log or if asked."""
    import closedloop_kit._core.progress as progress

    _opps(tmp_path)
    (tmp_path / "Lead.csv").write_text("Id,LastName,Company,Status\n00Q5e00000AbCdE,A,B,Open\n")
    clk.load(tmp_path, progress=True, corporate_currency="EUR")
    assert capsys.readouterr().err == ""  # pytest captures stderr: not a terminal
    monkeypatch.setattr(progress, "interactive", lambda: True)
    clk.load(tmp_path, progress=True, corporate_currency="EUR")
    assert "loading" in capsys.readouterr().err
    clk.load(tmp_path, progress=False, corporate_currency="EUR")
    assert capsys.readouterr().err == ""


def test_load_result_repr_html(tmp_path: Path) -> None:
    from closedloop_kit.io import read_salesforce

    res = read_salesforce(_opps(tmp_path))
    html = res._repr_html_()
    assert "LoadResult" in html
    assert "Opportunity" in html
    assert res.summary()["rows"].to_list() == [2]


DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize(
    ("page", "module"),
    [("howto-salesforce.md", "_salesforce_map"), ("howto-hubspot.md", "_hubspot_map")],
)
def test_howto_mapping_tables_match_the_code(page: str, module: str) -> None:
    import importlib

    objects = importlib.import_module(f"closedloop_kit.io.{module}").OBJECTS
    text = (DOCS / page).read_text(encoding="utf-8")
    for spec in objects.values():
        for col, aliases in spec.fields.items():
            row = f"| `{col}` | " + ", ".join(f"`{a}`" for a in aliases) + " |"
            assert row in text, f"{page} lacks the row for {spec.name}.{col}: {row}"


@pytest.mark.slow
def test_sample_data_loads_and_reconciles(sample_data_dir: Path) -> None:
    if not any(sample_data_dir.glob("salesforce/*.csv")):
        pytest.skip("sample_data/ not written yet (make sample-data)")
    data = clk.load(sample_data_dir, progress=False)
    r = data.load_report
    assert (r["rows_read"] == r["rows_kept"] + r["rows_rejected"] + r["rows_merged"]).all()
    exports = r.filter(~pl.col("path").str.contains("truth"))
    assert exports.filter(pl.col("reader") == "unknown").height == 0
    assert data.rejected["reason"].null_count() == 0


def test_compressed_and_zipped_exports_are_picked_up_in_folders(tmp_path):
    from closedloop_kit.io._registry import expand_paths

    for name in ("events_20250101.json.gz", "feed.zip", "feed.tar.gz", "notes.md"):
        (tmp_path / name).write_bytes(b"")
    found = {p.name for p in expand_paths(tmp_path)}
    assert found == {"events_20250101.json.gz", "feed.zip", "feed.tar.gz"}


def test_salesforce_campaign_channel_is_its_type(tmp_path):
    import closedloop_kit as clk

    f = tmp_path / "Campaign.csv"
    f.write_text(
        '"Id","Name","Type","Status","ActualCost","CurrencyIsoCode"\n'
        '"7015g000000TMTdAAO","Summit","Trade Show","Completed","1000.00","USD"\n',
        encoding="utf-8",
    )
    camps = clk.io.read_salesforce(f).tables["campaigns"]
    assert camps["channel"].to_list() == ["Trade Show"]


def test_ga4_daily_files_are_read_in_one_call(tmp_path: Path) -> None:
    import json

    t0 = 1_698_883_140_000_000  # 2023-11-01T23:59:00Z in µs

    def event(ts: int, upid: str, sid: int | None) -> str:
        params = [] if sid is None else [{"key": "ga_session_id", "value": {"int_value": sid}}]
        return json.dumps(
            {
                "event_timestamp": str(ts),
                "event_name": "page_view",
                "user_pseudo_id": upid,
                "event_params": params,
            }
        )

    ga4 = tmp_path / "ga4"
    ga4.mkdir()
    # one session spans midnight: read file by file it would be two touchpoints
    (ga4 / "events_20231101.json").write_text(event(t0, "1.1", 7) + "\n")
    (ga4 / "events_20231102.json").write_text(
        event(t0 + 120_000_000, "1.1", 7) + "\n" + event(t0, "2.2", None) + "\n"
    )
    # a daily file truncated on line 2 is refused on its own; the others still load
    (ga4 / "events_20231103.json").write_text(
        event(t0, "3.3", 9) + "\n" + event(t0, "3.3", 9)[:30] + "\n"
    )
    _opps(tmp_path)
    data = clk.load(tmp_path, progress=False)
    rep = data.load_report.filter(pl.col("path").str.contains("events_")).sort("path")
    assert rep["reader"].to_list() == ["ga4", "ga4", "unknown"]
    assert "events_20231103.json: line 2: not valid JSON" in rep["notes"][2]
    tp = data.frame("touchpoints")
    assert tp["touchpoint_id"].to_list() == ["ga4:1.1:7"]
    # file 2: 2 events = 1 merged into the session of file 1 + 1 rejected (no session)
    assert rep.select("rows_read", "rows_kept", "rows_rejected", "rows_merged").rows()[:2] == [
        (1, 1, 0, 0),
        (2, 0, 1, 1),
    ]
    assert data.rejected.filter(pl.col("source_system") == "ga4")["source_row"].to_list() == [2]
    # the daily files are read on a worker thread while the CSV is read; the report keeps
    # the order of a sequential read: single files, then each export (its refusals first)
    assert [Path(p).name for p in data.load_report["path"]] == [
        "Opportunity.csv",
        "events_20231103.json",
        "events_20231101.json",
        "events_20231102.json",
    ]
