"""Screenshots of every template report and of the dashboard, for the docs (`make screenshots`).

Renders each template on the data (``closedloop report``), opens each HTML report and the
``closedloop serve`` dashboard in headless Chromium (Debian's, driven by Playwright; every
request off this machine is aborted) and writes full-page PNGs to ``--out``.

Usage: ``python docs/_screenshots.py --data sample_data --out docs/_static/screenshots``
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
FAST = {"attribution_model_comparison": {"n_bootstrap": 20}}


def _guard(blocked: list[str]):
    def guard(route) -> None:
        url = route.request.url
        host = urlparse(url).hostname or ""
        if url.startswith(("data:", "blob:", "file:")) or host in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    return guard


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render_reports(data: str, out: Path) -> list[Path]:
    from closedloop_kit import report

    pages = []
    for name in report.list_templates():
        print(f"rendering {name} ...", flush=True)
        rep = report.run(name, data=data, params=FAST.get(name, {}), out=out)
        pages.append(rep.html)
    return pages


def shoot(pages: list[Path], dashboard_url: str | None, out: Path) -> list[str]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", _guard(blocked))
        page = context.new_page()
        for html in pages:
            page.goto(html.resolve().as_uri(), wait_until="load", timeout=300_000)
            page.wait_for_timeout(1500)  # vega-embed draws after load
            target = out / f"{html.stem.split('__')[0]}.png"
            page.screenshot(path=str(target), full_page=True)
            print(f"wrote {target}", flush=True)
        if dashboard_url:
            # a fresh context and viewport for the dashboard, as the browser test uses
            context.close()
            context = browser.new_context(viewport={"width": 1400, "height": 2000})
            context.route("**/*", _guard(blocked))
            page = context.new_page()
            # the same waits as tests/browser/test_serve.py (a page the server stalls on
            # is requested again, see open_dashboard there)
            from playwright.sync_api import TimeoutError as PlaywrightTimeout

            kpi = page.locator('.clk-kpi[data-kpi="pipeline"] .clk-kpi-value').first
            for _ in range(5):
                page.goto(dashboard_url, wait_until="commit", timeout=900_000)
                try:
                    page.wait_for_function("document.readyState === 'complete'", timeout=120_000)
                    kpi.wait_for(state="visible", timeout=120_000)
                    break
                except PlaywrightTimeout:
                    continue
            chart = page.locator(".clk-chart-out svg, .clk-chart-out img").first
            chart.wait_for(state="visible", timeout=600_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "dashboard.png"), full_page=True)
            print(f"wrote {out / 'dashboard.png'}", flush=True)
        browser.close()
    return blocked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sample_data")
    parser.add_argument("--out", default="docs/_static/screenshots")
    args = parser.parse_args()
    from closedloop_kit import report

    with tempfile.TemporaryDirectory(prefix="closedloop-shots-") as tmp:
        work = Path(tmp)
        store = work / "store"
        report.open_data(args.data).save(store)
        pages = render_reports(str(store), work / "reports")
        port = _free_port()
        cmd = [sys.executable, "-m", "closedloop_kit.report.cli", "serve",
               "--store", str(store), "--reports", str(work / "reports"),
               "--port", str(port), "--root", str(work / "srv")]  # fmt: skip
        log_path = work / "serve.log"
        log = log_path.open("wb")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # `closedloop serve` announces the dashboard once it has rendered it itself
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline and proc.poll() is None:
                if "dashboard at" in log_path.read_text(encoding="utf-8", errors="replace"):
                    break
                time.sleep(0.5)
            blocked = shoot(pages, f"http://127.0.0.1:{port}/", Path(args.out))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
            log.close()
    if blocked:
        print(f"requests off this machine were blocked: {blocked[:5]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
