"""The simulated companies are the same on every polars version: every sort is stable.

polars' default sort may order ties differently from one release to the next (2.2 did,
and the committed sample stopped matching its generator). A sort that keeps ties in
their order (``maintain_order=True``) gives the same rows whatever the release, so the
generator uses no other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import closedloop_kit.datasets as datasets

ROOT = Path(datasets.__file__).parent


def _unstable_sorts(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "sort":
            continue
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id == "np":
            continue  # numpy sorts values: ties are equal numbers
        keywords = {k.arg for k in node.keywords}
        if "key" in keywords:
            continue  # list.sort is stable
        if "maintain_order" not in keywords:
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_every_frame_sort_in_the_generator_keeps_ties_in_order():
    found = [hit for p in sorted(ROOT.rglob("*.py")) for hit in _unstable_sorts(p)]
    assert found == []
