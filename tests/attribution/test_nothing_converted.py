"""Journeys with no conversion, or no journey at all: every model credits nothing.

A CRM-only export (no web or campaign touches, no closed deal) gives such journeys; the
dbt_hubspot fixture's did, and shapley, logistic, the bootstrap and ``paths`` failed on
them with numpy and polars errors instead of returning no credit.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from closedloop_kit.attribution import MODEL_LABELS, attribute, bootstrap, compare, paths

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
PARAMS = {"custom": {"weights": {"first": 0.5, "rest": 0.5}}}
STAGES = ("raw_lead_at", "mql_at", "sales_ready_at", "opportunity_at", "won_at")


def _journeys(*, converted: bool) -> pl.DataFrame:
    """Three journeys over two channels, with stage times and milestone flags."""
    rows = []
    for j, channels in enumerate((["Email", "Paid Search"], ["Email"], ["Paid Search", "Email"])):
        for pos, channel in enumerate(channels):
            rows.append(
                {
                    "journey_id": f"j{j}",
                    "touch_id": f"t{j}{pos}",
                    "person_id": f"p{j}",
                    "position": pos,
                    "occurred_at": T0 + dt.timedelta(days=j * 10 + pos),
                    "channel": channel,
                    "converted": converted,
                    "conversion_at": T0 + dt.timedelta(days=60) if converted else None,
                    "value": 1000.0 if converted else None,
                    "is_first_touch": pos == 0,
                    "is_lead_creation_touch": pos == 0,
                    "is_opportunity_creation_touch": False,
                    "is_closed_won_touch": False,
                    "raw_lead_at": T0 + dt.timedelta(days=j * 10),
                    "mql_at": T0 + dt.timedelta(days=j * 10 + 5) if j else None,
                    "sales_ready_at": None,
                    "opportunity_at": None,
                    "won_at": None,
                }
            )
    schema = {"conversion_at": pl.Datetime("us", "UTC"), "value": pl.Float64}
    schema |= {c: pl.Datetime("us", "UTC") for c in STAGES}
    return pl.DataFrame(rows, schema_overrides=schema)


NOTHING = {
    "no journey": _journeys(converted=False).clear(),
    "no conversion": _journeys(converted=False),
}


@pytest.mark.parametrize("case", list(NOTHING))
@pytest.mark.parametrize("model", list(MODEL_LABELS))
def test_every_model_credits_nothing(case, model):
    result = attribute(NOTHING[case], model=model, **PARAMS.get(model, {}))
    assert result.credits.height == 0
    assert float(result.channels["conversions"].sum()) == 0.0
    assert result.channels.schema["channel"] == pl.String


@pytest.mark.parametrize(
    ("case", "model"),
    [
        *[(case, m) for case in NOTHING for m in ("linear", "markov", "shapley", "logistic")],
        # (three journeys are too few to refit the multi-stage model on every resample)
        ("no journey", "multistage"),
    ],
)
def test_bootstrap_of_nothing_is_zero(case, model):
    ci = bootstrap(NOTHING[case], model=model, n=5, seed=0)
    assert ci.select(pl.col("conversions", "conversions_upper").sum()).row(0) == (0.0, 0.0)


@pytest.mark.parametrize("case", list(NOTHING))
def test_paths_and_compare_of_nothing(case):
    journeys = NOTHING[case]
    table = paths(journeys, sep=" → ")
    assert table.schema["path"] == pl.String
    assert float(table["conversions"].sum()) == 0.0
    assert table.height == (0 if journeys.is_empty() else 3)
    shares = compare(journeys, models=["linear", "shapley", "markov"])
    assert float(shares["conversions"].sum()) == 0.0


def test_data_driven_models_say_they_were_not_fitted():
    for model in ("shapley", "logistic", "fractribution", "multistage"):
        assert attribute(NOTHING["no journey"], model=model).params["fitted"] is False
    # with journeys but no conversion the multi-stage model still fits its transitions
    assert "fitted" not in attribute(NOTHING["no conversion"], model="multistage").params
