"""Helpers shared by the tests: the funnel of a ClosedLoopData through the prepared model."""

from __future__ import annotations

import warnings
from typing import Any

import closedloop_kit as clk


def prepared(data: clk.ClosedLoopData, **kw: Any) -> clk.Prepared:
    """``clk.prepare`` of tables used as they are (no identity resolution)."""
    kw.setdefault("identity", False)
    return clk.prepare(data, **kw)


def build_funnel(
    data: clk.ClosedLoopData,
    *,
    grain: str = "person",
    period: str = "month",
    on_backwards: str = "reject",
    contact_roles: str = "primary",
    result: bool = False,
    quiet: bool = False,
    **settings: Any,
) -> Any:
    """The funnel frame (or, with ``result=True``, the build result) at ``grain``."""
    p = prepared(data, **settings)
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", clk.errors.DataQualityWarning)
        r = p.funnel_result(
            grain,  # type: ignore[arg-type]
            cohort=period,
            on_backwards=on_backwards,
            contact_roles=contact_roles,
        )
    return r if result else r.table


def canonical(name: str, rows: list[dict[str, Any]]) -> Any:
    """Rows in the canonical shape of table ``name`` (missing columns null, extras kept)."""
    import polars as pl

    from closedloop_kit.schema import empty_table

    template = empty_table(name)
    template = template.collect() if isinstance(template, pl.LazyFrame) else template
    frame = pl.DataFrame(rows)
    return pl.concat([template, frame], how="diagonal_relaxed").select(
        [*template.columns, *[c for c in frame.columns if c not in template.columns]]
    )
