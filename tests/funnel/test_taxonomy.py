"""Taxonomy: defaults, normalisation, YAML round trip and validation."""

from __future__ import annotations

import pytest

import closedloop_kit as clk
from closedloop_kit.config import Taxonomy, normalize_stage_value
from tests.helpers import build_funnel


@pytest.mark.parametrize(
    ("value", "field", "stage"),
    [
        ("Closed/Won", "stage", "won"),
        ("Closed Won", "stage", "won"),
        ("closedwon", "stage", "won"),
        ("8-Closed Lost", "stage", "lost"),
        ("Closed Lost", "stage", "lost"),
        ("Working - Contacted", "status", "mql"),
        ("Qualified", "status", "sales_ready"),
        ("marketingqualifiedlead", "lifecycle_stage", "mql"),
        ("salesqualifiedlead", "lifecycle_stage", "sales_ready"),
        ("customer", "lifecycle_stage", "won"),
        ("Something else", "status", None),
    ],
)
def test_default_maps(value, field, stage):
    assert Taxonomy.default().stage_of(value, field) == stage


def test_normalisation():
    assert normalize_stage_value(" 3. Needs Analysis ") == "needsanalysis"
    assert normalize_stage_value("Closed - Converted") == "closedconverted"


def test_yaml_round_trip_and_file(tmp_path):
    tax = Taxonomy.default()
    assert Taxonomy.from_yaml(tax.to_yaml()) == tax
    path = tmp_path / "taxonomy.yaml"
    path.write_text("extend_defaults: true\nstatus_map:\n  Hot Lead: mql\n", encoding="utf-8")
    loaded = Taxonomy.from_yaml(path)
    assert loaded.stage_of("hot lead") == "mql"
    assert loaded.stage_of("Qualified") == "sales_ready"  # defaults kept
    replaced = Taxonomy.from_yaml("status_map: {Hot Lead: mql}")
    assert replaced.stage_of("Qualified") is None  # maps replaced wholesale
    assert clk.Taxonomy is Taxonomy


def test_stage_labels_name_stages_for_people():
    tax = Taxonomy.default()
    assert list(tax.labels) == [*tax.stages, *tax.exits]
    assert [tax.labels[s] for s in ("raw_lead", "mql", "sales_ready", "won")] == [
        "Raw lead",
        "MQL",
        "Sales-ready lead",
        "Won deal",
    ]
    own = Taxonomy.from_yaml("extend_defaults: true\nstage_labels: {mql: Marketing-qualified}")
    assert own.label("mql") == "Marketing-qualified"
    assert own.label("won") == "Won deal"
    assert Taxonomy.from_yaml(own.to_yaml()) == own
    with pytest.raises(ValueError, match="`stage_labels` names unknown stages"):
        Taxonomy(stage_labels={"sql": "SQL"})


def test_invalid_taxonomies():
    with pytest.raises(ValueError, match="maps to unknown stages"):
        Taxonomy(status_map={"X": "nope"})
    with pytest.raises(ValueError, match="unknown taxonomy key"):
        Taxonomy.from_yaml("stagez: [a, b]")
    with pytest.raises(ValueError, match="`won_stage` must be one of"):
        Taxonomy(
            stages=("a", "b"),
            created_stage="a",
            converted_stage="a",
            sales_ready_stage="a",
            opportunity_stage="b",
            won_stage="c",
            status_map={},
            lifecycle_map={},
            opportunity_stage_map={},
            date_fields={},
        )
    with pytest.raises(ValueError, match="`lead_source_map` values"):
        Taxonomy(lead_source_map={"Web": "marketingg"})


def test_custom_taxonomy_builds(tiny):
    import warnings

    tax = Taxonomy.from_yaml(
        """
stages: [lead, meeting, deal, customer]
exits: [lost, disqualified]
created_stage: lead
converted_stage: meeting
sales_ready_stage: meeting
opportunity_stage: deal
won_stage: customer
status_map: {Qualified: meeting, Closed - Converted: meeting, Closed - Not Converted: disqualified}
lifecycle_map: {}
opportunity_stage_map: {Closed Won: customer, 8-Closed Lost: lost}
date_fields: {}
"""
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clk.errors.DataQualityWarning)
        f = build_funnel(tiny, taxonomy=tax)
    assert [c for c in f.columns if c.endswith("_backfilled")] == [
        "lead_backfilled",
        "meeting_backfilled",
        "deal_backfilled",
        "customer_backfilled",
    ]
    counts = clk.funnel.conversion(f).counts["n"].to_list()
    assert counts == sorted(counts, reverse=True)


def test_docs_list_every_default_mapping():
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "taxonomy.md").read_text(encoding="utf-8")
    tax = Taxonomy.default()
    for mapping in (
        tax.status_map,
        tax.lifecycle_map,
        tax.opportunity_stage_map,
        tax.date_fields,
        tax.lead_source_map,
    ):
        for key, value in mapping.items():
            assert f"| `{key}` | `{value}` |" in text, key
