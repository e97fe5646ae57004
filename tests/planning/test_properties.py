"""Hypothesis properties of clk.planning."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import closedloop_kit as clk
from closedloop_kit.planning import budget, cost_per_sales_ready, funding_schedule
from tests.helpers import canonical

SEGS = [("A", "X"), ("A", "Y"), ("B", "X")]
T = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@given(
    st.lists(st.tuples(st.sampled_from([*SEGS, None]), st.floats(0.0, 1e5)), max_size=15),
    st.lists(st.sampled_from(SEGS), min_size=1, max_size=20),
    st.sampled_from(["campaign", "pro_rata_leads"]),
)
def test_cost_reconciles_under_any_allocation(
    spend_rows: list[tuple[tuple[str, str] | None, float]],
    leads: list[tuple[str, str]],
    allocation: str,
) -> None:
    camps = pl.DataFrame(
        {
            "campaign_id": [f"{p}{d}" for p, d in SEGS],
            "name": [f"{p}{d}" for p, d in SEGS],
            "product_line": [p for p, _ in SEGS],
            "sales_division": [d for _, d in SEGS],
        }
    )
    spend = pl.DataFrame(
        {
            "date": [dt.date(2026, 1, 1)] * len(spend_rows),
            "campaign_id": [None if s is None else f"{s[0]}{s[1]}" for s, _ in spend_rows],
            "channel": ["Display"] * len(spend_rows),
            "currency": ["USD"] * len(spend_rows),
            "cost": [c for _, c in spend_rows],
        },
        schema_overrides={"campaign_id": pl.String, "cost": pl.Float64},
    )
    people = canonical(
        "people",
        [
            {
                "person_id": f"p{i}",
                "person_type": "lead",
                "created_at": T,
                "status_raw": "Qualified",
                "product_line": p,
                "sales_division": d,
            }
            for i, (p, d) in enumerate(leads)
        ],
    )
    data = clk.ClosedLoopData({"people": people, "spend": spend, "campaigns": camps})
    r = cost_per_sales_ready(clk.prepare(data, identity=False), allocation=allocation)  # type: ignore[arg-type]
    total = sum(c for _, c in spend_rows)
    assert r.table["cost"].sum() + r.unallocated["cost_corporate"].fill_null(
        0.0
    ).sum() == pytest.approx(total, abs=1e-6)


@given(
    st.floats(1.0, 1e4),
    st.floats(0.01, 1.0),
    st.floats(1e3, 1e6),
    st.floats(0.1, 10.0),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6).filter(lambda x: sum(x) > 0),
)
def test_budget_and_funding_scale(
    cost: float, rate: float, deal: float, scale: float, profile: list[float]
) -> None:
    commitments = pl.DataFrame({"quarter": ["2027Q1"], "bookings": [1e6]})
    costs = pl.DataFrame(
        {
            "cost_per_sales_ready": [cost],
            "sales_ready_to_won_rate": [rate],
            "average_deal_size": [deal],
        }
    )
    plan = budget(commitments, costs, by=[])
    # a bookings commitment implies exactly the committed bookings
    assert plan.table["implied_bookings"][0] == pytest.approx(1e6)
    # budget is linear in cost per sales-ready lead
    assert plan.what_if(cost_scale=scale).table["budget"][0] == pytest.approx(
        scale * plan.table["budget"][0]
    )
    prof = pl.DataFrame({"quarter_offset": list(range(len(profile))), "share": profile})
    s = funding_schedule(plan, prof)
    # every part of the budget is scheduled, no later than the target quarter
    assert s.by_quarter["funding"].sum() == pytest.approx(plan.table["budget"][0])
    assert s.landing["share"].sum() == pytest.approx(1.0)
