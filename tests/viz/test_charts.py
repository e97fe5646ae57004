"""Every chart builds from a small frame of the documented shape, with the expected encodings."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.viz import PALETTE


def _layers(spec):
    if "layer" in spec:
        return spec["layer"]
    if "hconcat" in spec:
        return [layer for part in spec["hconcat"] for layer in _layers(part)]
    return [spec]


def _fields(spec):
    return {
        ch: enc.get("field")
        for layer in _layers(spec)
        for ch, enc in layer.get("encoding", {}).items()
        if isinstance(enc, dict)
    }


def _theme_ok(spec):
    assert spec["config"]["range"]["category"] == list(PALETTE)
    assert spec["title"]["text"]
    tips = [layer["encoding"].get("tooltip") for layer in _layers(spec) if "encoding" in layer]
    assert any(tips), "charts carry tooltips"


COUNTS = pl.DataFrame({"stage": ["raw_lead", "mql", "won"], "stage_index": [0, 1, 2],
                       "n": [100, 40, 8]})  # fmt: skip
RATES = pl.DataFrame({
    "product_line": ["A", "A", "B", "B"], "kind": ["stage_to_stage", "overall"] * 2,
    "from_stage": ["raw_lead"] * 4, "to_stage": ["mql", "won"] * 2, "n_from": [50, 50, 80, 80],
    "n_to": [20, 5, 30, 4], "rate": [0.4, 0.1, 0.375, 0.05], "ci_low": [0.28, 0.04, 0.28, 0.02],
    "ci_high": [0.54, 0.21, 0.48, 0.12],
})  # fmt: skip


def test_funnel_chart_counts_and_rates():
    class Result:  # duck-typed ConversionResult
        counts = COUNTS
        rates = RATES.drop("product_line")

    spec = clk.viz.funnel_chart(Result()).to_dict()
    left, right = spec["hconcat"]
    assert left["encoding"]["x"]["field"] == "n"
    # stages read as people name them, in funnel order
    assert left["encoding"]["y"]["sort"] == ["Raw lead", "MQL", "Won deal"]
    steps = {row["step"] for data in spec["datasets"].values() for row in data if "step" in row}
    assert steps == {"Raw lead → MQL"}  # the stage-to-stage rates
    rule, point = right["layer"]
    assert (rule["encoding"]["x"]["field"], rule["encoding"]["x2"]["field"]) == (
        "ci_low",
        "ci_high",
    )
    assert point["encoding"]["x"]["field"] == "rate"
    _theme_ok(spec)


def test_conversion_chart_by_group_with_ci():
    spec = clk.viz.conversion_chart(RATES, kind="overall").to_dict()
    f = _fields(spec)
    assert f["x"] in {"ci_low", "rate"}
    assert f["y"] == "group"
    data = next(iter(spec["datasets"].values()))
    assert {row["group"] for row in data} == {"A", "B"}
    assert all(row["kind"] == "overall" for row in data)
    tip = spec["layer"][0]["encoding"]["tooltip"]
    assert any(t.get("format") == ".1%" for t in tip)
    _theme_ok(spec)


def test_velocity_chart():
    v = pl.DataFrame({"from_stage": ["lead", "mql"], "to_stage": ["mql", "won"], "n": [20, 8],
                      "median_days": [5.0, 60.0], "p25_days": [2.0, 30.0],
                      "p75_days": [9.0, 95.0], "p90_days": [15.0, 150.0]})  # fmt: skip
    spec = clk.viz.velocity_chart(v).to_dict()
    iqr, median, p90 = spec["layer"]
    assert (iqr["encoding"]["x"]["field"], iqr["encoding"]["x2"]["field"]) == (
        "p25_days",
        "p75_days",
    )
    assert median["encoding"]["x"]["field"] == "median_days"
    assert p90["encoding"]["x"]["field"] == "p90_days"
    _theme_ok(spec)
    # a company's own stage: its label when given, else the id with spaces
    named = clk.viz.velocity_chart(v, labels={"lead": "New lead"}).to_dict()
    steps = [row["step"] for row in next(iter(named["datasets"].values()))]
    assert steps == ["New lead → MQL", "MQL → Won deal"]
    assert next(iter(spec["datasets"].values()))[0]["step"] == "Lead → MQL"


def test_survival_chart_by_group():
    s = pl.DataFrame({"product_line": ["A", "A", "B", "B"], "days": [0.0, 50.0, 0.0, 80.0],
                      "survival": [1.0, 0.5, 1.0, 0.7], "ci_low": [1.0, 0.3, 1.0, 0.5],
                      "ci_high": [1.0, 0.7, 1.0, 0.85], "n_risk": [4.0, 2, 3, 2],
                      "n_events": [0.0, 1, 0, 1]})  # fmt: skip
    spec = clk.viz.survival_chart(s).to_dict()
    band, line = spec["layer"]
    assert line["mark"]["interpolate"] == "step-after"
    assert line["encoding"]["y"]["field"] == "survival"
    assert band["encoding"]["color"]["field"] == "group"
    _theme_ok(spec)


def test_cohort_heatmap_filters_stage_and_observable():
    c = pl.DataFrame({"cohort": ["2026-01"] * 3, "stage": ["mql", "won", "won"], "age": [0, 0, 1],
                      "n_cohort": [10] * 3, "n_reached": [5, 1, 3], "share": [0.5, 0.1, 0.3],
                      "observable": [True, True, False]})  # fmt: skip
    spec = clk.viz.cohort_heatmap(c, stage="won").to_dict()
    assert spec["mark"]["type"] == "rect"
    assert spec["encoding"]["color"]["field"] == "share"
    assert spec["encoding"]["color"]["scale"]["scheme"] == "viridis"
    data = next(iter(spec["datasets"].values()))
    assert [(r["stage"], r["age"]) for r in data] == [("won", 0)]
    assert spec["title"]["text"] == "Cohorts: share reaching Won deal by age"


def test_attribution_chart_with_bootstrap_intervals():
    boot = pl.DataFrame({"channel": ["Email", "Paid Search"], "share": [0.3, 0.7],
                         "share_lower": [0.2, 0.6], "share_upper": [0.4, 0.8]})  # fmt: skip
    spec = clk.viz.attribution_chart({"linear": boot, "shapley": boot}).to_dict()
    points, rule = spec["layer"]
    assert points["encoding"]["color"]["field"] == "model"
    assert (rule["encoding"]["x"]["field"], rule["encoding"]["x2"]["field"]) == (
        "share_lower",
        "share_upper",
    )
    assert points["encoding"]["y"]["sort"] == ["Paid Search", "Email"]
    models = {row["model"] for row in next(iter(spec["datasets"].values()))}
    assert models == {"Linear", "Shapley value"}  # as people name them
    _theme_ok(spec)
    with pytest.raises(ValueError, match="`measure`"):
        clk.viz.attribution_chart(boot, measure="nope")


def test_roi_chart_quadrants_and_currency():
    r = pl.DataFrame({"campaign": ["a", "b", "c"], "cost": [1000.0, 5000.0, 2000.0],
                      "attributed_revenue": [9000.0, 4000.0, None]})  # fmt: skip
    spec = clk.viz.roi_chart(r).to_dict()
    points, even, vline, _hline = spec["layer"]
    assert points["encoding"]["x"]["field"] == "cost"
    assert points["encoding"]["y"]["field"] == "attributed_revenue"
    assert points["encoding"]["x"]["axis"]["format"].startswith("$")
    assert even["mark"]["strokeDash"]
    assert vline["encoding"]["x"]["field"] == "mc"
    _theme_ok(spec)
    with pytest.raises(ValueError, match="needs a cost column"):
        clk.viz.roi_chart(r.drop("cost"))


def test_sourcing_chart_against_commitments():
    class Result:
        comparison = pl.DataFrame({
            "metric": ["sales_ready"] * 2, "source": ["marketing", "sales"],
            "committed_share": [0.5, None], "actual_share": [0.4, 0.6], "gap": [-0.1, None],
            "total": [100.0] * 2,
        })  # fmt: skip
        shares = pl.DataFrame()

    spec = clk.viz.sourcing_chart(Result()).to_dict()
    bars, ticks = spec["layer"]
    assert bars["encoding"]["x"]["field"] == "share"
    assert ticks["encoding"]["x"]["field"] == "committed_share"
    rows = next(iter(spec["datasets"].values()))
    assert {(r["row"], r["source"]) for r in rows} == {
        ("Sales-ready leads", "Marketing"),
        ("Sales-ready leads", "Sales"),
    }


def test_budget_and_funding_charts():
    plan = pl.DataFrame({"product_line": ["A", "B"], "sales_division": ["EMEA", "NA"],
                         "quarter": ["2026Q2"] * 2, "budget": [100.0, 50.0]})  # fmt: skip
    spec = clk.viz.budget_chart(plan).to_dict()
    assert spec["encoding"]["x"]["field"] == "budget"
    assert spec["encoding"]["color"]["field"] == "sales_division"
    sched = pl.DataFrame({"product_line": ["A", "A"], "funding_quarter": ["2025Q4", "2026Q1"],
                          "funding": [60.0, 40.0]})  # fmt: skip
    spec = clk.viz.funding_chart(sched).to_dict()
    assert spec["encoding"]["x"]["field"] == "funding_quarter"
    assert spec["encoding"]["y"]["aggregate"] == "sum"
    assert spec["encoding"]["color"]["field"] == "product_line"


def test_spend_pipeline_chart_from_data():
    data = clk.datasets.load_sample()
    spec = clk.viz.spend_pipeline_chart(data, period="quarter").to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert {r["metric"] for r in rows} == {"spend", "pipeline"}
    spend_total = sum(r["amount"] for r in rows if r["metric"] == "spend")
    assert spend_total == pytest.approx(data.frame("spend")["cost_corporate"].sum())
    with pytest.raises(ValueError, match="`period`"):
        clk.viz.spend_pipeline_chart(data, period="day")


def test_loop_closure_chart_title_states_rate():
    r = pl.DataFrame({"reason": ["closed", "no_person_on_opportunity"], "opportunities": [8, 2],
                      "revenue": [80.0, 20.0], "opportunity_share": [0.8, 0.2],
                      "revenue_share": [0.8, 0.2]})  # fmt: skip
    spec = clk.viz.loop_closure_chart(r).to_dict()
    assert "80%" in spec["title"]["text"]
    assert spec["encoding"]["x"]["field"] == "revenue_share"


def test_rejects_non_frames():
    with pytest.raises(TypeError, match="polars frame or a result"):
        clk.viz.funnel_chart(42)


def test_charts_from_real_results_serialise():
    prepared = clk.prepare(clk.datasets.load_sample())
    funnel = prepared.funnel("person")
    conv = clk.funnel.conversion(funnel, by="product_line")
    j = prepared.journeys(conversion="won", level="account")
    charts = [
        clk.viz.funnel_chart(conv),
        clk.viz.conversion_chart(conv),
        clk.viz.velocity_chart(clk.funnel.velocity(funnel)),
        clk.viz.cohort_chart(clk.funnel.cohorts(funnel)),
        clk.viz.sourcing_chart(clk.funnel.sourcing(funnel)),
        clk.viz.attribution_chart(clk.attribution.compare(j, models=["linear", "first_touch"])),
        clk.viz.attribution_chart(clk.attribution.attribute(j, model="linear")),
    ]
    for chart in charts:
        json.dumps(chart.to_dict())


def test_save_png_svg_html_offline(tmp_path):
    chart = clk.viz.attribution_chart(pl.DataFrame({"channel": ["a", "b"], "share": [0.4, 0.6]}))
    png = clk.viz.save(chart, tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = clk.viz.save(chart, tmp_path / "c.svg")
    assert svg.read_text().startswith("<svg")
    html = clk.viz.save(chart, tmp_path / "sub" / "c.html").read_text()
    assert "<script src=" not in html.replace('<script src="data:', "")
    assert "cdn.jsdelivr" not in html
    with pytest.raises(ValueError, match="must end in one of"):
        clk.viz.save(chart, tmp_path / "c.pdf")


def test_dates_serialise_in_spend_frame():
    f = pl.DataFrame({"period_start": [dt.date(2026, 1, 1)], "metric": ["spend"], "amount": [1.0]})
    assert clk.viz.spend_pipeline_chart(f).to_dict()["encoding"]["x"]["type"] == "temporal"
