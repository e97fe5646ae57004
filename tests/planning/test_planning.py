"""Known-value tests of clk.planning: cost per sales-ready lead, budget, funding schedule."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.config import FiscalCalendar
from closedloop_kit.planning import budget, cost_per_sales_ready, funding_schedule
from tests.helpers import canonical

T = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
# six leads: p0–p4 sales-ready ("Qualified"), p5 not; p0, p1 (Core/EMEA) and p4
# (Cloud/NA) have deals: p0's and p4's won (10,000 and 30,000 USD), p1's open (5,000)
SEGMENTS = [("Core", "EMEA")] * 4 + [("Cloud", "NA")] * 2
PEOPLE = canonical(
    "people",
    [
        {
            "person_id": f"p{i}",
            "person_type": "lead",
            "created_at": T - dt.timedelta(days=30),
            "status_raw": "Qualified" if i < 5 else "Open",
            "product_line": pl_,
            "sales_division": div,
        }
        for i, (pl_, div) in enumerate(SEGMENTS)
    ],
)
DEALS = [("o0", "p0", 10_000.0, True), ("o1", "p1", 5_000.0, False), ("o4", "p4", 30_000.0, True)]
OPPS = canonical(
    "opportunities",
    [
        {
            "opportunity_id": o,
            "created_at": T,
            "amount": amount,
            "currency": "USD",
            "is_won": won,
            "is_closed": won,
            "closed_at": T if won else None,
            "product_line": SEGMENTS[int(p[1])][0],
            "sales_division": SEGMENTS[int(p[1])][1],
        }
        for o, p, amount, won in DEALS
    ],
)
HISTORY = canonical(
    "stage_history",
    [
        {
            "entity_type": "person",
            "entity_id": f"p{i}",
            "field": "status",
            "old_value": "Open",
            "new_value": "Qualified",
            "changed_at": T - dt.timedelta(days=5),
        }
        for i in range(5)
    ],
)
ROLES = canonical(
    "opportunity_contacts",
    [{"opportunity_id": o, "person_id": p, "is_primary": True} for o, p, _, _ in DEALS],
)
SPEND = pl.DataFrame(
    {
        "date": [dt.date(2026, 1, 10), dt.date(2026, 2, 10), dt.date(2026, 2, 11)],
        "campaign_id": ["c1", None, None],
        "channel": ["Event", "Display", "Display"],
        "currency": ["EUR", "USD", "JPY"],
        "cost": [1000.0, 250.0, 5000.0],  # the JPY row has no rate: reported, not allocated
    }
)
FX = pl.DataFrame(
    {
        "currency": ["EUR"],
        "valid_from": [dt.date(2026, 1, 1)],
        "valid_to": [None],
        "rate_to_corporate": [1.2],
    },
    schema_overrides={"valid_to": pl.Date},
)
CAMPAIGNS = pl.DataFrame(
    {
        "campaign_id": ["c1"],
        "name": ["Expo"],
        "channel": ["Event"],
        "actual_cost": [100.0],  # USD, 2026-01-05: direct to Core/EMEA too
        "currency": ["USD"],
        "start_date": [dt.date(2026, 1, 5)],
        "product_line": ["Core"],
        "sales_division": ["EMEA"],
    }
)


def prepared(**tables: pl.DataFrame) -> clk.Prepared:
    base = {
        "people": PEOPLE,
        "opportunities": OPPS,
        "opportunity_contacts": ROLES,
        "stage_history": HISTORY,
        "spend": SPEND,
        "campaigns": CAMPAIGNS,
        "fx_rates": FX,
    }
    return clk.prepare(clk.ClosedLoopData({**base, **tables}), identity=False)


def test_cost_per_sales_ready_campaign_allocation() -> None:
    r = cost_per_sales_ready(prepared())
    rows = {(x["product_line"], x["sales_division"]): x for x in r.table.iter_rows(named=True)}
    core, cloud = rows[("Core", "EMEA")], rows[("Cloud", "NA")]
    # direct Core/EMEA: EUR 1000 × 1.2 + 100 USD actual cost = 1300
    # pro rata 250 USD display over 4 + 1 sales-ready leads: Core 200, Cloud 50
    assert core["direct_cost"] == pytest.approx(1300.0)
    assert core["allocated_cost"] == pytest.approx(200.0)
    assert core["cost_per_sales_ready"] == pytest.approx(1500.0 / 4)
    assert cloud["cost_per_sales_ready"] == pytest.approx(50.0)
    # conversion: Core 1 won of 4 SR, deal 10,000; Cloud 1 of 1, 30,000
    assert core["sales_ready_to_won_rate"] == pytest.approx(0.25)
    assert core["average_deal_size"] == pytest.approx(10_000.0)
    assert core["cost_per_opportunity"] == pytest.approx(1500.0 / 2)
    assert "pro rata" in r.rule
    assert r.unallocated["reason"].to_list() == ["no fx rate JPY→USD on 2026-02-11"]
    # reconciliation: 1300 + 250 converted = allocated total
    assert r.table["cost"].sum() == pytest.approx(1550.0)


def test_cost_per_sales_ready_pro_rata_and_period() -> None:
    r = cost_per_sales_ready(prepared(), allocation="pro_rata_leads")
    rows = {x["product_line"]: x["cost_per_sales_ready"] for x in r.table.iter_rows(named=True)}
    # all 1550 over 5 sales-ready leads: 310 each, in both segments
    assert rows == {"Cloud": pytest.approx(310.0), "Core": pytest.approx(310.0)}
    # February only: the 250 USD display cost; all five became sales-ready on 24 Feb
    feb = cost_per_sales_ready(prepared(), period="2026-02", allocation="pro_rata_leads")
    assert feb.table["cost"].sum() == pytest.approx(250.0)
    with pytest.raises(ValueError, match="`allocation` must be one of"):
        cost_per_sales_ready(prepared(), allocation="even")  # type: ignore[arg-type]


COSTS = pl.DataFrame(
    {
        "product_line": ["Core", "Cloud"],
        "sales_division": ["EMEA", "NA"],
        "cost_per_sales_ready": [400.0, 1000.0],
        "sales_ready_to_won_rate": [0.25, 0.1],
        "average_deal_size": [20_000.0, 50_000.0],
    }
)


def test_budget_from_sales_ready_and_bookings_commitments() -> None:
    commitments = pl.DataFrame(
        {
            "product_line": ["Core", "Cloud", "Edge"],
            "sales_division": ["EMEA", "NA", "APAC"],
            "quarter": ["2027Q1"] * 3,
            # marketing supplies the sales-ready leads that source 50 % of bookings
            "bookings": [2_000_000.0, 1_000_000.0, 10.0],
            "sourced_share": [0.5, 0.5, 0.5],
        }
    )
    plan = budget(commitments, COSTS)
    core = plan.table.filter(pl.col("product_line") == "Core").row(0, named=True)
    # n = 2,000,000 × 0.5 / (0.25 × 20,000) = 200 SR leads; budget 200 × 400 = 80,000
    assert core["committed_sales_ready"] == pytest.approx(200.0)
    assert core["budget"] == pytest.approx(80_000.0)
    assert core["implied_bookings"] == pytest.approx(1_000_000.0)
    assert core["implied_won_deals"] == pytest.approx(50.0)
    cloud = plan.table.filter(pl.col("product_line") == "Cloud").row(0, named=True)
    # n = 500,000 / (0.1 × 50,000) = 100; budget 100,000
    assert cloud["budget"] == pytest.approx(100_000.0)
    # Edge has no cost: visible in `missing`, not silently zero
    assert plan.missing["product_line"].to_list() == ["Edge"]
    assert plan.summary()["budget"].to_list() == [pytest.approx(180_000.0)]
    # what-if: costs +10 %, commitments −20 %: Core 160 × 440 = 70,400
    wi = plan.what_if(cost_scale=1.1, commitment_scale=0.8)
    core2 = wi.table.filter(pl.col("product_line") == "Core").row(0, named=True)
    assert core2["budget"] == pytest.approx(70_400.0)
    assert core2["implied_bookings"] == pytest.approx(800_000.0)
    assert wi.what_if(cost_scale=1 / 1.1).table.filter(pl.col("product_line") == "Core")["budget"][
        0
    ] == pytest.approx(64_000.0)
    assert "BudgetPlan" in plan._repr_html_()


def test_budget_sales_ready_commitment_with_conversion_override() -> None:
    commitments = pl.DataFrame(
        {
            "product_line": ["Core"],
            "sales_division": ["EMEA"],
            "quarter": ["2027Q2"],
            "sales_ready": [150],
        }
    )
    plan = budget(
        commitments,
        COSTS,
        conversion={"sales_ready_to_won_rate": 0.2, "average_deal_size": 10_000.0},
    )
    row = plan.table.row(0, named=True)
    # 150 × 400 = 60,000; bookings 150 × 0.2 × 10,000 = 300,000
    assert (row["budget"], row["implied_bookings"]) == (
        pytest.approx(60_000.0),
        pytest.approx(300_000.0),
    )
    with pytest.raises(ValueError, match="`sales_ready` column"):
        budget(commitments.drop("sales_ready"), COSTS)


def test_funding_six_month_cycle_two_quarters_earlier() -> None:
    plan = budget(
        pl.DataFrame(
            {
                "product_line": ["Core"],
                "sales_division": ["EMEA"],
                "quarter": ["2027Q1"],
                "sales_ready": [250],
            }
        ),
        COSTS,
    )
    # six months = 182 days = 182 / 91.3125 = 1.99 → 2 quarters: 2027Q1 − 2 = 2026Q3
    for cycle in (182, "6mo", dt.timedelta(days=180)):
        s = funding_schedule(plan, cycle)
        assert s.by_quarter.rows() == [("2026Q3", 100_000.0)]
        assert s.schedule["funding_quarter_start"].to_list() == [dt.date(2026, 7, 1)]
        assert s.landing.select("quarter", "share").rows() == [("2027Q1", 1.0)]
    # fiscal year from February: FY2027Q1 starts 2026-02-01; two quarters earlier is
    # FY2026Q3, which starts 2025-08-01
    fy = funding_schedule(plan, 182, fiscal=FiscalCalendar(start_month=2))
    assert fy.schedule.select("funding_quarter", "funding_quarter_start").rows() == [
        ("2026Q3", dt.date(2025, 8, 1))
    ]


def test_funding_from_distribution_frame() -> None:
    plan = pl.DataFrame({"quarter": ["2027Q1"], "budget": [100_000.0], "implied_bookings": [1e6]})
    profile = pl.DataFrame({"quarter_offset": [1, 2, 3], "share": [1.0, 2.0, 1.0]})  # normalised
    s = funding_schedule(plan, profile)
    # 25 % one quarter earlier, 50 % two, 25 % three
    assert s.by_quarter.rows() == [
        ("2026Q2", pytest.approx(25_000.0)),
        ("2026Q3", pytest.approx(50_000.0)),
        ("2026Q4", pytest.approx(25_000.0)),
    ]
    # landing = schedule ⊛ profile: offsets −2..2 with .0625, .25, .375, .25, .0625
    assert s.landing.select("quarter", "share").rows() == [
        ("2026Q3", pytest.approx(0.0625)),
        ("2026Q4", pytest.approx(0.25)),
        ("2027Q1", pytest.approx(0.375)),
        ("2027Q2", pytest.approx(0.25)),
        ("2027Q3", pytest.approx(0.0625)),
    ]
    assert s.landing["expected_bookings"].sum() == pytest.approx(1e6)
    assert s.params["mean_quarter_offset"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="non-negative shares"):
        funding_schedule(plan, profile.with_columns(pl.lit(0.0).alias("share")))


def test_funding_from_kaplan_meier_distribution() -> None:
    from closedloop_kit.funnel import TimeToCloseResult

    month = 365.25 / 12
    # monthly buckets k = 0..7; wins land in months 5 and 6 (≈ six months after lead)
    shares = [0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 0.4, 0.0]
    dist = pl.DataFrame(
        {
            "period_index": list(range(8)),
            "start_days": [k * month for k in range(8)],
            "end_days": [(k + 1) * month for k in range(8)],
            "share_of_won": shares,
        }
    )
    empty = pl.DataFrame()
    ttc = TimeToCloseResult(
        quantiles=empty,
        counts=empty,
        survival=empty,
        distribution=dist,
        start="raw_lead",
        event="won",
        by=(),
        period="month",
        alpha=0.05,
        as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    plan = pl.DataFrame({"quarter": ["2027Q1"], "budget": [100_000.0]})
    assert clk.planning.cycle_measured(ttc)
    s = funding_schedule(plan, ttc)
    # month 5 midpoint 5.5 months = 1.83 quarters → 2; month 6: 6.5 months = 2.17 → 2
    assert s.profile.rows() == [(2, pytest.approx(1.0))]
    assert s.by_quarter.rows() == [("2026Q3", pytest.approx(100_000.0))]
    assert "Kaplan-Meier" in s.params["profile"]


def test_funding_from_a_cycle_nothing_closed_in_asks_for_a_fixed_cycle():
    """Opportunities that are all open time no cycle: the error says so and what to pass."""
    still_open = OPPS.with_columns(
        is_won=pl.lit(False),
        is_closed=pl.lit(False),
        closed_at=pl.lit(None, OPPS["closed_at"].dtype),
    )
    ttc = clk.funnel.time_to_close(prepared(opportunities=still_open).funnel("opportunity"))
    assert ttc.counts.select("n_won", "n_lost", "n_open").rows() == [(0, 0, 3)]
    assert not clk.planning.cycle_measured(ttc)
    plan = pl.DataFrame({"quarter": ["2027Q1"], "budget": [100_000.0]})
    with pytest.raises(ValueError, match=r"none in it has closed.*fixed cycle.*\"6mo\""):
        funding_schedule(plan, ttc)
    assert funding_schedule(plan, "6mo").by_quarter.rows() == [("2026Q3", 100_000.0)]
