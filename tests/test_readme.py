"""The README's quick start runs as written on the bundled sample data."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_quick_start_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start in Jupyter\s+```python\n(.*?)```", text, flags=re.S)
    assert block is not None
    code = block.group(1).replace('data.save("warehouse/")', f"data.save({str(tmp_path / 'w')!r})")
    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings():
        # the quick start shows data-quality warnings to the analyst on purpose
        warnings.simplefilter("ignore", category=UserWarning)
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "w" / "manifest.json").exists()
    assert os.getcwd() == str(ROOT)
