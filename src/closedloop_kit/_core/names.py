"""Campaign names as match keys: one normalisation for every layer."""

from __future__ import annotations

import polars as pl

__all__ = ["norm_name"]


def norm_name(expr: pl.Expr) -> pl.Expr:
    """A campaign name as a match key: lower case, letters and digits only.

    The one normalisation for every campaign-name match (channel classification of
    offline touches, touches, costs, ROI), so ``"Q3 ABM - EMEA"``, ``"q3_abm_emea"`` and
    ``"Q3-ABM-EMEA"`` are one campaign. Where one key names several CRM campaigns, the
    callers match none of them.

    Examples
    --------
    >>> pl.select(norm_name(pl.lit(" Q3 ABM - EMEA "))).item()
    'q3abmemea'
    """
    return expr.cast(pl.String).str.to_lowercase().str.replace_all(r"[^a-z0-9]+", "")
