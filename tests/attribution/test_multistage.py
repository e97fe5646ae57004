"""Multi-stage attribution: a hand-computed funnel and per-transition statsmodels fits."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from closedloop_kit.attribution import attribute
from closedloop_kit.datasets._worlds import make_attribution_world

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
STAGES = ["lead_at", "mql_at", "won_at"]


def _day(d: float) -> dt.datetime:
    return T0 + dt.timedelta(days=d)


def _hand_world(*, late_touches: bool = False) -> pl.DataFrame:
    # 4 cells × 16 journeys: {A}, {A, B}, {B}, {B, B}. Everyone is a lead on day 10;
    # lead → MQL: 12 of 16 move on in the A cells, 4 of 16 otherwise; MQL → won: 9 of
    # 12 (A cells), 1 of 4. Touches are before day 10, so both transitions see them all.
    # late_touches: a journey that stalls touches its cell's first channel again on day
    # 100, after every window (entry + the 10 days the movers took), so nothing changes.
    cells = [["A"], ["A", "B"], ["B"], ["B", "B"]]
    rows = []
    jid = 0
    for cell in cells:
        has_a = "A" in cell
        mql_n, won_n = (12, 9) if has_a else (4, 1)
        for i in range(16):
            mql = _day(20) if i < mql_n else None
            won = _day(30) if i < won_n else None
            touches = [(ch, 1 + pos) for pos, ch in enumerate(cell)]
            if late_touches and won is None:
                touches.append((cell[0], 100))
            for pos, (ch, day) in enumerate(touches):
                rows.append(
                    {
                        "journey_id": jid,
                        "channel": ch,
                        "position": pos,
                        "occurred_at": _day(day),
                        "converted": won is not None,
                        "value": 100.0 if won is not None else 0.0,
                        "lead_at": _day(10),
                        "mql_at": mql,
                        "won_at": won,
                    }
                )
            jid += 1
    return pl.DataFrame(rows)


def test_known_value_funnel() -> None:
    # Per transition logit p = α + β_A log(1 + n_A) + β_B log(1 + n_B) fits the cells
    # exactly: α = logit(1/4) = −log 3 and β_A log 2 = logit(3/4) − logit(1/4) = 2 log 3,
    # β_B = 0 ({A} and {A, B}, {B} and {B, B} move on alike).
    # Chain: P(A journey) = (3/4)² = 9/16, P(without A) = (1/4)² = 1/16, Δ_A = 1/2 on the
    # 32 A journeys: incremental 16; Δ_B = 0. Won: 9 + 9 + 1 + 1 = 20 deals × 100, all
    # credited to A in the channel totals.
    j = _hand_world()
    for pooling in (0.0, 10.0):
        res = attribute(j, model="multistage", stages=STAGES, pooling=pooling)
        coef = res.tables["coefficients"]
        fitted = coef.filter(pl.col("transition") != "start → lead_at")
        base = fitted.filter(pl.col("term") == "baseline")["coef"].to_numpy()
        beta_a = fitted.filter(pl.col("term") == "A")["coef"].to_numpy()
        beta_b = fitted.filter(pl.col("term") == "B")["coef"].to_numpy()
        np.testing.assert_allclose(base, -math.log(3), atol=1e-8)
        np.testing.assert_allclose(beta_a, 2 * math.log(3) / math.log(2), atol=1e-8)
        np.testing.assert_allclose(beta_b, 0.0, atol=1e-8)
        inc = dict(res.tables["incremental"].iter_rows())
        assert inc["A"] == pytest.approx(16.0, abs=1e-8)
        assert inc["B"] == pytest.approx(0.0, abs=1e-8)
        ch = dict(res.channels.select("channel", "value").iter_rows())
        assert ch["A"] == pytest.approx(2000.0)
        assert ch["B"] == pytest.approx(0.0, abs=1e-6)
        tr = res.tables["transitions"]
        assert tr["moved_on"].to_list() == [64, 32, 20]
        assert tr["fitted"].to_list() == [False, True, True]
        sums = res.credits.group_by("journey_id").agg(pl.col("credit").sum())
        assert sums.height == 20
        assert ((sums["credit"] - 1).abs() < 1e-9).all()


@pytest.mark.parametrize("stages", [STAGES, ["mql_at", "won_at"]])
def test_stalled_journeys_late_touches_are_not_counted(stages: list[str]) -> None:
    # The hand world plus a day-100 touch on every journey that stalls: the windows of
    # the journeys that did not move on end at their entry into the stage they stalled
    # at (the first touch for the first transition) + the median time the movers took
    # (10 days, 19 from the first touch), and a journey that never reached a stage
    # enters it, for the chain, at the end of that window: the known values stand.
    # Before: the first transition counted every touch of the journeys that did not
    # move on, and the chain every touch of those that never reached the earlier stage.
    j = _hand_world(late_touches=True)
    res = attribute(j, model="multistage", stages=stages, pooling=0.0)
    coef = res.tables["coefficients"]
    fitted = coef.filter(pl.col("transition") != "start → lead_at")
    assert fitted["transition"].unique().len() == 2
    np.testing.assert_allclose(
        fitted.filter(pl.col("term") == "baseline")["coef"].to_numpy(), -math.log(3), atol=1e-8
    )
    np.testing.assert_allclose(
        fitted.filter(pl.col("term") == "A")["coef"].to_numpy(),
        2 * math.log(3) / math.log(2),
        atol=1e-8,
    )
    np.testing.assert_allclose(
        fitted.filter(pl.col("term") == "B")["coef"].to_numpy(), 0.0, atol=1e-8
    )
    inc = dict(res.tables["incremental"].iter_rows())
    assert inc["A"] == pytest.approx(16.0, abs=1e-8)
    assert inc["B"] == pytest.approx(0.0, abs=1e-8)


def _prepared_like(conversion: str) -> pl.DataFrame:
    """The hand world with the prepared model's milestone columns and `conversion_at`."""
    return (
        _hand_world()
        .rename({"lead_at": "raw_lead_at"})
        .with_columns(
            pl.lit(None, pl.Datetime("us", "UTC")).alias("sales_ready_at"),
            pl.col(conversion).alias("conversion_at"),
            pl.col(conversion).is_not_null().alias("converted"),
        )
    )


def test_default_stages_are_the_prepared_milestones() -> None:
    # prepared.journeys names the first stage raw_lead_at (Taxonomy.default()); before,
    # the defaults looked for lead_at, so the first fitted transition was start → mql_at
    # with every touch of the journeys that stalled
    j = _prepared_like("won_at")
    res = attribute(j, model="multistage")
    assert res.params["stages"] == ["raw_lead_at", "mql_at", "sales_ready_at", "won_at"]
    explicit = attribute(j, model="multistage", stages=["raw_lead_at", "mql_at", "won_at"])
    inc = dict(res.tables["incremental"].iter_rows())
    assert inc == pytest.approx(dict(explicit.tables["incremental"].iter_rows()), abs=1e-9)
    assert inc["A"] == pytest.approx(16.0, abs=1e-8)


def test_default_stages_end_at_the_conversion() -> None:
    # journeys to MQL: the won stage comes after the conversion and is left out; one
    # transition lead → MQL (12 of 16 with A, 4 of 16 without): P = 3/4 or 1/4, Δ_A = 1/2
    # on 32 A journeys; the totals split the 32 MQLs
    j = _prepared_like("mql_at")
    res = attribute(j, model="multistage")
    assert res.params["stages"] == ["raw_lead_at", "mql_at"]
    assert res.tables["transitions"]["transition"].to_list() == [
        "start → raw_lead_at",
        "raw_lead_at → mql_at",
    ]
    assert dict(res.tables["incremental"].iter_rows())["A"] == pytest.approx(16.0, abs=1e-8)
    ch = dict(res.channels.select("channel", "conversions").iter_rows())
    assert ch["A"] == pytest.approx(32.0)


def _random_funnel(seed: int) -> pl.DataFrame:
    """Simulated journeys, then stages after the last touch drawn from a known logit."""
    w = make_attribution_world(seed, n_journeys=3_000, channels=4)
    j = w.journeys
    names = sorted(j["channel"].unique().to_list())
    wide = (
        j.group_by("journey_id", "channel")
        .len()
        .pivot(on="channel", index="journey_id", values="len")
        .fill_null(0)
        .sort("journey_id")
    )
    x = np.log1p(wide.select(names).to_numpy().astype(float))
    rng = np.random.default_rng(seed)
    effects = [np.array([0.8, 0.0, 0.4, -0.2]), np.array([0.3, 0.5, 0.0, 0.1])]
    p1 = 1 / (1 + np.exp(-(-0.5 + x @ effects[0])))
    p2 = 1 / (1 + np.exp(-(-1.0 + x @ effects[1])))
    mql = rng.random(len(x)) < p1
    won = mql & (rng.random(len(x)) < p2)
    last = j.group_by("journey_id").agg(pl.col("occurred_at").max().alias("_last"))
    stages = wide.select("journey_id").with_columns(pl.Series("_mql", mql), pl.Series("_won", won))
    return (
        j.drop("converted", "value")
        .join(last, on="journey_id")
        .join(stages, on="journey_id")
        .with_columns(
            (pl.col("_last") + pl.duration(days=1)).alias("lead_at"),
            pl.when("_mql").then(pl.col("_last") + pl.duration(days=5)).alias("mql_at"),
            pl.when("_won").then(pl.col("_last") + pl.duration(days=40)).alias("won_at"),
            pl.col("_won").alias("converted"),
            pl.when("_won").then(1000.0).otherwise(0.0).alias("value"),
        )
        .drop("_last", "_mql", "_won")
    )


def test_separate_transitions_match_statsmodels_and_a_chain_by_hand() -> None:
    import statsmodels.api as sm

    j = _random_funnel(4201)
    res = attribute(j, model="multistage", stages=STAGES, pooling=0.0)
    names = sorted(j["channel"].unique().to_list())
    wide = (
        j.group_by("journey_id", "channel")
        .len()
        .pivot(on="channel", index="journey_id", values="len")
        .fill_null(0)
        .sort("journey_id")
        .join(
            j.group_by("journey_id").agg(
                pl.col("mql_at").first().is_not_null().alias("mql"),
                pl.col("won_at").first().is_not_null().alias("won"),
            ),
            on="journey_id",
        )
    )
    x = np.log1p(wide.select(names).to_numpy().astype(float))
    mql = wide["mql"].to_numpy()
    won = wide["won"].to_numpy()
    # independent fits, one statsmodels Logit per transition (every touch precedes it)
    f1 = sm.Logit(mql.astype(float), sm.add_constant(x)).fit(disp=0, tol=1e-12, method="newton")
    f2 = sm.Logit(won[mql].astype(float), sm.add_constant(x[mql])).fit(
        disp=0, tol=1e-12, method="newton"
    )
    coef = res.tables["coefficients"]
    for label, ref in (("lead_at → mql_at", f1), ("mql_at → won_at", f2)):
        got = coef.filter(pl.col("transition") == label)["coef"].to_numpy()
        np.testing.assert_allclose(got, ref.params, atol=1e-7)

    def chain(xx: np.ndarray) -> np.ndarray:
        s1 = 1 / (1 + np.exp(-(f1.params[0] + xx @ f1.params[1:])))
        s2 = 1 / (1 + np.exp(-(f2.params[0] + xx @ f2.params[1:])))
        return s1 * s2

    p = chain(x)
    lift = {}
    for k, c in enumerate(names):
        x0 = x.copy()
        x0[:, k] = 0.0
        lift[c] = float(((p - chain(x0)) * (x[:, k] > 0)).sum())
    inc = dict(res.tables["incremental"].iter_rows())
    for c in names:
        assert inc[c] == pytest.approx(lift[c], rel=1e-6, abs=1e-8)


def test_missing_stage_columns_are_named() -> None:
    j = _hand_world().drop("mql_at")
    with pytest.raises(ValueError, match="mql_at"):
        attribute(j, model="multistage", stages=STAGES)
