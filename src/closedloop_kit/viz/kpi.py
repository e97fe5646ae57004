"""KPI tiles: the headline numbers of a review with the change against the previous period."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, cast

import polars as pl

from closedloop_kit._core.display import ColumnKind, format_value

__all__ = ["KPITiles", "kpi_tiles"]

_NEEDED = ("label", "kind", "current", "previous", "change")
_CSS = (
    ".clk-kpis{display:flex;flex-wrap:wrap;gap:.75rem;margin:.5rem 0 1rem;"
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}"
    ".clk-kpi{border:1px solid #d0d7de;border-radius:6px;padding:.6rem .8rem;min-width:10rem;"
    "background:#fff}"
    ".clk-kpi-label{font-size:.8rem;color:#57606a}"
    ".clk-kpi-value{font-size:1.5rem;font-weight:600;color:#1f2328}"
    ".clk-kpi-delta{font-size:.8rem}.clk-good{color:#1a7f37}.clk-bad{color:#cf222e}"
    ".clk-flat{color:#57606a}"
)


@dataclass(frozen=True)
class KPITiles:
    """HTML tiles (``.html``); notebooks and Voilà display them, reports keep them."""

    html: str
    table: pl.DataFrame

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def _delta(row: dict[str, Any], currency: str) -> tuple[str, str]:
    change, better = row["change"], row.get("better") or "up"
    previous = format_value(row["previous"], cast(ColumnKind, row["kind"]), currency=currency)
    if change is None:
        return f"previous {previous}", "clk-flat"
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "■")
    good = (change > 0) == (better == "up")
    css = "clk-flat" if change == 0 else ("clk-good" if good else "clk-bad")
    unit = " pts" if row["kind"] == "percent" else "%"  # a rate's change is in points
    return f"{arrow} {abs(change) * 100:,.1f}{unit} vs {previous}", css


def _exact(value: Any) -> str:
    """The unrounded value for machines (``repr`` round-trips a float); empty when missing."""
    return "" if value is None else repr(float(value))


def kpi_tiles(frame: pl.DataFrame, *, currency: str = "USD", title: str | None = None) -> KPITiles:
    """One tile per row of a KPI frame: the value, and the change against the previous period.

    Parameters
    ----------
    frame
        Columns ``label``, ``kind`` (``currency``, ``percent``, ``integer``, …),
        ``current``, ``previous``, ``change`` (relative; for ``kind == "percent"`` the
        difference in percentage points, shown as ``pts``), and optionally ``better``
        (``"up"`` or ``"down"``: whether a rise is good; colours the change) and ``kpi``
        (used as the tile's ``data-kpi`` attribute), as returned by
        :func:`closedloop_kit.widgets.kpis`. Each tile also carries the unrounded
        ``data-value`` and ``data-previous`` (read back by
        :func:`closedloop_kit.report.report_kpis`).
    currency
        Currency code of money values.
    title
        Optional heading above the tiles.

    Examples
    --------
    >>> import polars as pl
    >>> import closedloop_kit as clk
    >>> frame = pl.DataFrame({"kpi": ["pipeline"], "label": ["Pipeline"], "kind": ["currency"],
    ...                       "current": [120000.0], "previous": [100000.0], "change": [0.2]})
    >>> tiles = clk.viz.kpi_tiles(frame)
    >>> "$120,000" in tiles.html and "▲ 20.0% vs $100,000" in tiles.html
    True
    """
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        msg = f"`kpi_tiles` needs the columns {missing!r}; the frame has {frame.columns!r}"
        raise ValueError(msg)
    tiles = []
    for row in frame.iter_rows(named=True):
        kind = cast(ColumnKind, row["kind"])
        value = format_value(row["current"], kind, currency=currency)
        delta, css = _delta(row, currency)
        key = html.escape(str(row.get("kpi") or row["label"]))
        tiles.append(
            f'<div class="clk-kpi" data-kpi="{key}" data-value="{_exact(row["current"])}" '
            f'data-previous="{_exact(row["previous"])}">'
            f'<div class="clk-kpi-label">{html.escape(str(row["label"]))}</div>'
            f'<div class="clk-kpi-value">{html.escape(value)}</div>'
            f'<div class="clk-kpi-delta {css}">{html.escape(delta)}</div></div>'
        )
    head = f"<h3>{html.escape(title)}</h3>" if title else ""
    body = f'<style>{_CSS}</style>{head}<div class="clk-kpis">{"".join(tiles)}</div>'
    return KPITiles(html=body, table=frame)
