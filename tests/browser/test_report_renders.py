"""The campaign review from `closedloop demo` renders every chart in headless Chromium, offline.

Run with ``make test-browser`` (installs Debian's chromium when missing) or
``.venv/bin/python -m pytest -m browser tests/browser``; see docs/reports.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from closedloop_kit.report import cli

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-extensions",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",  # a proxy to nowhere: any network request fails
    "--proxy-bypass-list=<-loopback>",
    "--virtual-time-budget=20000",
]


def _chromium() -> str:
    if CHROMIUM.is_file():
        return str(CHROMIUM)
    found = shutil.which("chromium")
    if found is None:
        pytest.skip(
            "headless Chromium is not installed (/usr/bin/chromium missing): run "
            "`make test-browser`, which installs Debian's chromium, or "
            "`apt-get install -y chromium`"
        )
    return found


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory, sample_data_dir) -> Path:
    out = tmp_path_factory.mktemp("demo")
    data = str(sample_data_dir) if any(sample_data_dir.glob("*")) else "sample"
    assert cli.main(["demo", "--data", data, "--out", str(out), "--strict"]) == 0
    reports = sorted(out.glob("campaign_review*.html"))
    assert reports, "closedloop demo wrote no campaign review"
    return reports[0]


def test_every_chart_renders_offline(demo_report, tmp_path):
    exe = _chromium()
    url = demo_report.resolve().as_uri()
    user_dir = tmp_path / "profile"
    dom = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={user_dir}", "--dump-dom", url],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout  # fmt: skip
    charts = re.findall(r'<div[^>]*\bid="(clk-chart-\d+)"', dom)
    assert charts, "the report has no chart placeholders"
    # vega-embed draws an <svg> (renderer "svg") inside each chart div; the div is
    # followed by the chart's JSON spec script
    for chart_id in charts:
        start = dom.index(f'id="{chart_id}"')
        end = dom.index(f'id="{chart_id}-spec"', start)
        block = dom[start:end]
        assert "<svg" in block or "<canvas" in block, f"{chart_id} did not render"
        assert "chart failed to render" not in block
    assert "marks" in dom  # vega's mark groups are in the DOM

    shot = tmp_path / "report.png"
    subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={user_dir}", "--window-size=1280,4000",
         f"--screenshot={shot}", url],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    assert shot.is_file()
    assert shot.stat().st_size > 10_000
