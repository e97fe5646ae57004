"""Logistic on distinct exposure patterns: equal to the per-journey fit; order terms."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from closedloop_kit.attribution import attribute
from closedloop_kit.attribution._logistic import Term, _path_arrays, _term_column
from closedloop_kit.attribution._paths import path_table
from closedloop_kit.datasets._worlds import make_attribution_world


def _features(seq: list[str], names: list[str], terms: list[str]) -> np.ndarray:
    """log(1 + n_c) per channel and the named order terms of one path, read directly."""
    first = {c: seq.index(c) for c in set(seq)}
    z = []
    for t in terms:
        if " before " in t:
            a, b = t.split(" before ")
            z.append(float(a in first and b in first and first[a] < first[b]))
        elif " with " in t:
            a, b = t.split(" with ")
            z.append(float(a in first and b in first))
        elif t.startswith("first "):
            z.append(float(bool(seq) and seq[0] == t[6:]))
        else:
            z.append(float(bool(seq) and seq[-1] == t[5:]))
    return np.array([*np.log1p([seq.count(c) for c in names]), *z])


def _per_journey(j: pl.DataFrame) -> pl.DataFrame:
    return (
        j.sort("journey_id", "position")
        .group_by("journey_id", maintain_order=True)
        .agg(pl.col("channel"), pl.col("converted").first())
        .sort("journey_id")
    )


def test_aggregated_fit_equals_per_journey_fit_and_credits() -> None:
    import statsmodels.api as sm

    w = make_attribution_world(4101, n_journeys=4_000, channels=4, kind="order", pair_strength=1.5)
    j = w.journeys
    res = attribute(j, model="logistic")
    terms = res.params["order_terms"]
    assert terms, "the order world's pair should be selected"
    names = sorted(j["channel"].unique().to_list())
    per = _per_journey(j)
    seqs = per["channel"].to_list()
    x = np.array([_features(seq, names, terms) for seq in seqs])
    y = per["converted"].cast(pl.Float64).to_numpy()
    # independent fit: statsmodels Logit, one binary row per journey
    ref = sm.Logit(y, sm.add_constant(x)).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
    coef = res.tables["coefficients"]["coef"].to_numpy()
    np.testing.assert_allclose(coef, ref.params, atol=1e-8)
    # counterfactual per journey, by brute force: drop every touch of c, recompute
    lift = dict.fromkeys(names, 0.0)
    credit = dict.fromkeys(names, 0.0)

    def prob(seq: list[str]) -> float:
        eta = ref.params[0] + _features(seq, names, terms) @ ref.params[1:]
        return float(1 / (1 + np.exp(-eta)))

    for seq, conv in zip(seqs, y, strict=True):
        p = prob(seq)
        d = {c: p - prob([s for s in seq if s != c]) for c in set(seq)}
        for c, v in d.items():
            lift[c] += v
        if conv:
            pos = {c: max(v, 0.0) for c, v in d.items()}
            tot = sum(pos.values())
            for c in d:
                credit[c] += pos[c] / tot if tot > 0 else 1 / len(d)
    inc = dict(res.tables["incremental"].select("channel", "incremental").iter_rows())
    for c in names:
        assert inc[c] == pytest.approx(lift[c], rel=1e-8, abs=1e-8)
    journey = attribute(j, model="logistic", allocation="journey").channels
    got = dict(journey.select("channel", "conversions").iter_rows())
    for c in names:
        assert got[c] == pytest.approx(credit[c], rel=1e-8, abs=1e-8)


def test_term_counterfactuals_by_hand() -> None:
    # path A > B > A > C: first A, last C, A before B, A with C
    j = pl.DataFrame(
        {
            "journey_id": [1, 1, 1, 1, 2],
            "channel": ["A", "B", "A", "C", "B"],
            "position": [0, 1, 2, 3, 0],
            "converted": [True] * 4 + [False],
        }
    )
    pt = path_table(j)
    pa = _path_arrays(pt)
    row = int(
        pt.journey_paths.filter(pl.col("journey_id") == 1)["path_id"][0]  # type: ignore[union-attr]
    )
    a, b, c = 0, 1, 2
    col = lambda t, without=-1: _term_column(t, pa, without)[row]  # noqa: E731
    assert col(Term("first", a)) == 1.0
    assert col(Term("first", b), a) == 1.0  # without A the path is B > C: B comes first
    assert col(Term("last", c)) == 1.0
    assert col(Term("last", a), c) == 1.0  # without C the last touch is A
    assert col(Term("last", a), b) == 0.0  # removing B leaves C last
    assert col(Term("before", a, b)) == 1.0
    assert col(Term("before", b, a)) == 0.0
    assert col(Term("with", a, c), c) == 0.0


def test_auto_reports_its_choice() -> None:
    w = make_attribution_world(4102, n_journeys=20_000, channels=5, kind="order", pair_strength=1.5)
    res = attribute(w.journeys)
    truth_pairs = {f"{a} before {b}" for a, b in w.truth.order_effects}
    assert res.params["chosen_features"] == "order"
    assert truth_pairs <= set(res.params["order_terms"])
    sel = res.tables["feature_selection"]
    assert sel.filter(pl.col("kept"))["term"].to_list() == res.params["order_terms"]
    # every kept term passed the BIC threshold log(N)
    assert (sel.filter(pl.col("kept"))["lr"] > np.log(20_000)).all()
    main = attribute(w.journeys, features="main")
    assert main.params["order_terms"] == []
    assert main.tables["feature_selection"].height == 0
