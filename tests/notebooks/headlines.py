"""Headline numbers of a rendered report against the analysis functions (used by the
notebook execution test, so every template is rendered once).

Each check reads what the reader sees (KPI tiles through ``report.report_kpis``, table
cells through ``report.report_tables``) and recomputes it with the public analysis
functions on ``clk.prepare(clk.load(store))`` with the template's parameters.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit import report
from closedloop_kit._core.display import format_value
from closedloop_kit.widgets import KPIS, previous_period

_ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL)
_CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
CENT = 0.005


@functools.cache
def prepared_for(store: str, fiscal_start_month: int = 1) -> clk.Prepared:
    """The prepared model a template builds, built independently (once per store and fiscal)."""
    fiscal = clk.FiscalCalendar(start_month=fiscal_start_month)
    data = clk.datasets.load_sample() if store == "sample" else clk.load(store)
    return clk.prepare(data, fiscal=fiscal)


def table(text: str, title: str) -> list[dict[str, str]]:
    """The body rows of the report table titled ``title``: ``header -> cell text``."""
    for found in report.report_tables(text):
        rows = [
            [html.unescape(_TAG.sub("", c)).strip() for c in _CELL.findall(r)]
            for r in _ROW.findall(found)
        ]
        if rows and rows[0] == [title]:
            header, body = rows[1], rows[2:]
            return [dict(zip(header, r, strict=True)) for r in body if len(r) == len(header)]
    pytest.fail(f"no table titled {title!r} in the report")


def count(cell: str) -> int:
    return int(cell.replace(",", ""))


def column_total(rows: list[dict[str, str]], header: str) -> int:
    return sum(count(r[header]) for r in rows if r[header] != "—")


def check_stage_counts(text: str, prepared: clk.Prepared, period: Any) -> dict[str, int]:
    """The report's funnel-stage table equals ``prepared.stage_counts(period=...)``.

    The table names each stage as people read it (``prepared.taxonomy.label``); the
    counts are returned by stage id.
    """
    shown = {
        r["Stage"]: count(r["Count"]) for r in table(text, "Funnel stages (humans, then deals)")
    }
    expected = dict(prepared.stage_counts(period=period).select("stage", "count").iter_rows())
    assert shown == {prepared.taxonomy.label(s): n for s, n in expected.items()}
    return expected


def check_tiles(text: str, prepared: clk.Prepared, start: dt.date, end: dt.date) -> None:
    """KPI tiles (this period and the one before) against roi, planning and the funnel."""
    tiles = report.report_kpis(text)
    assert tiles["kpi"].to_list() == [k for k, *_ in KPIS]
    journeys = prepared.journeys(conversion="won", level="account")
    credit = clk.attribution.attribute(journeys, model="linear")
    accounts = prepared.funnel("account")
    kinds = {k: kind for k, _, kind, _ in KPIS}
    for column, (first, last) in (
        ("current", (start, end)),
        ("previous", previous_period(start, end)),
    ):
        period = (first, last + dt.timedelta(days=1))  # end exclusive
        got = dict(zip(tiles["kpi"], tiles[column], strict=True))
        roi = clk.roi.summary(credit, prepared, by="channel", every=None, period=period).table
        planned = clk.planning.cost_per_sales_ready(prepared, by=(), period=period).table
        counts = dict(prepared.stage_counts(period=period).select("stage", "count").iter_rows())
        lo, hi = prepared.bounds(period) or (None, None)
        won = accounts.filter(pl.col("won_at").is_between(lo, hi, closed="left"))
        sourced = clk.roi.sourced_vs_influenced(won, journeys).table["sourced_bookings"].sum()
        cost = float(planned["cost"][0])
        # counts exactly, money to the cent, ROI to 1e-9
        assert got["sales_ready"] == counts["sales_ready"] == planned["sales_ready"][0]
        assert got["pipeline"] == pytest.approx(roi["pipeline"].sum(), abs=CENT)
        assert got["won_revenue"] == pytest.approx(roi["bookings"].sum(), abs=CENT)
        assert cost == pytest.approx(roi["cost"].sum(), abs=CENT)
        assert got["cost_per_sales_ready"] == pytest.approx(
            planned["cost_per_sales_ready"][0], abs=CENT
        )
        assert got["roi"] == pytest.approx((sourced - cost) / cost, rel=1e-9)
    # the tile shows its number (the delta text shows the previous one)
    for row in tiles.iter_rows(named=True):
        kind = kinds[row["kpi"]]
        assert row["shown"] == format_value(row["current"], kind, currency=prepared.currency)
        previous = format_value(row["previous"], kind, currency=prepared.currency)
        assert row["delta"].endswith(previous)


def check_operating_review(text: str, store: str, params: dict[str, Any]) -> None:
    """KPI tiles of the period and the one before; the funnel conversion counts the
    people who entered the funnel in the period (not the handful of new accounts)."""
    start = dt.date.fromisoformat(str(params["start"]))
    end = dt.date.fromisoformat(str(params["end"]))
    prepared = prepared_for(store)
    check_tiles(text, prepared, start, end)
    people = prepared.funnel("person")
    stages = prepared.taxonomy.stages
    entry = pl.min_horizontal([pl.col(f"{s}_at") for s in stages]).dt.date()
    cohort = people.filter(entry.is_between(start, end))
    assert cohort.height > 10  # a month of the sample: dozens of people, not one account

    def reached(stage: str) -> int:
        return cohort.filter(
            pl.col(f"{stage}_at").is_not_null() | pl.col(f"{stage}_backfilled")
        ).height

    first = table(text, "Funnel conversion of the people who entered in the period")[0]
    assert (count(first["From (n)"]), count(first["To (n)"])) == (
        reached(stages[0]),
        reached(stages[1]),
    )


def check_quarterly_review(text: str, store: str, params: dict[str, Any]) -> None:
    """Stage counts and KPI tiles of the quarter; the ROI tables and the sourcing table
    count the same people."""
    period = params["period"]
    prepared = prepared_for(store, int(params.get("fiscal_start_month", 1)))
    stages = check_stage_counts(text, prepared, period)
    q_start, q_end = prepared.bounds(period)
    check_tiles(text, prepared, q_start.date(), (q_end - dt.timedelta(days=1)).date())
    headers = {
        "Leads": "raw_lead",
        "MQLs": "mql",
        "Sales-ready": "sales_ready",
        "Opportunities": "opportunity",
        "Won": "won",
    }
    for title in ("ROI by channel", f"Program ROI ({period})"):
        rows = table(text, title)
        assert {h: column_total(rows, h) for h in headers} == {
            h: stages[s] for h, s in headers.items()
        }, title
    sourcing = [
        r for r in table(text, "Sourcing against commitments") if r["Source"] == "Marketing"
    ]
    assert sourcing  # the sources read as people name them
    assert column_total(sourcing, "Total") == stages["sales_ready"]
    costs = clk.planning.cost_per_sales_ready(prepared, period=period)
    targets = costs.table.filter(pl.col("sales_ready") > 0).select(
        "product_line",
        "sales_division",
        quarter=pl.lit(prepared.fiscal.shift_quarter(period, 2)),
        bookings=pl.lit(float(params.get("bookings_target", 1_000_000.0))),
        sourced_share=pl.lit(float(params.get("marketing_commitment", 0.5))),
    )
    check_funding(text, prepared, costs, targets)


def money(cell: str) -> float:
    return float(cell.replace("$", "").replace(",", ""))


def check_campaign_review(text: str, store: str, params: dict[str, Any]) -> None:
    """Stage counts; the reviewed campaign's row is ``roi.summary``'s, and its linear row
    under each model is ``roi.compare_models``' (which agrees with ``roi.summary``)."""
    period = params.get("period")
    prepared = prepared_for(store, int(params.get("fiscal_start_month", 1)))
    check_stage_counts(text, prepared, period)
    journeys = prepared.journeys(
        conversion="won",
        level=params.get("level", "account"),
        lookback=params.get("lookback", "180d"),
    )
    linear = clk.attribution.attribute(journeys, model="linear")
    roi = clk.roi.summary(linear, prepared, by="campaign", every=None, period=period).table
    names = prepared.data.frame("campaigns").select(pl.col("campaign_id").alias("campaign"), "name")
    ranked = (
        roi.join(names, on="campaign", how="left")
        .filter((pl.col("attributed_revenue") > 0) & ~pl.col("campaign").str.starts_with("("))
        .sort("attributed_revenue", descending=True)
    )
    campaign = params.get("campaign") or ranked["campaign"][0]
    expected = ranked.filter(pl.col("campaign") == campaign).row(0, named=True)
    label = expected["name"] or campaign
    (shown,) = table(text, label)
    counts = {"Leads": "leads", "MQLs": "mqls", "Sales-ready": "sales_ready",
              "Opportunities": "opportunities", "Won": "won"}  # fmt: skip
    assert {h: count(shown[h]) for h in counts} == {h: expected[c] for h, c in counts.items()}
    for header, column in (
        ("Cost ($)", "cost"),
        ("Pipeline ($)", "pipeline"),
        ("Bookings ($)", "bookings"),
        ("Attributed revenue ($)", "attributed_revenue"),
    ):
        assert money(shown[header]) == pytest.approx(expected[column], abs=0.5), header
    by_model = {r["Model"]: r for r in table(text, f"{label} under each model")}
    assert money(by_model["Linear"]["Attributed revenue ($)"]) == pytest.approx(
        expected["attributed_revenue"], abs=0.5
    )
    assert money(by_model["Linear"]["Cost ($)"]) == pytest.approx(expected["cost"], abs=0.5)


def check_funnel_and_budget_plan(text: str, store: str, params: dict[str, Any]) -> None:
    """Stage counts; the cost table counts every sales-ready human once."""
    prepared = prepared_for(store, int(params.get("fiscal_start_month", 1)))
    stages = check_stage_counts(text, prepared, None)
    rows = table(text, "Cost per sales-ready lead")
    assert column_total(rows, "Sales-ready") == stages["sales_ready"]
    cost = clk.planning.cost_per_sales_ready(prepared).table
    shown = sorted(r["Cost per sales-ready ($)"] for r in rows)
    expected = sorted(
        format_value(v, "currency", currency=prepared.currency)
        for v in cost["cost_per_sales_ready"].to_list()
    )
    assert shown == expected
    commitments = cost.select("product_line", "sales_division").with_columns(
        quarter=pl.lit(str(params.get("target_quarter", "2026Q2"))),
        bookings=pl.lit(float(params.get("bookings_target", 500_000.0))),
        sourced_share=pl.lit(float(params.get("sourced_share", 0.5))),
    )
    check_funding(text, prepared, clk.planning.cost_per_sales_ready(prepared), commitments)


def check_funding(text: str, prepared: clk.Prepared, costs: Any, commitments: pl.DataFrame) -> None:
    """The funding by quarter is the budget of ``commitments`` scheduled by the
    lead-to-close time (spend buys leads: ``funding_schedule``'s formula), every quarter
    to the dollar shown, summing to the budget."""
    plan = clk.planning.budget(commitments, costs)
    lead_to_close = clk.funnel.time_to_close(
        prepared.funnel("opportunity"), start="raw_lead", event="won"
    )
    expected = clk.planning.funding_schedule(plan, lead_to_close).by_quarter
    rows = table(text, "Funding by quarter")
    assert [r["Funding quarter"] for r in rows] == expected["funding_quarter"].to_list()
    for r, want in zip(rows, expected["funding"].to_list(), strict=True):
        assert abs(money(r["Funding ($)"]) - want) < 1 + CENT
    shown = sum(money(r["Funding ($)"]) for r in rows)
    assert abs(shown - float(plan.table["budget"].sum())) < len(rows)


def check_attribution_comparison(text: str, store: str, params: dict[str, Any]) -> None:
    """The models are named as people name them, and each model's shares sum to 100 %."""
    rows = table(text, "Share of credit by channel and model")
    models = [clk.attribution.MODEL_LABELS[m] for m in ("first_touch", "markov", "w_shaped")]
    for name in models:
        shares = [float(r[f"{name} (%)"].rstrip("%")) for r in rows if r[f"{name} (%)"] != "—"]
        assert sum(shares) == pytest.approx(100.0, abs=0.05 * len(shares)), name
    assert "ROI, Shapley value (%)" in table(text, "ROI by channel under each model")[0]


CHECKS: dict[str, Callable[[str, str, dict[str, Any]], None]] = {
    "attribution_model_comparison": check_attribution_comparison,
    "campaign_review": check_campaign_review,
    "funnel_and_budget_plan": check_funnel_and_budget_plan,
    "operating_review": check_operating_review,
    "quarterly_closed_loop_review": check_quarterly_review,
}
"""Templates that show headline numbers, and their check."""
