"""One result convention for every analysis.

An analysis returns either a plain eager :class:`polars.DataFrame` (when one table says
everything) or a frozen dataclass that derives from :class:`Result`. A result holds
eager frames and the parameters that produced them and offers, through this base:

- ``.table``: the main eager frame (a dataclass field of every result);
- ``.summary()``: the frame to read first (``.table`` unless a result says otherwise);
- ``.to_pandas()``: ``.table`` as a pandas DataFrame;
- ``.write_excel(path)``: every frame of the result, one sheet each;
- ``_repr_html_`` / ``__repr__``: the title, the parameters and the frames, for notebooks.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Result", "frames_html"]


def frames_html(
    title: str, params: Mapping[str, object], frames: Mapping[str, pl.DataFrame]
) -> str:
    """HTML for a result: a title, the parameters and each frame formatted for people.

    Frames go through :func:`closedloop_kit._core.display.table_html` (currency,
    percentages, thousands separators, no dtype row); the summary is open, the other
    frames are folded.
    """
    from closedloop_kit._core.display import format_value, table_html

    p = ", ".join(f"{k}={format_value(v, 'text')}" for k, v in params.items())
    parts = [f"<div><b>{html.escape(title)}</b> <small>{html.escape(p)}</small>"]
    for i, (name, frame) in enumerate(frames.items()):
        label = name.replace("_", " ")
        parts.append(
            f"<details{' open' if i == 0 else ''}><summary>{html.escape(label)} "
            f"({frame.height:,} rows)</summary>{table_html(frame, max_rows=50)}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


class Result:
    """Base of every ``…Result``: display, pandas and Excel export from the frames it holds.

    Subclasses are frozen dataclasses with at least a ``table`` field (an eager frame)
    and usually ``params``; they override :meth:`summary` or :meth:`frames` when the
    frame to read first or the frames worth showing differ from the defaults.
    """

    table: pl.DataFrame

    def summary(self) -> pl.DataFrame:
        """The frame to read first (the main table unless the result says otherwise)."""
        return self.table

    def frames(self) -> dict[str, pl.DataFrame]:
        """Every eager frame the result holds, by field name (summary first)."""
        summary = self.summary()
        out: dict[str, pl.DataFrame] = {"summary": summary}
        for name, value in vars(self).items():
            # the summary is usually `.table` itself: list it once
            if isinstance(value, pl.DataFrame) and name not in out and value is not summary:
                out[name] = value
        return out

    def to_pandas(self) -> pd.DataFrame:
        """``.table`` as a pandas DataFrame (needs pandas)."""
        return self.table.to_pandas()

    def write_excel(self, path: str | Path) -> Path:
        """Write every frame of the result to ``path`` (one sheet per frame); returns it."""
        from closedloop_kit._core.excel import write_frames

        return write_frames(self.frames(), path)

    def _params(self) -> Mapping[str, Any]:
        params = getattr(self, "params", None)
        return params if isinstance(params, Mapping) else {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._params())!r})\n{self.summary()}"

    def _repr_html_(self) -> str:
        return frames_html(type(self).__name__, self._params(), self.frames())
