"""Properties of every simulated company, whatever the seed and size."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop_kit.datasets import make_b2b
from closedloop_kit.schema import TABLES, validate


@settings(max_examples=6)
@given(
    seed=st.integers(0, 10_000),
    accounts=st.integers(1, 40),
    months=st.integers(1, 9),
)
def test_any_world_is_valid_and_its_funnel_never_rises(seed, accounts, months):
    world = make_b2b(seed, accounts=accounts, months=months)
    for name in TABLES:
        assert validate(world.data.frame(name), name).n_rejected == 0, name
    counts = world.truth.stage_counts["count"].to_list()
    assert counts == sorted(counts, reverse=True)
    # every decided journey's outcome is the person's sales-ready flag
    decided = world.truth.humans.filter(pl.col("decided"))
    assert decided.filter(pl.col("sales_ready")).height == counts[2]
    # identity truth covers every record; every anonymous id belongs to someone
    assert world.truth.identity.height == world.data.frame("people").height
    assert world.truth.visitors["true_person_key"].null_count() == 0
