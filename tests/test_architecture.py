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


def test_import_is_fast():
    code = (
        "import time; t = time.perf_counter(); import closedloop_kit; "
        "print(time.perf_counter() - t)"
    )
    # best of three to keep a loaded CI box from flaking; the goal is < 1 s
    assert min(float(_run(code)) for _ in range(3)) < 1.0


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
