"""``closedloop serve``: the dashboard and the index of rendered reports, served by Voilà.

Voilà renders ``notebooks/dashboards/dashboard.ipynb`` (KPI tiles, filters, charts and
tables updated in place; see :func:`closedloop_kit.widgets.dashboard`) with the data
path and options written into its parameters cell. Nothing is loaded from the internet:

- an ``offline`` Voilà template (the ``lab`` template with its two Font Awesome CDN
  stylesheets served from the ``fontawesome-free`` PyPI package);
- charts are drawn server side as SVG (altair's ``svg`` renderer, vl-convert);
- rendered reports are served from the server's folder (``/voila/files/reports/…``).

It binds 127.0.0.1 by default; any other address needs a token (``--token``), which
Voilà then asks for. The report files are not behind Voilà's token, so they are only
served on a loopback address.
"""

from __future__ import annotations

import importlib.metadata
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from closedloop_kit.report._templates import template_dirs

__all__ = [
    "DASHBOARD",
    "ServeSetup",
    "first_render",
    "is_loopback",
    "prepare_serve",
    "serve",
    "voila_command",
]

DASHBOARD = "dashboard"
"""Name of the dashboard notebook (in a ``dashboards/`` folder beside the templates)."""

TEMPLATE = "offline"
# the lab template's two Font Awesome stylesheet links (a CDN folder of css files)
_FA_LINK = re.compile(r'href="(https?://[^"]*fontawesome-free[^"]*/css/)')
_REPORT_FILES = r"reports/.*\.(html|png|svg|json|xlsx)"
_NOTHING = r"(?!)"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``127.0.0.0/8``, ``::1``, ``localhost``).

    Examples
    --------
    >>> from closedloop_kit.report import is_loopback
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback address without a token."""
    if not is_loopback(host) and not token:
        msg = (
            f"serving on {host!r} (not a loopback address) needs a token: pass --token "
            "SECRET, or serve on --host 127.0.0.1"
        )
        raise ValueError(msg)


def find_dashboard(templates: str | Path | Sequence[str | Path] | None = None) -> Path:
    """Path of the dashboard notebook (``dashboards/dashboard.ipynb`` on the template path)."""
    for d in template_dirs(templates):
        candidate = d / "dashboards" / f"{DASHBOARD}.ipynb"
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(d) for d in template_dirs(templates)) or "no folder found"
    msg = (
        f"the dashboard notebook dashboards/{DASHBOARD}.ipynb was not found (searched: "
        f"{searched}); run from a source checkout or pass `templates=`"
    )
    raise FileNotFoundError(msg)


def _fontawesome() -> Path:
    from closedloop_kit.errors import MissingDependencyError

    try:
        dist = importlib.metadata.distribution("fontawesome-free")
    except importlib.metadata.PackageNotFoundError as exc:
        msg = "`closedloop serve` needs the serve extra: pip install 'closedloop-kit[serve]'"
        raise MissingDependencyError(msg) from exc
    return Path(str(dist.locate_file("fontawesome-free/static/fontawesome_free")))


def _voila_lab_template() -> Path:
    import voila

    for base in (Path(sys.prefix), Path(voila.__file__).resolve().parents[3]):
        found = base / "share" / "jupyter" / "voila" / "templates" / "lab" / "index.html.j2"
        if found.is_file():
            return found
    msg = "Voilà's `lab` template was not found in this environment; reinstall voila"
    raise FileNotFoundError(msg)


def write_offline_template(root: Path) -> Path:
    """Write the ``offline`` Voilà template under ``root/share/jupyter`` (a JUPYTER_PATH).

    It is Voilà's ``lab`` template with the Font Awesome stylesheets served from the
    template's own static folder (copied from the ``fontawesome-free`` package) and
    without nbconvert's mermaid loader (a CDN import).
    """
    folder = root / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
    static = folder / "static" / "fa"
    source = _fontawesome()
    for sub in ("css", "webfonts"):
        if not (static / sub).is_dir():
            shutil.copytree(source / sub, static / sub)
    lab = _voila_lab_template().read_text(encoding="utf-8")
    local = "{{ resources.base_url }}voila/templates/" + TEMPLATE + "/static/fa/css/"
    if not _FA_LINK.search(lab):
        msg = "Voilà's lab template no longer links Font Awesome; check the offline template"
        raise RuntimeError(msg)
    # nbconvert's lab template would import mermaid from a CDN for mermaid outputs
    no_mermaid = (
        "\n{%- block html_head_js_mermaidjs -%}{# no JavaScript from a CDN #}"
        "{%- endblock html_head_js_mermaidjs -%}\n"
    )
    offline = _FA_LINK.sub(lambda _: f'href="{local}', lab) + no_mermaid
    (folder / "index.html.j2").write_text(offline, encoding="utf-8")
    (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}) + "\n")
    write_kernelspec(root)
    return folder


def write_kernelspec(root: Path) -> Path:
    """A ``python3`` kernelspec (this interpreter) whose kernel logs errors only.

    It sits first on the server's JUPYTER_PATH, so Voilà's kernels do not print
    ``Kernel is running over TCP without encryption`` (as in :mod:`report._run`).
    """
    from closedloop_kit.report._run import KERNEL_ARGS

    folder = root / "share" / "jupyter" / "kernels" / "python3"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 *KERNEL_ARGS],
        "display_name": "Python 3 (closedloop serve)",
        "language": "python",
        "metadata": {"debugger": False},
    }  # fmt: skip
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return folder


def _inject(nb: Any, params: dict[str, Any]) -> None:
    """Add a cell after the ``parameters`` cell that sets ``params`` (as papermill does)."""
    import nbformat

    source = "# injected by closedloop serve\n" + "\n".join(
        f"{k} = {v!r}" for k, v in params.items()
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    nb.cells.insert(tagged[0] + 1 if tagged else 0, cell)


@dataclass(frozen=True)
class ServeSetup:
    """The folder Voilà serves: the parameterised dashboard, the reports, the template."""

    root: Path
    notebook: Path
    jupyter_path: Path
    reports: Path | None


def prepare_serve(
    root: str | Path,
    *,
    data: str | Path,
    reports: str | Path | None = None,
    include_pii: bool = False,
    templates: str | Path | Sequence[str | Path] | None = None,
) -> ServeSetup:
    """Lay out ``root`` for Voilà: the dashboard with its parameters, the reports, the template.

    The dashboard's parameters cell receives ``data_path`` (absolute), ``include_pii``
    and ``reports_dir`` (``reports`` in ``root``: a link to the reports folder).
    """
    import nbformat

    out = Path(root)
    out.mkdir(parents=True, exist_ok=True)
    data_path = Path(data)
    data_value = str(data_path.resolve()) if data_path.exists() else str(data)
    reports_dir: Path | None = None
    link = out / "reports"
    if reports is not None and Path(reports).is_dir():
        reports_dir = Path(reports).resolve()
        if link.is_symlink() or link.exists():
            link.unlink() if link.is_symlink() else shutil.rmtree(link)
        link.symlink_to(reports_dir, target_is_directory=True)
    nb = nbformat.read(find_dashboard(templates), as_version=4)
    params: dict[str, Any] = {
        "data_path": data_value,
        "include_pii": include_pii,
        "reports_dir": "reports" if reports_dir is not None else None,
    }
    _inject(nb, params)
    notebook = out / f"{DASHBOARD}.ipynb"
    nbformat.write(nb, notebook)
    jupyter_path = out / "share" / "jupyter"
    write_offline_template(out)
    return ServeSetup(root=out, notebook=notebook, jupyter_path=jupyter_path, reports=reports_dir)


def voila_command(
    setup: ServeSetup, *, host: str = "127.0.0.1", port: int = 8866, token: str | None = None
) -> list[str]:
    """The Voilà command line for a prepared folder (checks the host/token rule)."""
    check_host(host, token)
    # Voilà serves files under its root without asking for the token: reports on loopback
    # only, and off loopback a pattern that matches nothing (the default serves images)
    allow = _REPORT_FILES if is_loopback(host) else _NOTHING
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(setup.notebook),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={host}",
        f"--template={TEMPLATE}",
        "--theme=light",
        f"--Voila.root_dir={setup.root}",
        "--VoilaConfiguration.preheat_kernel=True",
        "--VoilaConfiguration.show_tracebacks=False",
        f"--VoilaConfiguration.file_allowlist={allow}",
        "--MappingKernelManager.cull_idle_timeout=3600",
        "--Application.log_level=WARN",
    ]
    if token:
        cmd.append(f"--token={token}")
    return cmd


def serve_env(setup: ServeSetup) -> dict[str, str]:
    """The environment of the Voilà process: the offline template on its JUPYTER_PATH."""
    env = dict(os.environ)
    paths = [str(setup.jupyter_path), *filter(None, env.get("JUPYTER_PATH", "").split(os.pathsep))]
    env["JUPYTER_PATH"] = os.pathsep.join(paths)
    env["MPLBACKEND"] = "Agg"
    return env


def serve(
    *,
    data: str | Path,
    root: str | Path | None = None,
    reports: str | Path | None = "reports",
    host: str = "127.0.0.1",
    port: int = 8866,
    token: str | None = None,
    include_pii: bool = False,
) -> int:
    """Serve the dashboard until stopped; returns Voilà's exit code (0 once stopped).

    ``root`` is the folder Voilà serves (:func:`prepare_serve`); by default a temporary
    one, removed when the server stops. Ctrl-C and ``SIGTERM`` (a service manager's or
    ``docker stop``'s stop) both stop Voilà before returning, so neither leaves a
    server running nor the temporary folder behind; a stop asked for this way returns 0
    when Voilà ends on it.
    """
    import tempfile

    check_host(host, token)
    tmp = None
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix="closedloop-serve-")
        root = tmp.name
    try:
        setup = prepare_serve(root, data=data, reports=reports, include_pii=include_pii)
        cmd = voila_command(setup, host=host, port=port, token=token)
        where = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
        print(
            f"closedloop serve: starting on {host}:{port}, rendering the dashboard once",
            flush=True,
        )
        with _sigterm_interrupts():
            proc = subprocess.Popen(cmd, env=serve_env(setup), cwd=setup.root)
            try:
                first_render(where, proc)
                print(f"closedloop serve: dashboard at {where} (Ctrl-C stops)", flush=True)
                return proc.wait()
            except KeyboardInterrupt:
                code = _stop(proc)
                return 0 if code in (0, -signal.SIGTERM) else code
            finally:
                _stop(proc)  # on any other error too: Voila never outlives serve
    finally:
        if tmp is not None:
            tmp.cleanup()


def _stop(proc: subprocess.Popen[bytes], grace: float = 30.0) -> int:
    """Stop ``proc`` (terminate, then kill after ``grace`` seconds); its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Within the block, ``SIGTERM`` raises :class:`KeyboardInterrupt` as Ctrl-C does.

    Only in the main thread, where Python delivers signals; elsewhere a no-op.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def first_render(
    url: str,
    proc: subprocess.Popen[bytes] | None = None,
    *,
    attempts: int = 3,
    timeout: float = 180.0,
) -> bool:
    """Request the dashboard until one page arrives whole, before anyone else asks.

    Measured here (Voilà 0.5.13, jupyter_server 2.21): the first page a fresh server
    renders stops in about half of the starts after the kernel has run every cell —
    the kernel is idle, the server keeps sending heartbeats and never the rest of the
    page — with or without kernel preheating; later requests render (upstream:
    voila-dashboards/voila#1428, a message left unsent on an async socket). So the server
    renders once itself (waiting for its port, then up to ``attempts`` requests of at
    most ``timeout`` seconds each) and only then is announced. Returns whether a whole
    page arrived; the server is served either way.
    """
    import socket
    import time
    import urllib.request
    from urllib.parse import urlparse

    parts = urlparse(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with socket.socket() as sock:
            sock.settimeout(1.0)
            if sock.connect_ex((host, port)) == 0:
                break
        time.sleep(0.5)
    for _ in range(attempts):
        if proc is not None and proc.poll() is not None:
            return False
        # the server keeps a stalled page alive with heartbeats: bound the whole read
        stop = time.monotonic() + timeout
        body = b""
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                while time.monotonic() < stop:
                    chunk = response.read1(65536)
                    if not chunk:
                        break
                    body += chunk
        except OSError:
            continue
        if b"</html>" in body:
            return True
    return False
