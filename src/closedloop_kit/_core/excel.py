"""Excel export of result frames (polars' ``write_excel``, which needs xlsxwriter)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from closedloop_kit.errors import MissingDependencyError

__all__ = ["write_frames"]


def write_frames(frames: Mapping[str, pl.DataFrame], path: str | Path) -> Path:
    """Write ``frames`` to one workbook, a sheet per frame (names cut to Excel's 31 chars)."""
    try:
        import xlsxwriter
    except ImportError as exc:  # pragma: no cover - xlsxwriter is a dependency
        msg = "writing Excel needs xlsxwriter: pip install xlsxwriter"
        raise MissingDependencyError(msg) from exc
    out = Path(path)
    with xlsxwriter.Workbook(str(out)) as book:
        for name, frame in frames.items():
            frame.write_excel(book, worksheet=name[:31], autofit=True)
    return out
