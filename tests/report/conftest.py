"""A tiny template notebook (no sample data needed) to test the report plumbing."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

TOY_CELLS = [
    ("markdown", "# Toy report\n\nQuestion: does the plumbing work? Inputs: `data_path`."),
    ("code", "import closedloop_kit as clk\nimport polars as pl"),
    (
        "code",
        'data_path = None\nscale = 2\ninclude_pii = False\nowner = "ana.lee@example.com"',
    ),
    ("markdown", "## Table\n\nWhy: rerun must reproduce it."),
    (
        "code",
        "files = sorted(p.name for p in __import__('pathlib').Path(data_path).iterdir())"
        " if data_path else []\n"
        'frame = pl.DataFrame({"channel": ["Email", "Paid Search"], '
        '"share": [0.25 * scale, 0.375 * scale], "n_files": [len(files)] * 2})\nframe',
    ),
    ("code", 'print("contact", owner)'),
    ("markdown", "## Chart"),
    ("code", "clk.viz.attribution_chart(frame)"),
    (
        "code",
        "clk.viz.conversion_chart(pl.DataFrame({'channel': ['a'], 'kind': ['overall'], "
        "'from_stage': ['lead'], 'to_stage': ['won'], 'n_from': [10], 'n_to': [2], "
        "'rate': [0.2], 'ci_low': [0.05], 'ci_high': [0.5]}))",
    ),
    ("code", "clk.show_versions()"),
]


def write_toy(folder: Path, name: str = "toy_report") -> Path:
    nb = nbformat.v4.new_notebook()
    for kind, src in TOY_CELLS:
        cell = (
            nbformat.v4.new_markdown_cell(src)
            if kind == "markdown"
            else nbformat.v4.new_code_cell(src)
        )
        nb.cells.append(cell)
    nb.cells[2].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def toy_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    write_toy(folder)
    return folder


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    (folder / "a.csv").write_text("x\n1\n")
    (folder / "b.csv").write_text("x\n2\n")
    return folder


@pytest.fixture(scope="session")
def toy_report(toy_templates: Path, toy_data: Path, tmp_path_factory: pytest.TempPathFactory):
    from closedloop_kit import report

    out = tmp_path_factory.mktemp("reports")
    return report.run(
        "toy-report", data=toy_data, params={"scale": 2}, out=out, templates=toy_templates
    )
