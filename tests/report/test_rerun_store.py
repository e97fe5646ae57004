"""A report rendered on store version N re-runs identically after versions N+1, N+2."""

from __future__ import annotations

import nbformat
import pytest

from closedloop_kit import report
from closedloop_kit.report import cli
from tests.store.tiny import load

CELLS = [
    ("markdown", "# Store report\n\nQuestion: what does the store hold? Inputs: `data_path`."),
    ("code", "import closedloop_kit as clk\nimport polars as pl"),
    ("code", "data_path = None\ninclude_pii = False"),
    ("markdown", "## Rows\n\nWhy: a rerun must read the same store version."),
    (
        "code",
        "data = clk.report.open_data(data_path)\n"
        "pl.DataFrame({'table': list(data), 'rows': [data.frame(t).height for t in data],"
        " 'version': [data.store_version] * len(list(data))})",
    ),
    (
        "code",
        "data.frame('opportunities').sort('opportunity_id').select('opportunity_id', 'stage_raw')",
    ),
]


@pytest.fixture
def store_template(tmp_path):
    nb = nbformat.v4.new_notebook()
    for kind, src in CELLS:
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(src))
    nb.cells[2].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder = tmp_path / "templates"
    folder.mkdir()
    nbformat.write(nb, folder / "store_report.ipynb")
    return folder


@pytest.mark.slow
def test_report_on_version_n_reruns_identically_later(store_template, tmp_path, capsys):
    store = tmp_path / "warehouse"
    load(0).save(store)
    rep = report.run("store_report", data=store, out=tmp_path / "r", templates=store_template)
    assert rep.manifest["store_version"] == 1
    assert rep.manifest["data"] == str(store.resolve())
    original = report.report_tables(rep.html.read_text(encoding="utf-8"))

    load(1).save(store, mode="upsert")  # version 2
    load(2).save(store, mode="upsert")  # version 3: new people, deals moved stage

    again = report.rerun(rep.html, out=tmp_path / "again")
    assert again.manifest["store_version"] == 1
    assert again.changed_inputs == ()
    assert again.matches_original is True
    assert report.report_tables(again.html.read_text(encoding="utf-8")) == original

    # the CLI re-runs from the manifest file the same way
    code = cli.main(["report", "rerun", str(rep.manifest_path), "--out", str(tmp_path / "cli")])
    assert code == 0
    assert "tables identical to the original" in capsys.readouterr().out

    # a fresh run reads the latest version, whose tables differ
    latest = report.run("store_report", data=store, out=tmp_path / "new", templates=store_template)
    assert latest.manifest["store_version"] == 3
    assert report.report_tables(latest.html.read_text(encoding="utf-8")) != original
