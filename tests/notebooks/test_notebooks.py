"""Template notebooks: structure rules, and each executes on the sample data (papermill)."""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from pathlib import Path

import polars as pl
import pytest

from closedloop_kit import report
from closedloop_kit.errors import DataQualityWarning
from tests.notebooks import headlines

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
EXPECTED = {
    "attribution_model_comparison",
    "campaign_review",
    "data_quality",
    "funnel_and_budget_plan",
    "quarterly_closed_loop_review",
}
# explicit parameters (the headline checks recompute with the same ones), and smaller
# settings where a template has them, so the suite stays fast; 2025-07 and fiscal 2026Q2
# (May-July 2025) hold campaign cost as well as ad spend
PARAMS: dict[str, dict[str, object]] = {
    "attribution_model_comparison": {"n_bootstrap": 20},
    "campaign_review": {"period": "2025Q3"},
    "funnel_and_budget_plan": {"fiscal_start_month": 1},
    "operating_review": {"start": "2025-07-01", "end": "2025-07-31"},
    "quarterly_closed_loop_review": {"period": "2026Q2", "fiscal_start_month": 2},
}


@pytest.fixture(scope="session")
def sample_store(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """sample_data/ loaded once into a store (every notebook opens it in well under a second).

    Shared by the xdist workers of one run: the first builds it under a lock file, the
    others wait for its ``done`` marker. Falls back to the bundled sample company when
    sample_data/ is empty.
    """
    if not (sample_data_dir.is_dir() and any(sample_data_dir.iterdir())):
        return "sample"
    if "PYTEST_XDIST_WORKER" not in os.environ:  # one process: nothing to share
        store = tmp_path_factory.mktemp("store") / "sample"
        report.open_data(sample_data_dir).save(store)
        return str(store)
    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, shared by workers
    store, done, lock = (
        shared / "sample_store",
        shared / "sample_store.done",
        shared / "sample_store.lock",
    )
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        deadline = time.monotonic() + 600
        while not done.exists():
            if time.monotonic() > deadline:
                pytest.fail("timed out waiting for another worker to build the sample store")
            time.sleep(0.5)
        return str(store)
    os.close(fd)
    report.open_data(sample_data_dir).save(store)
    done.touch()
    return str(store)


def test_all_templates_present():
    assert EXPECTED <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_structure(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    cells = nb["cells"]
    first = cells[0]
    assert first["cell_type"] == "markdown"
    title = "".join(first["source"])
    assert title.startswith("# ")
    assert "**Question:**" in title
    assert "**Inputs:**" in title
    code = [c for c in cells if c["cell_type"] == "code"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged `parameters`"
    params_src = "".join(tagged[0]["source"])
    assert re.search(r"^data_path = ", params_src, re.M)
    assert re.search(r"^include_pii = False", params_src, re.M)
    assert any("import closedloop_kit as clk" in "".join(c["source"]) for c in code)
    for c in code:
        assert c["outputs"] == [], "stored without outputs"
        assert c["execution_count"] is None
    assert "".join(cells[-1]["source"]).strip() == "clk.show_versions()"


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_executes_into_offline_report(name, sample_store, sample_data_dir, tmp_path):
    data = sample_store
    params = PARAMS.get(name, {})
    rep = report.run(name, data=data, params=params, out=tmp_path)
    text = rep.html.read_text(encoding="utf-8")
    assert rep.n_charts >= 1
    assert "Traceback" not in text
    assert not re.search(r"<script[^>]+src=", text)
    # people's e-mail addresses never reach a report unless include_pii is set
    people = report.open_data(data).frame("people")
    emails = [e for e in people["email"].drop_nulls().unique().to_list() if e][:500]
    assert emails
    leaked = [e for e in emails if e in text]
    assert leaked == []
    # tables read as a person would: no dtype row, no '…' rows, names instead of the ids
    # of campaigns and accounts that have one
    opened = report.open_data(data)
    named = [
        opened.frame(t).filter(pl.col("name").is_not_null())[key].to_list()
        for t, key in (("campaigns", "campaign_id"), ("accounts", "account_id"))
    ]
    assert report.table_problems(text, ids=[i for ids in named for i in ids]) == []
    # the page names its data, not the folders of the machine that ran it (the manifest,
    # in its script tag, keeps the path)
    page = re.sub(r'<script type="application/json".*?</script>', "", text, flags=re.S)
    assert f"Data: {report.data_label(data)}" in page
    assert str(Path(data).resolve().parent) not in page
    assert str(sample_data_dir.resolve()) not in page  # the files the store was loaded from
    # headline numbers equal the analysis functions' for the same parameters, and a number
    # shown in two places of the report is the same number
    if name in headlines.CHECKS:
        headlines.CHECKS[name](text, data, params)
    if name == "campaign_review":
        # `closedloop report rerun` reproduces the report's tables exactly
        again = report.rerun(rep.html, out=tmp_path / "rerun")
        assert again.changed_inputs == ()
        assert again.matches_original is True
        new_text = again.html.read_text(encoding="utf-8")
        assert report.report_tables(new_text) == report.report_tables(text)
        assert len(report.report_tables(text)) >= 3


REAL = Path(__file__).resolve().parents[1] / "data" / "real"
PARTIAL = {
    # CRM only: no web or campaign touches, every deal deleted in the source, few people
    "dbt_salesforce": REAL / "dbt_salesforce" / "integration_tests" / "seeds",
    # CRM only: 160 campaigns, 44 deals all open (no stage): nothing closed or converts
    "dbt_hubspot": REAL / "dbt_hubspot" / "integration_tests" / "seeds",
    # web only: five GA4 sessions, no CRM, no cost
    "dbt_ga4_export": REAL / "dbt_ga4_export",
}
# what a template says instead of a number the data cannot give
NOTES = {
    ("campaign_review", "dbt_salesforce"): "No campaign has attributed revenue",
    ("campaign_review", "dbt_hubspot"): "No campaign has attributed revenue",
    ("campaign_review", "dbt_ga4_export"): "No campaign has attributed revenue",
    ("funnel_and_budget_plan", "dbt_hubspot"): "the sales cycle cannot be measured",
    ("quarterly_closed_loop_review", "dbt_hubspot"): "the sales cycle cannot be measured",
}


@pytest.mark.notebooks
@pytest.mark.parametrize("source", sorted(PARTIAL))
@pytest.mark.parametrize("name", NAMES)
def test_renders_on_a_real_partial_export(name, source, tmp_path):
    """Real public exports of one system only (no touches and no closed deal, or no CRM):
    every template renders and says what it cannot show. Each failed on one of them
    before (shapley and the bootstrap on no journey, the default period from the latest
    touch, the funding schedule from a cycle nothing closed in, the paths of no journey,
    the ROI comparison of no cost)."""
    rep = report.run(name, data=str(PARTIAL[source]), params={}, out=tmp_path)
    text = rep.html.read_text(encoding="utf-8")
    assert "Traceback" not in text
    # tables read as a person would: names, not the ids of named campaigns and accounts
    with warnings.catch_warnings():  # the low join rates the data quality report shows
        warnings.simplefilter("ignore", DataQualityWarning)
        opened = report.open_data(str(PARTIAL[source]))
    ids = [
        i
        for t, key in (("campaigns", "campaign_id"), ("accounts", "account_id"))
        for i in opened.frame(t).filter(pl.col("name").is_not_null())[key].to_list()
    ]
    assert report.table_problems(text, ids=ids) == []
    note = NOTES.get((name, source))
    if note is not None:
        assert note in text
    if name == "data_quality" and source == "dbt_salesforce":
        # every deal is deleted in the source: the tables say so beside the rows
        loaded = {r["Table"]: r for r in headlines.table(text, "Tables loaded")}
        assert (loaded["opportunities"]["Rows"], loaded["opportunities"]["Deleted"]) == ("9", "9")
