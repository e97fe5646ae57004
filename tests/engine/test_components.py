"""Connected components by label propagation equal scipy's on random graphs."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from closedloop_kit import engine
from tests.engine.conftest import ToEngine


def _labels(to_engine: ToEngine, edges: pl.DataFrame, nodes: pl.DataFrame | None = None):
    out = engine.connected_components(
        to_engine(edges), nodes=None if nodes is None else to_engine(nodes)
    )
    return engine.collect_polars(engine.lazy(out)).sort("node")


def test_known_components(to_engine: ToEngine) -> None:
    # a chain c-b-a, a pair x-y, a self loop z, and an isolated node q
    edges = pl.DataFrame({"src": ["c", "b", "x", "z"], "dst": ["b", "a", "y", "z"]})
    got = _labels(to_engine, edges, pl.DataFrame({"node": ["q", "a"]}))
    assert got.rows() == [
        ("a", "a"),
        ("b", "a"),
        ("c", "a"),
        ("q", "q"),
        ("x", "x"),
        ("y", "x"),
        ("z", "z"),
    ]


def test_long_chain_settles(to_engine: ToEngine) -> None:
    # a path of 200 nodes numbered backwards: plain propagation needs ~200 rounds, the
    # pointer jump brings it to a handful
    n = 200
    edges = pl.DataFrame({"src": list(range(1, n)), "dst": list(range(n - 1))}).select(
        pl.col("src").cast(pl.Int64), pl.col("dst").cast(pl.Int64)
    )
    got = _labels(to_engine, edges)
    assert got["component"].unique().to_list() == [0]
    assert got.height == n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_graph_equals_scipy(to_engine: ToEngine, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_nodes, n_edges = 600, 450
    u = rng.integers(0, n_nodes, n_edges)
    v = rng.integers(0, n_nodes, n_edges)
    edges = pl.DataFrame({"src": [f"n{i:04d}" for i in u], "dst": [f"n{i:04d}" for i in v]})
    got = _labels(to_engine, edges)
    # scipy on the same graph (nodes = edge endpoints)
    names = sorted(set(edges["src"]) | set(edges["dst"]))
    index = {name: i for i, name in enumerate(names)}
    rows = [index[x] for x in edges["src"]]
    cols = [index[x] for x in edges["dst"]]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(names), len(names)))
    _, lab = scipy_components(graph, directed=False)
    # the same partition: each scipy component maps to exactly one engine label, and the
    # engine's label is the smallest member
    want = pl.DataFrame({"node": names, "scipy": lab})
    both = got.join(want, on="node")
    assert both.height == len(names)
    pairs = both.select("component", "scipy").unique()
    assert pairs["component"].is_unique().all()
    assert pairs["scipy"].is_unique().all()
    smallest = both.group_by("scipy").agg(pl.col("node").min().alias("m"))
    assert both.join(smallest, on="scipy").select((pl.col("component") == pl.col("m")).all()).item()
