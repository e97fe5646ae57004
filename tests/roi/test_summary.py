"""Known-value and property tests of clk.roi.summary."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import closedloop_kit as clk
from closedloop_kit.config import FiscalCalendar
from closedloop_kit.roi import summary
from closedloop_kit.store import ClosedLoopData
from tests.helpers import canonical


def _t(m: int, d: int) -> dt.datetime:
    return dt.datetime(2026, m, d, tzinfo=dt.UTC)


FX = pl.DataFrame(
    {
        "currency": ["EUR", "EUR"],
        "corporate_currency": ["USD", "USD"],
        "valid_from": [dt.date(2026, 1, 1), dt.date(2026, 2, 1)],
        "valid_to": [dt.date(2026, 2, 1), None],
        "rate_to_corporate": [1.10, 1.20],
    }
)
SPEND = pl.DataFrame(
    {
        "date": [
            dt.date(2026, 1, 20),  # s1: c1, EUR 100 at 1.10 = 110 USD, FY2026Q4
            dt.date(2026, 2, 10),  # s2: name "SPRING  promo " → c2, EUR 100 at 1.20 = 120
            dt.date(2026, 3, 1),  # s3: channel only, 50 USD
            dt.date(2026, 3, 5),  # s4: nothing known, 30 USD → unmatched
            dt.date(2026, 3, 5),  # s5: GBP without a rate → unconverted, never summed
        ],
        "platform": ["gads", "gads", "meta", "other", "li"],
        "ad_campaign_name": [None, "SPRING  promo ", "x", None, None],
        "campaign_id": ["c1", None, None, None, "c1"],
        "channel": [None, "Paid Search", "Paid Social", None, None],
        "currency": ["EUR", "EUR", "USD", "USD", "GBP"],
        "cost": [100.0, 100.0, 50.0, 30.0, 40.0],
    }
)
CAMPAIGNS = pl.DataFrame(
    {
        "campaign_id": ["c1", "c2"],
        "name": ["Webinar Jan", "Spring Promo"],
        "type": ["Webinar", "Paid Search"],
        "channel": ["Webinar", "Paid Search"],
        "actual_cost": [200.0, None],  # c1 program cost 200 USD on 2026-02-15 → FY2027Q1
        "currency": ["USD", "USD"],
        "start_date": [dt.date(2026, 2, 15), dt.date(2026, 2, 1)],
        "end_date": [dt.date(2026, 2, 15), dt.date(2026, 4, 1)],
        "product_line": ["Core", "Cloud"],
        "sales_division": ["EMEA", "NA"],
    }
)
# j1 (value 1000, converted 2026-05-10 = FY2027Q2): half to c1 (Jan touch), half to c2 (Feb)
# j2 (value 400, converted 2026-04-15 = FY2027Q1): all to a Paid Social touch without campaign
CREDITS = pl.DataFrame(
    {
        "journey_id": ["j1", "j1", "j2"],
        "touch_id": ["t1", "t2", "t3"],
        "channel": ["Webinar", "Paid Search", "Paid Social"],
        "campaign_id": ["c1", None, None],
        "campaign_name": [None, "spring promo", None],
        "credit": [0.5, 0.5, 1.0],
        "credited_value": [500.0, 500.0, 400.0],
    }
)
JOURNEYS = pl.DataFrame(
    {
        "journey_id": ["j1", "j1", "j2"],
        "touch_id": ["t1", "t2", "t3"],
        "occurred_at": [_t(1, 25), _t(2, 20), _t(3, 1)],
        "conversion_at": [_t(5, 10), _t(5, 10), _t(4, 15)],
    }
)
FISCAL = FiscalCalendar(start_month=2)  # Feb–Apr = Q1; Jan 2026 = FY2026Q4
# credits as clk.attribution.attribute returns them: with the touch and conversion times
TIMED = CREDITS.join(JOURNEYS, on=["journey_id", "touch_id"])


def prepared(spend: pl.DataFrame = SPEND, **tables: pl.DataFrame) -> clk.Prepared:
    base = {"spend": spend, "campaigns": CAMPAIGNS, "fx_rates": FX}
    data = ClosedLoopData({**base, **tables}, corporate_currency="USD")
    return clk.prepare(data, identity=False, fiscal=FISCAL)


def _run(credits: pl.DataFrame = TIMED, **kw: object) -> object:
    tables = kw.pop("tables", {})
    return summary(credits, prepared(**tables), **kw)  # type: ignore[arg-type]


def test_campaign_cohort_view_known_values() -> None:
    r = _run(by="campaign", view="cohort")
    rows = {
        (row["campaign"], row["period"]): row
        for row in r.table.iter_rows(named=True)  # type: ignore[attr-defined]
    }
    # c1 2026Q4: cost 110 (EUR 100 × 1.10), revenue 500 → ROI (500 − 110)/110
    assert rows[("c1", "2026Q4")]["cost"] == pytest.approx(110.0)
    assert rows[("c1", "2026Q4")]["roi"] == pytest.approx((500 - 110) / 110)
    assert rows[("c1", "2026Q4")]["roas"] == pytest.approx(500 / 110)
    # c1 2027Q1: campaign actual cost 200, no revenue → ROI −1
    assert rows[("c1", "2027Q1")]["cost"] == pytest.approx(200.0)
    assert rows[("c1", "2027Q1")]["roi"] == pytest.approx(-1.0)
    # c2 2027Q1: EUR 100 × 1.20 = 120 matched by ad campaign name; revenue 500
    assert rows[("c2", "2027Q1")]["cost"] == pytest.approx(120.0)
    assert rows[("c2", "2027Q1")]["roi"] == pytest.approx((500 - 120) / 120)
    assert rows[("c2", "2027Q1")]["cac"] == pytest.approx(120 / 0.5)
    assert set(r.table["view"]) == {"cohort"}  # type: ignore[attr-defined]
    # unallocated: s3 50 (channel only) + s4 30 (unmatched); revenue of t3 400
    un = r.unallocated  # type: ignore[attr-defined]
    assert un.filter(pl.col("kind") == "cost")["cost"].sum() == pytest.approx(80.0)
    assert un.filter(pl.col("kind") == "revenue")["attributed_revenue"].sum() == pytest.approx(
        400.0
    )
    rec = dict(r.reconciliation.iter_rows())  # type: ignore[attr-defined]
    # total = 110 + 120 + 50 + 30 + 200 = 510; the GBP row is reported, not summed
    assert rec["total_cost"] == pytest.approx(510.0)
    assert rec["allocated_cost"] + rec["unallocated_cost"] == pytest.approx(510.0)
    assert rec["cost_matched_by_campaign_id"] == pytest.approx(310.0)
    assert rec["cost_matched_by_campaign_name"] == pytest.approx(120.0)
    assert rec["cost_matched_by_channel"] == pytest.approx(50.0)
    assert rec["cost_matched_by_unmatched"] == pytest.approx(30.0)
    assert rec["total_attributed_revenue"] == pytest.approx(1400.0)
    unconv = r.unconverted  # type: ignore[attr-defined]
    assert unconv.height == 1
    assert unconv["reason"][0] == "no fx rate GBP→USD on 2026-03-05"


def test_channel_bookings_view_known_values() -> None:
    r = _run(by="channel", view="bookings")
    got = {
        (row["channel"], row["period"]): (row["cost"], row["attributed_revenue"])
        for row in r.table.iter_rows(named=True)  # type: ignore[attr-defined]
    }
    # revenue in the quarter the journey converted: j1 FY2027Q2, j2 FY2027Q1
    assert got == {
        ("Paid Search", "2027Q1"): (pytest.approx(120.0), 0.0),
        ("Paid Search", "2027Q2"): (0.0, 500.0),
        ("Paid Social", "2027Q1"): (50.0, 400.0),
        ("Webinar", "2026Q4"): (pytest.approx(110.0), 0.0),
        ("Webinar", "2027Q1"): (200.0, 0.0),
        ("Webinar", "2027Q2"): (0.0, 500.0),
    }
    paid_social = r.table.filter(pl.col("channel") == "Paid Social")  # type: ignore[attr-defined]
    assert paid_social["roi"][0] == pytest.approx((400 - 50) / 50)
    assert paid_social["view"][0] == "bookings"
    # only s4 (no campaign, no channel) is unallocated by channel
    assert r.unallocated["cost"].sum() == pytest.approx(30.0)  # type: ignore[attr-defined]


def test_segment_totals_and_summary() -> None:
    r = _run(by=["product_line", "sales_division"], every=None)
    t = r.table.sort("product_line")  # type: ignore[attr-defined]
    # Cloud/NA = c2: cost 120, revenue 500; Core/EMEA = c1: 110 + 200, revenue 500
    assert t.select("product_line", "cost", "attributed_revenue").rows() == [
        ("Cloud", pytest.approx(120.0), 500.0),
        ("Core", pytest.approx(310.0), 500.0),
    ]
    s = r.summary()  # type: ignore[attr-defined]
    assert s.height == 2
    assert "RoiResult" in r._repr_html_()  # type: ignore[attr-defined]


def test_cost_corporate_used_when_present_and_data_defaults() -> None:
    spend = pl.DataFrame(
        {
            "date": [dt.date(2026, 1, 2)],
            "channel": ["Paid Social"],
            "currency": ["EUR"],
            "cost": [100.0],
            "cost_corporate": [150.0],  # loader already converted: used as is
        }
    )
    r = summary(CREDITS, prepared(spend), by="channel", every=None)
    ps = r.table.filter(pl.col("channel") == "Paid Social")
    assert ps["cost"][0] == 150.0
    assert ps["roi"][0] == pytest.approx((400 - 150) / 150)


def _people(*rows: tuple[str, dt.datetime]) -> pl.DataFrame:
    return canonical(
        "people", [{"person_id": p, "person_type": "lead", "created_at": at} for p, at in rows]
    )


def _history(*rows: tuple[str, str, dt.datetime]) -> pl.DataFrame:
    return canonical(
        "stage_history",
        [
            {"entity_type": "person", "entity_id": p, "field": "status", "new_value": v,
             "changed_at": at}
            for p, v, at in rows
        ],
    )  # fmt: skip


def _touches(*rows: tuple[str, str, dt.datetime, str | None, str | None, bool]) -> pl.DataFrame:
    return canonical(
        "touchpoints",
        [
            {"touchpoint_id": f"x{i}", "person_id": p, "channel": ch, "occurred_at": at,
             "campaign_id": cid, "campaign_name": name, "is_marketing": mkt,
             "touch_type": "web_session"}
            for i, (p, ch, at, cid, name, mkt) in enumerate(rows)
        ],
    )  # fmt: skip


def test_funnel_counts_and_stage_kpis() -> None:
    tables = {
        "people": _people(("p1", _t(3, 1)), ("p2", _t(3, 2)), ("p3", _t(3, 3))),
        "stage_history": _history(
            ("p1", "Working", _t(3, 4)), ("p1", "Qualified", _t(3, 6)), ("p2", "Working", _t(3, 5))
        ),
        "touchpoints": _touches(
            ("p1", "Paid Social", _t(2, 27), None, None, True),
            ("p2", "Paid Social", _t(2, 27), None, None, True),
            ("p3", "Webinar", _t(2, 27), None, None, True),
        ),
        "opportunities": canonical(
            "opportunities",
            [{"opportunity_id": "o1", "created_at": _t(3, 7), "amount": 1000.0, "currency": "USD"}],
        ),
        "opportunity_contacts": canonical(
            "opportunity_contacts", [{"opportunity_id": "o1", "person_id": "p1"}]
        ),
    }
    r = _run(by="channel", every=None, tables=tables)
    ps = r.table.filter(pl.col("channel") == "Paid Social").row(0, named=True)  # type: ignore[attr-defined]
    # Paid Social cost 50: 2 leads → 25 per lead; 2 MQLs → 25; 1 SR → 50; 1 deal → 50
    assert (ps["leads"], ps["mqls"], ps["sales_ready"], ps["opportunities"]) == (2, 2, 1, 1)
    assert ps["cost_per_lead"] == 25.0
    assert ps["cost_per_sales_ready"] == 50.0
    assert ps["pipeline_to_spend"] == 1000.0 / 50.0
    web = r.table.filter(pl.col("channel") == "Webinar").row(0, named=True)  # type: ignore[attr-defined]
    assert web["leads"] == 1
    assert web["cost_per_lead"] == pytest.approx(310.0)
    # a period filter applies to every number: March has the 50 USD Paid Social cost, the
    # leads, the deal; not the Jan/Feb Webinar cost nor the Jan touch's revenue
    march = _run(by="channel", every=None, period="2026-03", tables=tables)
    ps = march.table.filter(pl.col("channel") == "Paid Social").row(0, named=True)  # type: ignore[attr-defined]
    assert (ps["cost"], ps["leads"], ps["opportunities"]) == (50.0, 2, 1)
    assert march.table["cost"].sum() + march.unallocated["cost"].sum() == pytest.approx(80.0)  # type: ignore[attr-defined]


def test_errors() -> None:
    p = prepared()
    with pytest.raises(ValueError, match="`view` must be one of"):
        summary(CREDITS, p, view="booking")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs `occurred_at`"):
        summary(CREDITS, p, every="quarter")
    with pytest.raises(ValueError, match="`by` key"):
        summary(CREDITS, p, by="region", every=None)


@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.floats(0.01, 1e4)),
        min_size=1,
        max_size=12,
    ),
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.floats(0.0, 1e4)),
        min_size=1,
        max_size=12,
    ),
    st.floats(0.01, 1000.0),
)
def test_roi_scale_invariant_and_reconciles(
    spend_rows: list[tuple[str, float]], rev_rows: list[tuple[str, float]], scale: float
) -> None:
    spend = pl.DataFrame(
        {
            "date": [dt.date(2026, 1, 1)] * len(spend_rows),
            "channel": [c for c, _ in spend_rows],
            "currency": ["USD"] * len(spend_rows),
            "cost": [v for _, v in spend_rows],
        }
    )
    credits = pl.DataFrame(
        {
            "journey_id": list(range(len(rev_rows))),
            "channel": [c for c, _ in rev_rows],
            "credit": [1.0] * len(rev_rows),
            "credited_value": [v for _, v in rev_rows],
        }
    )

    def only(spend: pl.DataFrame) -> clk.Prepared:
        return clk.prepare(ClosedLoopData({"spend": spend}), identity=False)

    base = summary(credits, only(spend), by="channel", every=None)
    scaled = summary(
        credits.with_columns(pl.col("credited_value") * scale),
        only(spend.with_columns(pl.col("cost") * scale)),
        by="channel",
        every=None,
    )
    a = base.table.sort("channel")["roi"].to_list()
    b = scaled.table.sort("channel")["roi"].to_list()
    assert [x is None for x in a] == [x is None for x in b]
    assert all(
        x == pytest.approx(y, rel=1e-9, abs=1e-9)
        for x, y in zip(a, b, strict=True)
        if x is not None
    )
    rec = dict(base.reconciliation.iter_rows())
    total_spend = sum(v for _, v in spend_rows)
    assert rec["total_cost"] == pytest.approx(total_spend)
    assert base.table["cost"].sum() + base.unallocated["cost"].sum() == pytest.approx(total_spend)
    assert base.table["attributed_revenue"].sum() + base.unallocated[
        "attributed_revenue"
    ].sum() == pytest.approx(credits["credited_value"].sum())


def test_leads_by_campaign_from_first_marketing_touch() -> None:
    tables = {
        "people": _people(("p1", _t(2, 5)), ("p2", _t(2, 5)), ("p3", _t(2, 5))),
        "stage_history": _history(("p1", "Qualified", _t(2, 6))),
        "touchpoints": _touches(
            ("p1", "Webinar", _t(2, 2), "c1", None, True),
            ("p1", "Paid Search", _t(2, 1), "c2", None, False),
            ("p2", "Paid Search", _t(2, 3), None, "Spring Promo", True),
            ("p3", "Direct", _t(2, 4), None, None, True),
        ),
    }
    r = _run(by="campaign", every=None, tables=tables)
    got = {row["campaign"]: row for row in r.table.iter_rows(named=True)}  # type: ignore[attr-defined]
    # p1's first *marketing* touch is c1 (the earlier c2 touch is a sales touch);
    # p2's touch names "Spring Promo" → c2 (the prepared model resolved it); p3's touch
    # has no campaign: counted under no campaign, so the totals stay whole
    assert (got["c1"]["leads"], got["c1"]["sales_ready"]) == (1, 1)
    assert got["c2"]["leads"] == 1
    assert r.table["leads"].sum() == 3  # type: ignore[attr-defined]
    # c1 cost: 110 + 200 = 310 per lead and per sales-ready lead
    assert got["c1"]["cost_per_lead"] == pytest.approx(310.0)
    assert got["c1"]["cost_per_sales_ready"] == pytest.approx(310.0)


def test_lazy_inputs_and_row_order() -> None:
    a = _run(by="campaign")
    data = ClosedLoopData(
        {
            "spend": SPEND.reverse().lazy(),
            "campaigns": CAMPAIGNS.reverse().lazy(),
            "fx_rates": FX.lazy(),
        },
        corporate_currency="USD",
    )
    p = clk.prepare(data, identity=False, fiscal=FISCAL)
    b = summary(TIMED.reverse().lazy(), p, by="campaign")
    assert a.table.equals(b.table)  # type: ignore[attr-defined]
