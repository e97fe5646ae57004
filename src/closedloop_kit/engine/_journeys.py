"""Touchpoints → journeys on any engine: identity applied, lookback window, ordered touches.

Everything here is narwhals lazy: given a polars LazyFrame the plan runs on polars'
streaming engine, given a DuckDB relation or a Spark DataFrame it runs there, and the
functions return the engine's own lazy object (nothing is collected).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals.stable.v2 as nw

from closedloop_kit.config import parse_duration
from closedloop_kit.engine._backend import lazy, native, ordered_join, require

__all__ = ["apply_identity", "journey_touches", "journeys"]

_POSITION_ORDER = ["occurred_at", "touchpoint_id"]


def apply_identity(touchpoints: Any, links: Any, *, anonymous_id: str = "anonymous_id") -> Any:
    """Fill ``person_id`` / ``account_id`` of anonymous touches from identity links.

    ``person_id = coalesce(touch.person_id, link.person_id)`` and the same for
    ``account_id``, joining on ``anonymous_id``. When a link table maps one anonymous id
    to several people the smallest ``person_id`` (and ``account_id``) wins, so the result
    does not depend on row order.

    Parameters
    ----------
    touchpoints
        Touches with ``anonymous_id`` and ``person_id`` (``account_id`` optional), as a
        polars, DuckDB, Spark or Ibis frame.
    links
        ``anonymous_id`` → ``person_id`` (``account_id`` optional), on the same engine.
    anonymous_id
        Name of the visitor id column in both frames.

    Returns
    -------
    The touches on the same engine, one row per input touch.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.LazyFrame({"touchpoint_id": ["t1", "t2", "t3"],
    ...                   "anonymous_id": ["v1", "v2", None], "person_id": [None, None, "p9"]})
    >>> links = pl.LazyFrame({"anonymous_id": ["v1", "v1"], "person_id": ["p2", "p1"]})
    >>> apply_identity(t, links).sort("touchpoint_id").collect()["person_id"].to_list()
    ['p1', None, 'p9']
    """
    t = lazy(touchpoints)
    lk = lazy(links)
    require(t, [anonymous_id, "person_id"], func="apply_identity")
    require(lk, [anonymous_id, "person_id"], func="apply_identity")
    has_account = "account_id" in lk.collect_schema().names()
    t_has_account = "account_id" in t.collect_schema().names()
    aggs = [nw.col("person_id").min().alias("__person")]
    if has_account:
        aggs.append(nw.col("account_id").min().alias("__account"))
    best = lk.filter(~nw.col(anonymous_id).is_null()).group_by(anonymous_id).agg(*aggs)
    joined = t.join(best, on=anonymous_id, how="left")
    fills = [nw.coalesce(nw.col("person_id"), nw.col("__person")).alias("person_id")]
    drop = ["__person"]
    if has_account:
        drop.append("__account")
        fills.append(
            nw.coalesce(nw.col("account_id"), nw.col("__account")).alias("account_id")
            if t_has_account
            else nw.col("__account").alias("account_id")
        )
    return native(joined.with_columns(*fills).drop(*drop))


def _one_conversion(conversions: nw.LazyFrame[Any], key: str) -> nw.LazyFrame[Any]:
    """The first conversion per key (ties at the same time: the largest value)."""
    has_value = "value" in conversions.collect_schema().names()
    conv = conversions.select(
        nw.col(key),
        nw.col("conversion_at"),
        (nw.col("value") if has_value else nw.lit(0.0)).cast(nw.Float64).alias("value"),
    ).filter(~nw.col("conversion_at").is_null())
    first = conv.group_by(key).agg(nw.col("conversion_at").min())
    return (
        conv.join(first, on=[key, "conversion_at"], how="inner")
        .group_by(key, "conversion_at")
        .agg(nw.col("value").max())
    )


def journey_touches(
    touchpoints: Any,
    conversions: Any,
    *,
    key: str = "person_id",
    lookback: str | int | dt.timedelta = "180d",
    end: Any = None,
    include_non_converting: bool = True,
    collapse_repeats: bool = False,
) -> Any:
    """Touch-level journeys: the touches of each key inside its lookback window.

    A journey is one ``key`` (a person or an account). Converting journeys end at the
    key's first ``conversion_at``; the others end at ``end`` (default: the latest touch).
    A touch belongs to the journey when ``end − lookback ≤ occurred_at ≤ end``.
    ``position`` numbers the kept touches 0, 1, … by ``occurred_at`` then
    ``touchpoint_id``, the same order :meth:`closedloop_kit.Prepared.journeys` uses.

    Parameters
    ----------
    touchpoints
        ``touchpoint_id``, ``key``, ``occurred_at``, ``channel`` (classified), on any
        engine; touches without a key are dropped.
    conversions
        ``key``, ``conversion_at`` and optionally ``value`` on the same engine.
    key
        Column that identifies a journey (``"person_id"`` or ``"account_id"``).
    lookback
        Window before the end (``"180d"``, ``"6mo"``, days as an int).
    end
        A one-row frame on the same engine with column ``end_at`` (data end for journeys
        that did not convert); default the latest ``occurred_at``.
    include_non_converting
        Keep journeys that did not convert.
    collapse_repeats
        Drop a touch whose channel equals the previous kept touch's (``A > A > B`` →
        ``A > B``), before numbering.

    Returns
    -------
    The engine's lazy frame: ``journey_id`` (string), ``touchpoint_id``, ``occurred_at``,
    ``channel``, ``position`` (Int64, 0-based), ``converted`` (bool), ``conversion_at``,
    ``value`` (the conversion's value, 0.0 when it did not convert).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> d = lambda day: dt.datetime(2025, 1, day, tzinfo=dt.UTC)
    >>> tp = pl.LazyFrame({"touchpoint_id": ["a", "b", "c", "d"],
    ...     "person_id": ["p1", "p1", "p1", "p2"], "occurred_at": [d(1), d(9), d(5), d(2)],
    ...     "channel": ["Email", "Search", "Email", "Direct"]})
    >>> conv = pl.LazyFrame({"person_id": ["p1"], "conversion_at": [d(6)], "value": [100.0]})
    >>> j = journey_touches(tp, conv, lookback="30d").collect().sort("journey_id", "position")
    >>> j.select("journey_id", "channel", "position", "converted", "value").rows()
    ... # doctest: +NORMALIZE_WHITESPACE
    [('p1', 'Email', 0, True, 100.0), ('p1', 'Email', 1, True, 100.0),
     ('p2', 'Direct', 0, False, 0.0)]
    """
    window_us = int(parse_duration(lookback) / dt.timedelta(microseconds=1))
    t = lazy(touchpoints)
    require(t, ["touchpoint_id", key, "occurred_at", "channel"], func="journey_touches")
    c = lazy(conversions)
    require(c, [key, "conversion_at"], func="journey_touches")
    t = t.select(
        nw.col(key).cast(nw.String).alias("journey_id"),
        nw.col("touchpoint_id").cast(nw.String),
        "occurred_at",
        nw.col("channel").cast(nw.String),
    ).filter(~nw.col("journey_id").is_null())
    conv = _one_conversion(c, key).select(
        nw.col(key).cast(nw.String).alias("journey_id"), "conversion_at", "value"
    )
    if end is None:
        data_end = t.select(nw.col("occurred_at").max().alias("end_at"))
    else:
        data_end = lazy(end).select("end_at")
    j = (
        t.join(conv, on="journey_id", how="left")
        .with_columns(nw.lit(1).alias("__one"))
        .join(data_end.with_columns(nw.lit(1).alias("__one")), on="__one", how="inner")
        .with_columns(
            ~nw.col("conversion_at").is_null().alias("converted"),
            nw.when(~nw.col("conversion_at").is_null())
            .then(nw.col("conversion_at"))
            .otherwise(nw.col("end_at"))
            .alias("__end"),
        )
    )
    if not include_non_converting:
        j = j.filter(nw.col("converted"))
    start = nw.col("__end").dt.offset_by(f"-{window_us}us")
    j = j.filter((nw.col("occurred_at") <= nw.col("__end")) & (nw.col("occurred_at") >= start))
    if collapse_repeats:
        prev = nw.col("channel").shift(1).over("journey_id", order_by=_POSITION_ORDER)
        j = j.filter(prev.is_null() | (prev != nw.col("channel")))
    j = j.with_columns(
        (nw.col("channel").cum_count().over("journey_id", order_by=_POSITION_ORDER) - 1)
        .cast(nw.Int64)
        .alias("position"),
        nw.when(nw.col("converted"))
        .then(nw.col("value").fill_null(0.0))
        .otherwise(nw.lit(0.0))
        .cast(nw.Float64)
        .alias("value"),
    )
    return native(
        j.select(
            "journey_id",
            "touchpoint_id",
            "occurred_at",
            "channel",
            "position",
            "converted",
            "conversion_at",
            "value",
        )
    )


def journeys(journey_touches: Any, *, sep: str = ">") -> Any:
    """One row per journey: ordered channel path, conversion, value, first/last touch.

    Parameters
    ----------
    journey_touches
        Output of :func:`journey_touches` (``journey_id``, ``position``, ``channel``,
        ``occurred_at``, ``converted``, ``value``) on any engine.
    sep
        Separator between channels in ``path``.

    Returns
    -------
    The engine's lazy frame: ``journey_id``, ``path`` (channels by ``position`` joined
    by ``sep``), ``n_touches`` (Int64), ``converted``, ``value``, ``first_touch_at``,
    ``last_touch_at``.

    Examples
    --------
    >>> import polars as pl
    >>> jt = pl.LazyFrame({"journey_id": ["j", "j", "k"], "position": [1, 0, 0],
    ...     "channel": ["B", "A", "A"], "occurred_at": [2, 1, 5],
    ...     "converted": [True, True, False], "value": [5.0, 5.0, 0.0]})
    >>> journeys(jt).collect().sort("journey_id").select("journey_id", "path").rows()
    [('j', 'A>B'), ('k', 'A')]
    """
    jt = lazy(journey_touches)
    require(
        jt,
        ["journey_id", "position", "channel", "occurred_at", "converted", "value"],
        func="journeys",
    )
    facts = jt.group_by("journey_id").agg(
        nw.col("position").count().cast(nw.Int64).alias("n_touches"),
        nw.col("converted").any().alias("converted"),
        nw.col("value").max().alias("value"),
        nw.col("occurred_at").min().alias("first_touch_at"),
        nw.col("occurred_at").max().alias("last_touch_at"),
    )
    path = ordered_join(
        jt.select("journey_id", "position", "channel"),
        by="journey_id",
        value="channel",
        order=["position"],
        sep=sep,
        name="path",
    )
    out = path.join(facts, on="journey_id", how="inner").select(
        "journey_id",
        "path",
        "n_touches",
        "converted",
        "value",
        "first_touch_at",
        "last_touch_at",
    )
    return native(out)
