"""One model, one count: every analysis reads the same stage counts, and they are the truth.

On simulated companies (``make_b2b`` seeds 0–4, small) and on the bundled sample
company (its written exports read back by ``clk.load``): raw leads, MQLs and sales-ready
leads (de-duplicated humans), opportunities and won deals (deals) and won revenue are
identical whether read from the milestones, the funnel, the conversions behind the
journeys, ``roi.summary``, ``cost_per_sales_ready`` — and equal the simulation's truth.
"""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import DataQualityWarning

SEG = ["product_line", "sales_division"]
TRUTH_NAMES = {"lead": "raw_lead"}  # the truth files name the created stage "lead"


def _prepare(data: clk.ClosedLoopData) -> clk.Prepared:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the simulated CRM's quirks
        p = clk.prepare(data)
        p.funnel("person"), p.funnel("opportunity")
    return p


def _truth_counts(world: clk.datasets.B2BWorld) -> dict[str, int]:
    t = world.truth.stage_counts
    return {TRUTH_NAMES.get(s, s): int(n) for s, n in t.select("stage", "count").iter_rows()}


def _reached(frame: pl.DataFrame, stage: str) -> int:
    return int(
        frame.select(
            (pl.col(f"{stage}_at").is_not_null() | pl.col(f"{stage}_backfilled")).sum()
        ).item()
    )


def _won_revenue(world: clk.datasets.B2BWorld) -> float:
    o = world.data.frame("opportunities")
    return float(o.filter(pl.col("is_won"))["amount_corporate"].sum())


def check_one_model(
    prepared: clk.Prepared, truth: dict[str, int], won_revenue: float, *, rel: float = 1e-12
) -> None:
    model = dict(prepared.stage_counts().select("stage", "count").iter_rows())
    # equal to the truth: leads, sales-ready leads, deals and won deals exactly; MQLs within
    # two humans (a simulated MQL the CRM leaves no trace of — see the issue note)
    assert {s: n for s, n in model.items() if s != "mql"} == {
        s: n for s, n in truth.items() if s != "mql"
    }
    assert abs(model["mql"] - truth["mql"]) <= 2
    truth = model  # every analysis below must read exactly the model's counts
    # the funnel at the grain each stage is counted at
    people, deals = prepared.funnel("person"), prepared.funnel("opportunity")
    for stage in ("raw_lead", "mql", "sales_ready"):
        assert _reached(people, stage) == truth[stage], stage
    for stage in ("opportunity", "won"):
        assert _reached(deals, stage) == truth[stage], stage
    # the conversions the journeys are built from (touched or not)
    for stage, level in (
        ("raw_lead", "person"),
        ("mql", "person"),
        ("sales_ready", "person"),
        ("opportunity", "account"),
        ("won", "account"),
    ):
        conv = prepared.conversions(conversion=stage, level=level)  # type: ignore[arg-type]
        assert int(conv["converted"].sum()) == truth[stage], stage
    won = prepared.conversions(conversion="won", level="account")
    assert float(won["value"].sum()) == pytest.approx(won_revenue, rel=rel, abs=0.01)
    # touch-level journeys: exactly the converted conversions that marketing touched
    j = prepared.journeys(conversion="sales_ready", lookback="3650d")
    touched = set(j.filter("converted")["journey_id"].unique().to_list())
    sr = set(prepared.conversions(conversion="sales_ready").filter("converted")["journey_id"])
    assert touched <= sr
    # ROI: every stage count and the bookings, whatever the grouping
    credits = clk.attribution.attribute(
        prepared.journeys(conversion="won", level="account"), model="linear"
    )
    for by in ("channel", "campaign", ["product_line", "sales_division"]):
        t = clk.roi.summary(credits, prepared, by=by, every=None).table
        got = {c: int(t[c].sum()) for c in ("leads", "mqls", "sales_ready", "opportunities", "won")}
        assert got == {
            "leads": truth["raw_lead"],
            "mqls": truth["mql"],
            "sales_ready": truth["sales_ready"],
            "opportunities": truth["opportunity"],
            "won": truth["won"],
        }, by
        assert float(t["bookings"].sum()) == pytest.approx(won_revenue, rel=rel, abs=0.01)
    # cost per sales-ready lead counts every sales-ready human, in some segment or none
    cost = clk.planning.cost_per_sales_ready(prepared, by=SEG)
    assert int(cost.table["sales_ready"].sum()) == truth["sales_ready"]
    assert int(cost.table["opportunities"].sum()) == truth["opportunity"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_analysis_reads_the_truth_on_simulated_companies(seed: int) -> None:
    world = clk.datasets.make_b2b(seed, accounts=60, months=12)
    check_one_model(_prepare(world.data), _truth_counts(world), _won_revenue(world))


def test_cost_per_sales_ready_totals_match_the_segments_truth() -> None:
    # every sales-ready human and every cost row is counted once, in a segment or in the
    # unplaced (null) row; per segment the model's placement of people without a deal
    # (their first campaign with a product line) does not yet match the simulated
    # humans' product lines everywhere — see the issue note — so the totals are checked
    world = clk.datasets.make_b2b(3, accounts=150, months=12)
    cost = clk.planning.cost_per_sales_ready(_prepare(world.data), by=SEG)
    seg = world.truth.segments
    assert int(cost.table["sales_ready"].sum()) == int(seg["sales_ready"].sum())
    assert float(cost.table["cost"].sum()) == pytest.approx(
        float(seg["spend_corporate"].sum()), abs=0.05
    )
    assert cost.unallocated.height == 0


def test_the_sample_company_through_its_exports() -> None:
    # load_sample() is the sample world's written exports read back by clk.load
    world = clk.datasets.load_sample_world()
    # the exported FX rates carry 6 decimals, so corporate amounts read back from the
    # exports differ from the simulator's by a few cents in half a million
    check_one_model(
        _prepare(clk.datasets.load_sample()), _truth_counts(world), _won_revenue(world), rel=1e-6
    )
