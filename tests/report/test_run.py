"""Report runner: offline HTML, manifest, PII, rerun, batch, CLI (on a toy template)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from closedloop_kit import report
from closedloop_kit.report import cli
from closedloop_kit.report._manifest import file_sha256


def test_run_writes_html_notebook_and_manifest(toy_report):
    assert toy_report.html.is_file()
    assert toy_report.notebook.is_file()
    assert toy_report.manifest_path.is_file()
    assert toy_report.html.name == "toy_report__2.html"
    assert toy_report.n_charts == 2


def test_html_is_offline(toy_report):
    text = toy_report.html.read_text(encoding="utf-8")
    # no script or stylesheet is loaded from anywhere: the Vega bundle is inlined
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=[\"']https?:", text)
    assert "cdn.jsdelivr" not in text
    assert "vegaEmbed" in text
    assert text.count('class="clk-chart"') == 2
    # input cells are hidden by default
    assert "import closedloop_kit as clk" not in re.sub(r"<[^>]+>", "", text)


def test_manifest_embedded(toy_report, toy_data):
    m = report.read_manifest(toy_report.html)
    assert m == report.read_manifest(toy_report.manifest_path)
    assert m == report.read_manifest(toy_report.notebook)
    assert m["template"] == "toy_report"
    assert m["parameters"] == {"scale": 2, "include_pii": False}
    assert m["inputs"] == {
        "a.csv": file_sha256(toy_data / "a.csv"),
        "b.csv": file_sha256(toy_data / "b.csv"),
    }
    assert m["versions"]["polars"]
    assert m["run_seconds"] >= 0


def test_emails_hidden_unless_asked(toy_report, toy_templates, toy_data, tmp_path):
    text = toy_report.html.read_text(encoding="utf-8")
    assert "ana.lee@example.com" not in text
    assert "[email hidden]" in text
    nb_text = toy_report.notebook.read_text(encoding="utf-8")
    assert "contact ana.lee@example.com" not in nb_text
    # one run checks both switches: e-mails allowed, code cells shown
    shown = report.run(
        "toy_report",
        data=toy_data,
        out=tmp_path,
        include_pii=True,
        show_input=True,
        templates=toy_templates,
    )
    shown_text = shown.html.read_text(encoding="utf-8")
    assert "ana.lee@example.com" in shown_text
    assert "import closedloop_kit as clk" in re.sub(r"<[^>]+>", "", shown_text)


@pytest.mark.slow
def test_rerun_reports_changed_inputs(toy_templates, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("x\n1\n")
    rep = report.run("toy_report", data=data, out=tmp_path / "r", templates=toy_templates)
    (data / "c.csv").write_text("x\n3\n")
    again = report.rerun(rep.manifest_path, out=tmp_path / "r2")
    assert again.changed_inputs == ("c.csv",)
    assert again.matches_original is False  # the table counts the files


def test_unknown_parameter_and_template(toy_templates):
    with pytest.raises(ValueError, match="not parameters of template"):
        report.run("toy_report", params={"nope": 1}, templates=toy_templates)
    with pytest.raises(FileNotFoundError, match="templates available"):
        report.find_template("no_such_template", toy_templates)


@pytest.mark.slow
def test_batch_with_progress(toy_templates, toy_data, tmp_path, capsys, monkeypatch):
    import closedloop_kit._core.progress as progress

    monkeypatch.setattr(progress, "interactive", lambda: True)  # as in a terminal
    cfg = tmp_path / "batch.yaml"
    cfg.write_text(
        f"template: {toy_templates / 'toy_report.ipynb'}\n"
        f"data: {toy_data}\nout: out\nfor_each:\n  scale: [1, 3]\n"
    )
    assert cli.main(["report", "batch", str(cfg)]) == 0
    names = sorted(p.name for p in (tmp_path / "out").glob("*.html"))
    assert names == ["toy_report__1.html", "toy_report__3.html"]
    assert "reports (" in capsys.readouterr().err  # tqdm progress bar


def test_cli_report_then_rerun_reproduces_tables(toy_templates, toy_data, tmp_path, capsys):
    code = cli.main([
        "report", "toy-report", "--data", str(toy_data), "--param", "scale=4",
        "--out", str(tmp_path), "--templates", str(toy_templates),
    ])  # fmt: skip
    assert code == 0
    html = tmp_path / "toy_report__4.html"
    original = report.report_tables(html.read_text(encoding="utf-8"))
    assert original
    assert report.read_manifest(html)["parameters"]["scale"] == 4
    assert cli.main(["report", "rerun", str(html), "--out", str(tmp_path / "again")]) == 0
    assert "tables identical to the original" in capsys.readouterr().out
    again = tmp_path / "again" / "toy_report__4.html"
    assert report.report_tables(again.read_text(encoding="utf-8")) == original


def test_report_name():
    assert report.report_name("t", {"b": "X y", "a": None, "data_path": "/d"}) == "t__x_y"


def test_find_template_in_repo_notebooks():
    assert Path(report.find_template("campaign-review")).name == "campaign_review.ipynb"


def test_cli_load_writes_store(tmp_path, capsys):
    store = tmp_path / "warehouse"
    assert cli.main(["load", "sample", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "people" in out
    assert "store written" in out
    assert (store / "manifest.json").is_file()
    assert report.open_data(store).frame("people").height > 0


def test_cli_param_parsing():
    assert cli._params(["period=2026Q2", "n=3", "models=[a, b]", "flag=true"]) == {
        "period": "2026Q2", "n": 3, "models": ["a", "b"], "flag": True,
    }  # fmt: skip
    with pytest.raises(ValueError, match="key=value"):
        cli._params(["oops"])
