"""The package's shape: fast import, lazy heavy dependencies, curated namespace."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("altair", "statsmodels", "ipywidgets", "papermill", "vl_convert", "pandera")


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout.strip()


def test_import_does_not_load_heavy_dependencies():
    code = (
        "import sys, closedloop_kit as clk; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert _run(code) == ""


def _private_imports() -> list[str]:
    """``file: module`` for every import of another package's private ``_module``."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "src" / "closedloop_kit"
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        own = rel.parts[0] if len(rel.parts) > 1 else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "closedloop_kit" or len(parts) < 3:
                    continue
                package, module = parts[1], parts[2]
                # the core (_core, errors) is for everyone; a package's own modules are its own
                if package.startswith("_") or package == own:
                    continue
                if module.startswith("_"):
                    found.append(f"{rel}: {name}")
    return found


def test_no_package_imports_another_packages_private_modules():
    # a package is used through its __init__; reaching into its _modules couples layers
    assert _private_imports() == []


def test_version_and_show_versions(capsys):
    import closedloop_kit as clk

    assert clk.__version__.count(".") >= 2
    clk.show_versions()
    out = capsys.readouterr().out
    assert "closedloop_kit:" in out
    assert "polars:" in out


def test_all_is_sorted_and_resolvable():
    import closedloop_kit as clk

    assert clk.__all__ == sorted(clk.__all__, key=str)
    for name in clk.__all__:
        assert getattr(clk, name) is not None, name


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    import closedloop_kit as clk

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = clk.nope
