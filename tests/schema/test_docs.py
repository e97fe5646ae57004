"""docs/data-model.md documents every canonical column, generated from the schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from closedloop_kit.schema import TABLES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_data_model_page_matches_schema():
    spec = importlib.util.spec_from_file_location("gen", DOCS / "_gen_data_model.py")
    assert spec is not None
    assert spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    page = (DOCS / "data-model.md").read_text(encoding="utf-8")
    # the generated block is in the page verbatim: run docs/_gen_data_model.py if not
    assert gen.render() in page
    for name, table in TABLES.items():
        assert f"### `{name}`" in page
        for col in table.columns:
            assert f"| `{col}` |" in page
