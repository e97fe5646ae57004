"""Connected components on the engine: iterative min-label propagation.

For identity graphs that do not fit in memory (or that live in a warehouse) the
components are computed where the edges are. Every node starts with its own id as its
label; each round sets ``label(v) = min(label(v), min_{(u,v) ∈ E} label(u))`` over the
undirected edges, then shortcuts ``label(v) = label(label(v))`` (pointer jumping, which
is valid because a label is always a node of the same component). The labels are stable
after O(diameter) rounds at most, usually far fewer with the shortcut; the stable label
of a node is the smallest node id of its component.
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw

from closedloop_kit.engine._backend import lazy, materialize, native, require

__all__ = ["connected_components"]


def connected_components(
    edges: Any,
    *,
    nodes: Any = None,
    source: str = "src",
    target: str = "dst",
    max_rounds: int = 100,
) -> Any:
    """Label every node with the smallest node id of its connected component.

    Parameters
    ----------
    edges
        Undirected edges (``source``, ``target``; string or integer ids) on any engine.
    nodes
        Optional frame with a ``node`` column: isolated nodes to include.
    source, target
        Edge endpoint columns.
    max_rounds
        Give up after this many propagation rounds (RuntimeError).

    Returns
    -------
    The engine's lazy frame ``node``, ``component`` (the smallest node id in the
    component; the same type as the ids), one row per node.

    Raises
    ------
    RuntimeError
        The labels did not settle in ``max_rounds`` rounds.

    Examples
    --------
    >>> import polars as pl
    >>> e = pl.LazyFrame({"src": ["b", "c", "x"], "dst": ["a", "b", "y"]})
    >>> connected_components(e).collect().sort("node").rows()
    [('a', 'a'), ('b', 'a'), ('c', 'a'), ('x', 'x'), ('y', 'x')]
    """
    e = lazy(edges)
    require(e, [source, target], func="connected_components")
    e = e.select(nw.col(source).alias("u"), nw.col(target).alias("v")).filter(
        ~nw.col("u").is_null() & ~nw.col("v").is_null()
    )
    both = nw.concat(
        [e, e.select(nw.col("v").alias("u"), nw.col("u").alias("v"))], how="vertical"
    ).unique()
    both = materialize(both)
    endpoints = both.select(nw.col("u").alias("node"))
    if nodes is not None:
        n = lazy(nodes)
        require(n, ["node"], func="connected_components")
        endpoints = nw.concat([endpoints, n.select("node")], how="vertical")
    # first round folded in: a node's label starts as min(node, its neighbours)
    labels = materialize(
        nw.concat(
            [
                endpoints.select("node", nw.col("node").alias("label")),
                both.select(nw.col("u").alias("node"), nw.col("v").alias("label")),
            ],
            how="vertical",
        )
        .group_by("node")
        .agg(nw.col("label").min())
    )
    for _ in range(max_rounds):
        labels, changed = _round(labels, both)
        if changed == 0:
            return native(labels.select("node", nw.col("label").alias("component")))
    msg = (
        f"connected_components: labels still changing after {max_rounds} rounds; "
        "raise `max_rounds` (graphs with very long chains need about log2(length) rounds)"
    )
    raise RuntimeError(msg)


def _round(labels: nw.LazyFrame[Any], both: nw.LazyFrame[Any]) -> tuple[nw.LazyFrame[Any], int]:
    """One propagation round plus a pointer jump; returns new labels and how many moved."""
    from_neighbours = both.join(labels, left_on="u", right_on="node", how="inner").select(
        nw.col("v").alias("node"), nw.col("label").alias("cand")
    )
    spread = (
        nw.concat([labels.select("node", nw.col("label").alias("cand")), from_neighbours])
        .group_by("node")
        .agg(nw.col("cand").min().alias("label"))
    )
    # pointer jumping: a node takes its label's label
    jumped = spread.join(
        spread.select(nw.col("node").alias("__l"), nw.col("label").alias("__ll")),
        left_on="label",
        right_on="__l",
        how="left",
    ).select(
        "node",
        nw.when(~nw.col("__ll").is_null() & (nw.col("__ll") < nw.col("label")))
        .then(nw.col("__ll"))
        .otherwise(nw.col("label"))
        .alias("label"),
    )
    new = materialize(jumped)
    moved = new.join(labels.select("node", nw.col("label").alias("__old")), on="node").select(
        (nw.col("label") != nw.col("__old")).cast(nw.Int64).sum().alias("n")
    )
    changed = int(moved.collect(backend="polars").to_native()["n"][0] or 0)
    return new, changed
