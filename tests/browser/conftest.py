"""Browser fixtures: Debian's chromium through Playwright, and `closedloop serve` on the sample."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def chromium_path() -> str:
    """Debian's chromium (Playwright's own browser download is not reachable offline)."""
    if CHROMIUM.is_file():
        return str(CHROMIUM)
    found = shutil.which("chromium")
    if found is None:
        pytest.skip(
            "headless Chromium is not installed (/usr/bin/chromium missing): run "
            "`make test-browser`, which installs Debian's chromium"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_served(log: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for `closedloop serve` to announce the dashboard: it has rendered it once.

    The server renders the dashboard itself before announcing it (a fresh Voilà server's
    first page stalls about half the time; see ``report.first_render``), so tests never
    request while that happens; polling the port would.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"closedloop serve exited with {proc.returncode}")
        if "dashboard at" in log.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.5)
    pytest.fail(f"closedloop serve did not announce the dashboard in {timeout:.0f} s")


@pytest.fixture(scope="session")
def browser_store(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample data as a store (opens in well under a second in every kernel)."""
    from closedloop_kit import report

    if not (sample_data_dir.is_dir() and any(sample_data_dir.iterdir())):
        return "sample"
    store = tmp_path_factory.mktemp("store") / "sample"
    report.open_data(sample_data_dir).save(store)
    return str(store)


@pytest.fixture(scope="session")
def server(browser_store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`closedloop serve --store …` on a free port; yields the base URL, stops it after."""
    port = free_port()
    root = tmp_path_factory.mktemp("serve")
    reports = tmp_path_factory.mktemp("reports")
    log_path = root.parent / "serve.log"
    log = log_path.open("wb")
    cmd = [sys.executable, "-m", "closedloop_kit.report.cli", "serve",
           "--store", browser_store, "--reports", str(reports), "--port", str(port),
           "--root", str(root / "root")]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_served(log_path, proc, timeout=900)
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    """A Playwright page whose requests to anything but 127.0.0.1 are aborted and recorded."""
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = chromium_path()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        blocked: list[str] = []

        def guard(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            host = urlparse(url).hostname or ""
            if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
                route.continue_()  # type: ignore[attr-defined]
            else:
                blocked.append(url)
                route.abort()  # type: ignore[attr-defined]

        context.route("**/*", guard)
        pg = context.new_page()
        pg.blocked = blocked  # type: ignore[attr-defined]
        try:
            yield pg
        finally:
            context.close()
            browser.close()
