"""conversion, velocity, cohorts, time_to_close, sourcing: known values and cross-checks."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

import closedloop_kit as clk

UTC = dt.UTC


# -- conversion -------------------------------------------------------------------------
def test_conversion_known_values(person_build):
    res = clk.funnel.conversion(person_build.funnel)
    assert res.counts["n"].to_list() == [5, 4, 3, 2, 1]
    s2s = res.rates.filter(pl.col("kind") == "stage_to_stage")
    # 4/5, 3/4, 2/3, 1/2
    assert s2s["rate"].to_list() == pytest.approx([0.8, 0.75, 2 / 3, 0.5])
    overall = res.rates.filter(pl.col("kind") == "overall")
    assert overall["to_stage"].to_list() == ["sales_ready", "opportunity", "won"]
    assert overall["rate"].to_list() == pytest.approx([3 / 5, 2 / 5, 1 / 5])
    # Wilson 4/5: z=1.959964, z^2=3.841459; centre (0.8+0.384146)/1.768292 = 0.669656,
    # half 1.959964*sqrt(0.032+0.038415)/1.768292 = 0.294121 -> (0.375535, 0.963776)
    first = s2s.row(0, named=True)
    assert first["ci_low"] == pytest.approx(0.375535, abs=1e-6)
    assert first["ci_high"] == pytest.approx(0.963776, abs=1e-6)
    assert res.tests.height == 0
    assert "ConversionResult" in res._repr_html_()


def _frame(groups: dict[str, tuple[int, int]]) -> pl.DataFrame:
    """Entities per group: (n at lead, n won)."""
    rows = []
    for g, (n, k) in groups.items():
        for i in range(n):
            rows.append({"entity_id": f"{g}{i}", "g": g, "won": i < k})
    f = pl.DataFrame(rows)
    ts = dt.datetime(2026, 1, 1, tzinfo=UTC)
    return f.select(
        "entity_id",
        "g",
        pl.lit(ts).alias("lead_at"),
        pl.lit(False).alias("lead_backfilled"),
        pl.when("won").then(pl.lit(ts)).alias("won_at"),
        pl.lit(False).alias("won_backfilled"),
    )


def test_conversion_two_group_z_test_by_hand():
    f = _frame({"a": (100, 30), "b": (100, 45)})
    res = clk.funnel.conversion(f, by="g")
    test = res.tests.row(0, named=True)
    # pooled 75/200 = .375; z = (.30 - .45)/sqrt(.375*.625*.02) = -2.19089
    assert test["test"] == "two_proportion_z"
    assert test["statistic"] == pytest.approx(-2.19089, abs=1e-5)
    assert test["p_value"] == pytest.approx(2 * norm.cdf(-2.190890), abs=1e-6)
    assert test["significant"] is True
    assert res.summary()["p_value"].to_list()[0] == pytest.approx(test["p_value"])


def test_conversion_chi_square_for_three_groups():
    from scipy.stats import chi2_contingency

    f = _frame({"a": (50, 10), "b": (60, 30), "c": (40, 12)})
    test = clk.funnel.conversion(f, by="g").tests.row(0, named=True)
    table = np.array([[10, 40], [30, 30], [12, 28]])
    chi2, p, dof, _ = chi2_contingency(table, correction=False)
    assert test["test"] == "chi_square"
    assert test["statistic"] == pytest.approx(chi2)
    assert test["p_value"] == pytest.approx(p)
    assert test["df"] == dof


def test_conversion_by_period_compares_periods_within_groups(person_build):
    res = clk.funnel.conversion(person_build.funnel, period="month")
    assert set(res.counts["period"].to_list()) == {"2026-01", "2026-02"}
    assert res.tests["n_groups"].max() == 2


def test_conversion_lazy_kind(person_build):
    res = clk.funnel.conversion(person_build.funnel.lazy())
    assert isinstance(res.rates, pl.LazyFrame)


def test_conversion_needs_a_funnel():
    with pytest.raises(clk.errors.DataContractError, match="needs a funnel frame"):
        clk.funnel.conversion(pl.DataFrame({"a": [1]}))


# -- velocity ---------------------------------------------------------------------------
def test_velocity_known_values(person_build):
    v = clk.funnel.velocity(person_build.funnel)
    r = v.row(0, named=True)
    # raw -> mql: only L2 has both real timestamps (5 Jan -> 10 Jan = 5 days);
    # L1, C2, L5 skipped mql (back-filled); L3 was disqualified at raw_lead
    assert (r["from_stage"], r["to_stage"], r["n"], r["median_days"]) == ("raw_lead", "mql", 1, 5.0)
    assert (r["n_backfilled"], r["n_open"], r["n_exited"]) == (3, 0, 1)
    # KM: event at 5 days (S=1/2), L3 censored at 14 days -> S never below 1/2
    assert r["km_median_days"] is None


def test_velocity_km_includes_open_entities():
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(7)
    n = 200
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    wait = rng.exponential(40, n).round()
    converted = rng.random(n) < 0.6
    f = pl.DataFrame(
        {
            "entity_id": [str(i) for i in range(n)],
            "a_at": [start] * n,
            "a_backfilled": [False] * n,
            "b_at": [
                start + dt.timedelta(days=float(w)) if c else None
                for w, c in zip(wait, converted, strict=True)
            ],
            "b_backfilled": [False] * n,
            "is_open": (~converted).tolist(),
            "observed_until": [start + dt.timedelta(days=100)] * n,
        }
    )
    r = clk.funnel.velocity(f).row(0, named=True)
    durations = np.where(converted, wait, 100.0)
    kmf = KaplanMeierFitter().fit(durations, converted)
    sf = kmf.survival_function_["KM_estimate"]
    expected = float(sf.index[np.flatnonzero(sf.to_numpy() < 0.5)[0]])
    assert r["km_median_days"] == pytest.approx(expected)
    assert r["median_days"] == pytest.approx(float(np.median(wait[converted])))
    assert r["n_open"] == int((~converted).sum())


# -- cohorts ----------------------------------------------------------------------------
def test_cohorts_known_values(person_build):
    c = clk.funnel.cohorts(person_build.funnel, stage="won")
    jan = c.filter(pl.col("cohort") == "2026-01")
    # 4 January leads (C2, L1, L2, L5); L1 won in April = age 3
    assert jan["n_cohort"].unique().to_list() == [4]
    assert jan["share"].to_list() == [0.0, 0.0, 0.0, 0.25]
    feb = c.filter(pl.col("cohort") == "2026-02")
    # data ends 20 April: February's age 3 (May) is not observable yet
    assert feb["observable"].to_list() == [True, True, True, False]
    assert feb["share"].to_list()[-1] is None


def test_cohorts_quarter_and_max_age(person_build):
    c = clk.funnel.cohorts(person_build.funnel, period="quarter", stage=["opportunity"], max_age=1)
    assert c["cohort"].unique().to_list() == ["2026Q1"]
    # opportunities: L1 (Jan) and C2 (Feb) in Q1 -> 2/5 at age 0; data ends in Q2 (20 Apr)
    # so age 1 is observable and still 2/5
    assert c["share"].to_list() == [0.4, 0.4]


# -- time to close ----------------------------------------------------------------------
def test_time_to_close_known_values(person_build):
    res = clk.funnel.time_to_close(person_build.funnel)
    # L1: 20 Jan -> won 20 Apr = 90 days; C2: 1 Feb -> lost 1 Mar = 28 days
    assert res.counts.row(0) == (2, 1, 1, 0, 0)
    med = res.quantiles.filter(pl.col("quantile") == 0.5)["days"].item()
    assert med == 90.0  # S(28) = 1/2 is not < 1/2; S(90) = 0
    assert res.survival["survival"].to_list() == [1.0, 0.5, 0.0]
    dist = res.distribution
    # month 0 ([0, 30.4)): the 28-day loss; month 2 ([60.9, 91.3)): the 90-day win
    assert dist["share_lost"].to_list() == [0.5, 0.0, 0.0]
    assert dist["share_won"].to_list() == [0.0, 0.0, 0.5]
    assert dist["share_of_won"].to_list() == [0.0, 0.0, 1.0]
    assert "p50_days" in res.summary().columns


def km_by_hand(d: np.ndarray, e: np.ndarray) -> tuple[list[float], list[float]]:
    times, surv, s = [], [], 1.0
    for u in sorted(set(d[e].tolist())):
        s *= 1 - np.sum((d == u) & e) / np.sum(d >= u)
        times.append(u)
        surv.append(s)
    return times, surv


@pytest.mark.parametrize("event", ["closed", "won"])
def test_time_to_close_matches_independent_km(event):
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(11)
    n = 300
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    opp_day = rng.integers(0, 300, n)
    cycle = rng.gamma(2.0, 60.0, n).round()
    outcome = rng.choice(["won", "lost"], n, p=[0.4, 0.6])
    end_day = 400
    closed = opp_day + cycle <= end_day
    f = pl.DataFrame(
        {
            "entity_id": [str(i) for i in range(n)],
            "opportunity_at": [start + dt.timedelta(days=int(x)) for x in opp_day],
            "opportunity_backfilled": [False] * n,
            "won_at": [
                start + dt.timedelta(days=float(o + c)) if (k and w == "won") else None
                for o, c, k, w in zip(opp_day, cycle, closed, outcome, strict=True)
            ],
            "won_backfilled": [False] * n,
            "exit_stage": [
                "lost" if (k and w == "lost") else None
                for k, w in zip(closed, outcome, strict=True)
            ],
            "exit_at": [
                start + dt.timedelta(days=float(o + c)) if (k and w == "lost") else None
                for o, c, k, w in zip(opp_day, cycle, closed, outcome, strict=True)
            ],
            "observed_until": [start + dt.timedelta(days=end_day)] * n,
        }
    )
    res = clk.funnel.time_to_close(f, event=event)
    d = np.where(closed, cycle, end_day - opp_day).astype(float)
    e = closed if event == "closed" else (closed & (outcome == "won"))
    times, surv = km_by_hand(d, e)
    s = res.survival.filter(pl.col("days") > 0) if 0.0 not in times else res.survival.slice(1)
    np.testing.assert_allclose(s["days"].to_numpy(), times, atol=1e-9)
    np.testing.assert_allclose(s["survival"].to_numpy(), surv, atol=1e-9)
    kmf = KaplanMeierFitter().fit(d, e)
    np.testing.assert_allclose(
        s["survival"].to_numpy(), kmf.survival_function_["KM_estimate"].loc[times], atol=1e-9
    )
    dist = res.distribution
    # increments add up to the KM estimate of the share closed by the last period
    last = float(surv[-1])
    assert dist["share_closed"].sum() == pytest.approx(1 - last, abs=1e-9)
    assert dist["share_of_won"].sum() == pytest.approx(1.0)
    q = res.quantiles.filter(pl.col("quantile") == 0.5).row(0, named=True)
    assert q["days"] == times[next(i for i, v in enumerate(surv) if v < 0.5)]
    assert q["ci_low"] <= q["days"] <= (q["ci_high"] or math.inf)


def test_time_to_close_by_group_and_start(person_build):
    res = clk.funnel.time_to_close(person_build.funnel, by="sourced_by", start="raw_lead")
    counts = res.counts.sort("sourced_by")
    assert counts["sourced_by"].to_list() == ["marketing", "partner", "sales", "web_direct"]
    # marketing: L1 won (raw 1 Jan -> 20 Apr), L5 open
    assert counts.filter(pl.col("sourced_by") == "marketing").row(0)[1:] == (2, 1, 0, 1, 0)


# -- sourcing ---------------------------------------------------------------------------
def test_sourcing_known_values(person_build):
    commitments = pl.DataFrame(
        {
            "source": ["marketing", "marketing"],
            "metric": ["sales_ready", "pipeline"],
            "share": [0.5, 0.7],
        }
    )
    res = clk.funnel.sourcing(person_build.funnel, commitments=commitments)
    shares = res.shares.filter(pl.col("metric") == "sales_ready")
    # sales-ready: L1 (marketing, Web), L5 (marketing, Web), C2 (web_direct)
    assert dict(shares.select("source", "value").iter_rows()) == {
        "marketing": 2.0,
        "sales": 0.0,
        "partner": 0.0,
        "web_direct": 1.0,
        "unknown": 0.0,
    }
    comp = {r["metric"]: r for r in res.comparison.iter_rows(named=True)}
    # 2/3 vs 1/2: gap +1/6, +0.5 leads
    assert comp["sales_ready"]["gap"] == pytest.approx(1 / 6)
    assert comp["sales_ready"]["gap_value"] == pytest.approx(0.5)
    assert comp["sales_ready"]["met"] is True
    # pipeline: L1 1000 marketing, C2 550 web_direct -> 1000/1550 vs 0.7;
    # shortfall 0.7*1550 - 1000 = 85
    assert comp["pipeline"]["actual_share"] == pytest.approx(1000 / 1550)
    assert comp["pipeline"]["shortfall_value"] == pytest.approx(85.0)
    assert comp["pipeline"]["met"] is False
    rules = dict(res.entities.select("entity_id", "sourced_by_rule").iter_rows())
    assert rules["sf:C2"] == "touch_at_creation"


def test_sourcing_by_dimension_and_custom_map(person_build):
    f = person_build.funnel.with_columns(pl.col("region").fill_null("none"))
    res = clk.funnel.sourcing(
        f,
        by="region",
        lead_source_map={"Web": "sales"},
        commitments=[{"region": "EMEA", "source": "marketing", "metric": "bookings", "share": 0.5}],
    )
    comp = res.comparison.row(0, named=True)
    # with Web -> sales, L1's EMEA booking is sales-sourced: marketing 0 of 1000
    assert (comp["region"], comp["actual_share"], comp["shortfall_value"]) == ("EMEA", 0.0, 500.0)
    with pytest.raises(ValueError, match="not in `by`"):
        clk.funnel.sourcing(
            f,
            commitments=[
                {"region": "EMEA", "source": "marketing", "metric": "bookings", "share": 0.5}
            ],
        )
    with pytest.raises(ValueError, match="`metric` must be one of"):
        clk.funnel.sourcing(
            f, commitments=[{"source": "marketing", "metric": "mqls", "share": 0.5}]
        )


def test_results_display(person_build):
    f = person_build.funnel
    ttc = clk.funnel.time_to_close(f.lazy())
    assert isinstance(ttc.survival, pl.LazyFrame)
    assert "TimeToCloseResult" in ttc._repr_html_()
    src = clk.funnel.sourcing(f)
    assert "SourcingResult" in src._repr_html_()
    assert src.summary().columns[:2] == ["metric", "source"]


def test_metrics_do_not_depend_on_row_order(person_build):
    f = person_build.funnel
    g = f.reverse()
    assert clk.funnel.conversion(f, by="sourced_by").rates.equals(
        clk.funnel.conversion(g, by="sourced_by").rates
    )
    assert clk.funnel.velocity(f).equals(clk.funnel.velocity(g))
    assert clk.funnel.cohorts(f).equals(clk.funnel.cohorts(g))
    assert clk.funnel.time_to_close(f).quantiles.equals(clk.funnel.time_to_close(g).quantiles)
    assert clk.funnel.sourcing(f).shares.equals(clk.funnel.sourcing(g).shares)


def test_sourcing_keeps_the_group_without_a_product_line():
    # 3 sales-ready people: 2 in "A" (1 marketing), 1 without a product line (marketing);
    # the null group counts its person (it once matched nothing and showed a total of 0)
    import datetime as dt

    import closedloop_kit as clk

    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    f = pl.DataFrame(
        {
            "entity_id": ["a", "b", "c"],
            "product_line": ["A", "A", None],
            "sales_ready_at": [t] * 3,
            "sales_ready_backfilled": [False] * 3,
            "opportunity_at": [None] * 3,
            "opportunity_backfilled": [False] * 3,
            "won_at": [None] * 3,
            "won_backfilled": [False] * 3,
            "sourced_by": ["marketing", "sales", "marketing"],
            "sourced_by_rule": ["explicit"] * 3,
            "amount_corporate": [None, None, None],
            "won_amount_corporate": [None, None, None],
        },
        schema_overrides={
            "opportunity_at": pl.Datetime("us", "UTC"),
            "won_at": pl.Datetime("us", "UTC"),
            "amount_corporate": pl.Float64,
            "won_amount_corporate": pl.Float64,
        },
    )
    res = clk.funnel.sourcing(
        f,
        by="product_line",
        commitments=[{"source": "marketing", "metric": "sales_ready", "share": 0.5}],
    )
    got = {
        r["product_line"]: (r["total"], r["actual_value"])
        for r in res.comparison.iter_rows(named=True)
    }
    assert got == {"A": (2.0, 1.0), None: (1.0, 1.0)}
