"""The vendor exports: byte-identical output, real shapes, planted dirt, committed copy."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from closedloop_kit.datasets.sample import EXPORT_CONFIG, main, write_sample_data

SMALL = {"seed": 5, "accounts": 30, "months": 3}


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample_data(out, **SMALL)
    return out


def test_twice_gives_identical_bytes(small_out: Path, tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--seed", "5", "--accounts", "30", "--months", "3"]) == 0
    assert _digest(tmp_path) == _digest(small_out)


def test_files_have_vendor_shapes(small_out: Path) -> None:
    lead = (small_out / "salesforce/Lead.csv").read_text(encoding="utf-8")
    assert lead.startswith('"Id","IsDeleted","MasterRecordId","LastName","FirstName"')
    assert ".000Z" in lead
    contacts = (small_out / "hubspot/contacts.csv").read_bytes()
    assert contacts.startswith(b"\xef\xbb\xbfRecord ID,First Name,Last Name,Email")
    report = (small_out / "salesforce/report_exports/new_leads_last_quarter.csv").read_bytes()
    text = report.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Lead Owner", "Lead ID", "First Name"]
    data = [r for r in rows[1:] if len(r) > 1]
    assert all(len(r[1]) == 15 for r in data)
    assert any(r and r[0].startswith("Grand Totals (") for r in rows)
    assert "Confidential Information - Do Not Distribute" in text
    gads = (small_out / "ads/google_ads_campaigns.csv").read_text().splitlines()
    assert gads[0] == "Campaign report"
    assert gads[-1].startswith("Total: Display")
    li = (small_out / "ads/linkedin_campaign_performance.csv").read_text().splitlines()
    assert li[5].startswith('"Start Date (in UTC)"')
    assert '"EUR"' in li[6]
    ga4 = sorted((small_out / "ga4").glob("events_*.json"))
    assert ga4
    event = json.loads(ga4[0].read_text().splitlines()[0])
    assert {"event_timestamp", "event_name", "user_pseudo_id", "event_params"} <= set(event)
    assert isinstance(event["event_timestamp"], str)


def test_expected_load_lists_the_planted_rejects(small_out: Path) -> None:
    rows = list(csv.DictReader((small_out / "truth/expected_load.csv").open()))
    by_file = {r["file"]: r for r in rows}
    assert by_file["salesforce/Lead.csv"]["expected_rejected"] == "2"
    assert by_file["salesforce/Opportunity.csv"]["expected_rejected"] == "1"
    for r in rows:
        kept = int(r["data_rows"]) - int(r["expected_rejected"]) - int(r["expected_merged"])
        assert int(r["expected_kept"]) == kept


def test_committed_sample_data_is_current(sample_data_dir: Path, tmp_path: Path) -> None:
    if not (sample_data_dir / "truth/summary.json").is_file():
        pytest.skip("sample_data/ not generated")
    write_sample_data(tmp_path, **{k: v for k, v in EXPORT_CONFIG.items()})
    assert _digest(tmp_path) == _digest(sample_data_dir)


def test_committed_dirt_is_present(sample_data_dir: Path) -> None:
    report = sample_data_dir / "salesforce/report_exports/new_leads_last_quarter.csv"
    if not report.is_file():
        pytest.skip("sample_data/ not generated")
    raw = report.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # Windows-1252 accented names
    assert any(ch in raw.decode("cp1252") for ch in "üéñáøå")
    size = sum(p.stat().st_size for p in sample_data_dir.rglob("*") if p.is_file())
    assert size < 15 * 1024 * 1024
