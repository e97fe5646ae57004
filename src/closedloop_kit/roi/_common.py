"""Inputs shared by the ROI functions: credit frames, data defaults, group keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from closedloop_kit._core.frames import collect, require_columns
from closedloop_kit.store import ClosedLoopData

__all__ = ["as_by", "credits_frame", "funnel_column", "table_or_none"]

FUNNEL_DIMENSIONS = {"channel": "first_touch_channel", "campaign": "first_touch_campaign_id"}
"""ROI group key → funnel column used when the funnel lacks the key itself."""


def as_by(by: str | Sequence[str] | None) -> list[str]:
    """``by`` as a list (a string is one column)."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def credits_frame(credits: Any, *, func: str) -> tuple[pl.DataFrame, str | None]:
    """The credit frame of an :class:`AttributionResult` (or a frame) and the model name."""
    model = None
    frame = credits
    if hasattr(credits, "credits") and hasattr(credits, "model"):
        model = str(credits.model)
        frame = credits.credits
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        msg = f"`credits` must be an AttributionResult or a polars frame, got {type(credits)!r}"
        raise TypeError(msg)
    frame = collect(frame)
    require_columns(frame, ["journey_id", "channel", "credit", "credited_value"], func=func)
    return frame, model


def table_or_none(
    given: pl.DataFrame | pl.LazyFrame | None, data: ClosedLoopData | None, name: str
) -> pl.DataFrame | None:
    """``given`` collected, else ``data``'s table, else ``None``."""
    if given is not None:
        return collect(given)
    if data is not None:
        return data.frame(name)
    return None


def funnel_column(funnel_cols: Sequence[str], key: str) -> str | None:
    """The funnel column that holds ROI group key ``key`` (``None`` if there is none)."""
    if key in funnel_cols:
        return key
    alt = FUNNEL_DIMENSIONS.get(key)
    if alt is not None and alt in funnel_cols:
        return alt
    return None
