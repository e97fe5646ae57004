"""Server setup, the reports index, the review periods and the CLI's one-line errors."""

from __future__ import annotations

import datetime as dt

import nbformat
import pytest

from closedloop_kit import report
from closedloop_kit.report import cli


def test_loopback_needs_no_token_and_other_addresses_do(tmp_path):
    pytest.importorskip("voila", reason="needs the serve extra (make install-serve)")
    setup = report.prepare_serve(tmp_path / "root", data=tmp_path, reports=None)
    cmd = report.voila_command(setup, host="127.0.0.1", port=9999)
    assert "--Voila.ip=127.0.0.1" in cmd
    assert not any(c.startswith("--token") for c in cmd)
    with pytest.raises(ValueError, match="needs a token"):
        report.voila_command(setup, host="0.0.0.0", port=9999)
    cmd = report.voila_command(setup, host="0.0.0.0", port=9999, token="s3cret")
    assert "--token=s3cret" in cmd
    # report files are not behind Voilà's token: off loopback none is served
    allow = next(c for c in cmd if c.startswith("--VoilaConfiguration.file_allowlist="))
    assert allow.split("=", 1)[1] == "(?!)"


def test_offline_template_and_injected_parameters(tmp_path):
    pytest.importorskip("voila", reason="needs the serve extra (make install-serve)")
    reports = tmp_path / "reports"
    reports.mkdir()
    setup = report.prepare_serve(tmp_path / "root", data=tmp_path, reports=reports)
    offline = setup.jupyter_path / "voila" / "templates" / "offline"
    template = (offline / "index.html.j2").read_text()
    assert "cdn.jsdelivr" not in template
    assert "block html_head_js_mermaidjs -%}{# no JavaScript from a CDN #}" in template
    assert "voila/templates/offline/static/fa/css/all.min.css" in template
    fa = offline / "static" / "fa"
    assert (fa / "css" / "all.min.css").is_file()
    assert any((fa / "webfonts").glob("*.woff2"))
    nb = nbformat.read(setup.notebook, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert f"data_path = {str(tmp_path.resolve())!r}" in injected[0].source
    assert "include_pii = False" in injected[0].source
    assert "reports_dir = 'reports'" in injected[0].source
    assert (setup.root / "reports").resolve() == reports.resolve()


def test_reports_index_lists_reports_newest_first(toy_report, tmp_path):
    index = report.reports_index(toy_report.html.parent, link_prefix="voila/files/reports/")
    assert index.table.height >= 1
    row = index.table.row(0, named=True)
    assert row["title"] == "Toy report"
    assert f'href="voila/files/reports/{row["html"]}"' in index.html
    hidden = report.reports_index(toy_report.html.parent, links=False)
    assert "href=" not in hidden.html
    assert "No reports folder" in report.reports_index(tmp_path / "missing").html


def test_review_periods():
    # until 2026-03-15: the last complete month is February
    assert report.review_periods("month", until=dt.date(2026, 3, 15), last=1) == [
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    ]
    # 2026-03-11 is a Wednesday: the last complete week ended on Sunday 2026-03-08
    weeks = report.review_periods("week", until=dt.date(2026, 3, 11), last=2)
    assert weeks == [
        (dt.date(2026, 2, 23), dt.date(2026, 3, 1)),
        (dt.date(2026, 3, 2), dt.date(2026, 3, 8)),
    ]
    with pytest.raises(ValueError, match="`every` must be one of"):
        report.review_periods("year", until=dt.date(2026, 3, 11), last=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["report", "no-such-template", "--data", "."], "was not found; templates available"),
        (["report", "campaign-review", "--data", "/no/such/folder"], "does not exist"),
        (["report", "campaign-review", "--data", ".", "--param", "oops"], "key=value"),
        (["serve", "--host", "0.0.0.0", "--data", "."], "needs a token"),
        (["review", "--data", "/no/such/folder"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line(argv, expected, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("closedloop: error: ")
    assert expected in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_version(capsys):
    from closedloop_kit import __version__

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"closedloop_kit {__version__}"


def test_report_output_has_no_kernel_warning(toy_templates, toy_data, tmp_path, capfd):
    assert cli.main(["report", "toy-report", "--data", str(toy_data), "--out", str(tmp_path),
                     "--templates", str(toy_templates)]) == 0  # fmt: skip
    out, err = capfd.readouterr()
    assert "toy_report" in out
    assert "IPKernelApp" not in out + err
    assert "without encryption" not in out + err


def test_a_refused_serve_leaves_no_folder(tmp_path, monkeypatch, capsys):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert cli.main(["serve", "--host", "0.0.0.0", "--data", "."]) == 2
    assert "needs a token" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


_FAKE_VOILA = """
import sys
from closedloop_kit.report import _serve

# Voila stands in as a process that records its pid and waits to be stopped
_serve.voila_command = lambda setup, **kw: [sys.executable, "-c", (
    "import os, pathlib, time; pathlib.Path(os.environ['PID_FILE'])"
    ".write_text(str(os.getpid())); time.sleep(600)")]
_serve.first_render = lambda url, proc=None, **kw: True
sys.exit(_serve.serve(data=sys.argv[1], reports=None))
"""


def test_sigterm_stops_voila_and_removes_the_temporary_folder(tmp_path):
    """`docker stop` or a service manager sends SIGTERM: Voila must not outlive serve."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pytest.importorskip("voila", reason="needs the serve extra (make install-serve)")
    tmp, pid_file = tmp_path / "tmp", tmp_path / "voila.pid"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PID_FILE": str(pid_file)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _FAKE_VOILA, str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    announced = [proc.stdout.readline() for _ in range(2)]
    assert "dashboard at" in announced[1]
    deadline = time.monotonic() + 60
    while not pid_file.is_file() and time.monotonic() < deadline:
        time.sleep(0.05)
    voila_pid = int(pid_file.read_text())
    assert next(p.name for p in tmp.iterdir()).startswith("closedloop-serve-")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0  # a stop asked for
    with pytest.raises(ProcessLookupError):
        os.kill(voila_pid, 0)  # reaped by serve, not left running
    assert list(tmp.iterdir()) == []
