"""Path-level form of journeys: one row per distinct channel path, like ChannelAttribution.

Data-driven models (Markov, Shapley, regression) only need how many journeys followed
each path and how many of them converted, so they run on this aggregated form; a million
journeys usually collapse to a few hundred thousand paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa

from closedloop_kit._core.frames import collect, column_names, require_columns, to_lazy
from closedloop_kit._core.types import AnyFrame
from closedloop_kit.prepared import transform_touches

__all__ = [
    "PathTable",
    "PathTransform",
    "code_names",
    "parse_paths",
    "path_table",
    "paths",
]

PathTransform = Literal["none", "collapse", "first", "unique"]
"""How a journey's channel sequence is simplified before building its path.

``"none"`` keeps every touch; ``"collapse"`` merges consecutive repeats
(``A > A > B > A`` → ``A > B > A``); ``"first"`` keeps each channel's first occurrence
(``A > B``); ``"unique"`` keeps the set of channels in sorted order (``A > B``).
"""


@dataclass(frozen=True)
class PathTable:
    """Distinct paths with their counts; channels are coded ``0 … C−1``.

    Attributes
    ----------
    channels
        Channel names; code ``i`` is ``channels[i]``.
    table
        ``path_id``, ``path`` (list of codes), ``conversions``, ``nulls``, ``value``.
    journey_paths
        ``journey_id`` → ``path_id`` (``None`` when built from aggregated paths).
    """

    channels: list[str]
    table: pl.DataFrame
    journey_paths: pl.DataFrame | None


def code_names(pt: PathTable) -> pl.DataFrame:
    """``code`` → ``channel`` lookup frame for a path table."""
    return pl.DataFrame(
        {"code": list(range(len(pt.channels))), "channel": pt.channels},
        schema={"code": pl.UInt32, "channel": pl.String},
    )


def path_table(
    journeys: AnyFrame, *, transform: str = "none", func: str = "attribute"
) -> PathTable:
    """Aggregate touch-level journeys into a :class:`PathTable`."""
    require_columns(
        to_lazy(journeys), ["journey_id", "channel", "position", "converted"], func=func
    )
    has_value = "value" in column_names(journeys)
    lazy = to_lazy(journeys).select(
        "journey_id",
        pl.col("channel").cast(pl.String),
        "position",
        "converted",
        (pl.col("value") if has_value else pl.lit(None, pl.Float64))
        .cast(pl.Float64)
        .alias("value"),
    )
    j = collect(lazy.sort("journey_id", "position"))
    j = collect(transform_touches(j.lazy(), transform))
    channels = sorted(j["channel"].drop_nulls().unique().to_list())
    if j["channel"].null_count():
        msg = "`channel` has nulls; classify touches first (clk.channels.classify)"
        raise ValueError(msg)
    enum = pl.Enum(channels)
    per = j.group_by("journey_id", maintain_order=True).agg(
        pl.col("channel").cast(enum).to_physical().alias("path"),
        pl.col("converted").first().cast(pl.Float64).alias("_conv"),
        pl.col("value").first().alias("_value"),
    )
    if transform == "unique":
        per = per.with_columns(pl.col("path").list.sort())
    table = (
        per.group_by("path")
        .agg(
            pl.col("_conv").sum().alias("conversions"),
            (1.0 - pl.col("_conv")).sum().alias("nulls"),
            (pl.col("_value") * pl.col("_conv")).sum().alias("value"),
        )
        .sort("path")
        .with_row_index("path_id")
        .with_columns(pl.col("path_id").cast(pl.Int64))
    )
    jp = per.select("journey_id", "path").join(
        table.select("path", "path_id"), on="path", how="left"
    )
    return PathTable(channels, table, jp.select("journey_id", "path_id"))


def paths(journeys: AnyFrame, *, sep: str = ">", transform: PathTransform = "none") -> pl.DataFrame:
    """Aggregate journeys into ChannelAttribution-style paths.

    Parameters
    ----------
    journeys
        Touch-level journeys (``journey_id``, ``channel``, ``position``, ``converted``,
        optional ``value``), e.g. from :func:`journeys`.
    sep
        Separator between channels in the path string.
    transform
        Path simplification (:data:`PathTransform`).

    Returns
    -------
    pl.DataFrame
        ``path`` (string), ``conversions`` (converting journeys), ``value`` (their summed
        value), ``nulls`` (non-converting journeys), sorted by path.

    Examples
    --------
    >>> import polars as pl
    >>> j = pl.DataFrame({"journey_id": [1, 1, 2, 3, 3], "channel": list("ABABB"),
    ...                   "position": [0, 1, 0, 0, 1], "converted": [1, 1, 0, 0, 0],
    ...                   "value": [10.0, 10, 0, 0, 0]}).with_columns(pl.col("converted") == 1)
    >>> paths(j)
    shape: (3, 4)
    ┌──────┬─────────────┬───────┬───────┐
    │ path ┆ conversions ┆ value ┆ nulls │
    │ ---  ┆ ---         ┆ ---   ┆ ---   │
    │ str  ┆ f64         ┆ f64   ┆ f64   │
    ╞══════╪═════════════╪═══════╪═══════╡
    │ A    ┆ 0.0         ┆ 0.0   ┆ 1.0   │
    │ A>B  ┆ 1.0         ┆ 10.0  ┆ 0.0   │
    │ B>B  ┆ 0.0         ┆ 0.0   ┆ 1.0   │
    └──────┴─────────────┴───────┴───────┘
    """
    pt = path_table(journeys, transform=transform, func="paths")
    return (
        pt.table.with_columns(
            pl.col("path")
            .list.eval(
                pl.element().replace_strict(
                    list(range(len(pt.channels))), pt.channels, return_dtype=pl.String
                )
            )
            .list.join(sep)
            .alias("path_str")
        )
        .select(pl.col("path_str").alias("path"), "conversions", "value", "nulls")
        .sort(pl.col("path").str.len_chars(), "path")
    )


def parse_paths(
    paths_frame: AnyFrame,
    *,
    sep: str = ">",
    path: str = "path",
    conversions: str = "conversions",
    value: str | None = "value",
    nulls: str | None = "nulls",
) -> PathTable:
    """Read ChannelAttribution-style aggregated paths into a :class:`PathTable`."""
    present = column_names(paths_frame)
    require_columns(to_lazy(paths_frame), [path, conversions], func="attribute_paths")
    p = collect(
        to_lazy(paths_frame).select(
            pl.col(path).cast(pl.String).alias("_path"),
            pl.col(conversions).cast(pl.Float64).fill_null(0.0).alias("conversions"),
            (pl.col(nulls) if nulls is not None and nulls in present else pl.lit(0.0))
            .cast(pl.Float64)
            .fill_null(0.0)
            .alias("nulls"),
            (pl.col(value) if value is not None and value in present else pl.lit(None, pl.Float64))
            .cast(pl.Float64)
            .alias("value"),
        )
    )
    # duplicate path strings are fine: every model sums over rows
    steps = p["_path"].str.split(sep)
    lengths = steps.list.len().to_numpy()
    flat = steps.explode().str.strip_chars()
    channels = sorted(flat.drop_nulls().unique().to_list())
    codes = flat.cast(pl.Enum(channels)).to_physical().cast(pl.UInt32).to_arrow()
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    nested = pl.Series(pa.ListArray.from_arrays(offsets, codes))
    table = pl.DataFrame(
        {
            "path_id": pl.int_range(p.height, eager=True).cast(pl.Int64),
            "path": nested,
            "conversions": p["conversions"],
            "nulls": p["nulls"],
            "value": p["value"],
        }
    )
    return PathTable(channels, table, None)
