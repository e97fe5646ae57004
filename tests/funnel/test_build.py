"""build(): known values on the tiny company of tests/funnel/tiny.py."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import DataQualityWarning
from tests.funnel.conftest import quiet_build
from tests.funnel.tiny import t, tiny_data
from tests.helpers import build_funnel


def row(frame: pl.DataFrame, entity: str) -> dict:
    return frame.filter(pl.col("entity_id") == entity).to_dicts()[0]


def test_person_grain_entities_and_rejects(person_build):
    f = person_build.funnel
    # C1 joins its converting lead L1; C3 (negative deal amount) and L4 (backwards) rejected
    assert f["entity_id"].to_list() == ["sf:C2", "sf:L1", "sf:L2", "sf:L3", "sf:L5"]
    rej = dict(person_build.rejected.select("entity_id", "reason").iter_rows())
    assert rej["sf:L4"] == "stage timestamps go backwards (sales_ready before the first stage)"
    assert rej["sf:C3"] == "deal amount negative or without a currency (e.g. sf:O3)"


def test_person_grain_known_milestones(person_build):
    f = person_build.funnel
    l1 = row(f, "sf:L1")
    # raw 1 Jan; mql skipped -> back-filled to sales_ready = conversion 20 Jan;
    # opportunity = O1 created 20 Jan; won = O1 closed 20 Apr
    assert l1["raw_lead_at"] == t(1, 1)
    assert (l1["mql_at"], l1["mql_backfilled"]) == (t(1, 20), True)
    assert (l1["sales_ready_at"], l1["sales_ready_backfilled"]) == (t(1, 20), False)
    assert l1["opportunity_at"] == t(1, 20)
    assert l1["won_at"] == t(4, 20)
    assert l1["exit_stage"] is None
    assert l1["is_open"] is False
    assert l1["reached_stage"] == "won"
    assert (l1["amount"], l1["currency"], l1["won_amount_corporate"]) == (1000.0, "USD", 1000.0)
    assert (l1["region"], l1["sales_division"], l1["product_line"]) == (
        "EMEA",
        "Enterprise",
        "Core",
    )
    assert l1["first_touch_channel"] == "Paid Search"
    assert (l1["sourced_by"], l1["sourced_by_rule"]) == ("marketing", "lead_source")  # Web
    assert l1["cohort"] == "2026-01"

    c2 = row(f, "sf:C2")
    # created 3 Jan; mql and sales_ready skipped -> back-filled to O2's creation 1 Feb
    assert c2["mql_at"] == c2["sales_ready_at"] == c2["opportunity_at"] == t(2, 1)
    assert c2["mql_backfilled"]
    assert c2["sales_ready_backfilled"]
    assert not c2["opportunity_backfilled"]
    assert (c2["exit_stage"], c2["exit_at"]) == ("lost", t(3, 1))
    assert (c2["amount"], c2["currency"], c2["amount_corporate"]) == (500.0, "EUR", 550.0)
    # no lead source; a Direct touch on the day it was created -> web_direct
    assert (c2["sourced_by"], c2["sourced_by_rule"]) == ("web_direct", "touch_at_creation")

    l2 = row(f, "sf:L2")
    assert (l2["mql_at"], l2["mql_backfilled"], l2["is_open"]) == (t(1, 10), False, True)
    assert (l2["sourced_by"], l2["n_opportunities"]) == ("sales", 0)  # Cold Call

    l3 = row(f, "sf:L3")
    assert (l3["exit_stage"], l3["exit_at"], l3["is_open"]) == ("disqualified", t(2, 15), False)
    assert l3["sourced_by"] == "partner"

    l5 = row(f, "sf:L5")
    # status Closed - Converted without IsConverted: sales_ready from the status, undated,
    # imputed to the latest known stage time (created 2 Jan)
    assert (l5["sales_ready_at"], l5["sales_ready_backfilled"]) == (t(1, 2), True)
    assert l5["observed_until"] == t(4, 20)


def test_stage_counts_never_increase(person_build):
    f = person_build.funnel
    counts = [
        f.select((pl.col(f"{s}_at").is_not_null() | pl.col(f"{s}_backfilled")).sum()).item()
        for s in clk.Taxonomy.default().stages
    ]
    # raw: 5; mql: L1 C2 L2 L5; sales_ready: L1 C2 L5; opportunity: L1 C2; won: L1
    assert counts == [5, 4, 3, 2, 1]


def test_build_warns_with_counts_and_examples(tiny):
    with pytest.warns(DataQualityWarning) as rec:
        clk.prepare(tiny, identity=False).funnel()
    messages = [str(w.message) for w in rec]
    assert any("1 people have a converted status" in m and "sf:L5" in m for m in messages)
    assert any(m.startswith("2 of 7 person rows rejected") and "sf:L4" in m for m in messages)
    assert all(w.filename == __file__ for w in rec)  # points at the caller


def test_opportunity_grain(tiny):
    res = quiet_build(tiny, grain="opportunity")
    f = res.funnel
    assert f["entity_id"].to_list() == ["sf:O1", "sf:O2"]
    o1 = row(f, "sf:O1")
    # lead milestones from the converting lead L1 (1 Jan) and its conversion (20 Jan)
    assert (o1["raw_lead_at"], o1["sales_ready_at"]) == (t(1, 1), t(1, 20))
    assert not o1["sales_ready_backfilled"]
    assert o1["won_at"] == t(4, 20)
    o2 = row(f, "sf:O2")
    assert o2["raw_lead_at"] == t(1, 3)
    assert o2["exit_stage"] == "lost"
    assert res.rejected["entity_id"].to_list() == ["sf:O3"]


def test_account_grain(tiny):
    res = quiet_build(tiny, grain="account")
    a1 = row(res.funnel, "sf:A1")
    assert (a1["raw_lead_at"], a1["won_at"]) == (t(1, 1), t(4, 20))
    assert res.rejected["entity_id"].to_list() == ["sf:A2"]  # its deal O3 is negative


def test_lazy_tables_give_the_same_eager_funnel(tiny):
    # a store opens lazily; the prepared model collects once and every frame is eager
    lazy = clk.ClosedLoopData({k: v.lazy() for k, v in tiny.tables.items()})
    res = quiet_build(lazy)
    assert isinstance(res.table, pl.DataFrame)
    assert res.table.equals(quiet_build(tiny).table)


def test_clamp_keeps_backwards_rows(tiny):
    res = quiet_build(tiny, on_backwards="clamp")
    l4 = row(res.funnel, "sf:L4")
    # Qualified on 20 Feb before created 1 Mar: raw_lead moved back to 20 Feb, flagged
    assert (l4["raw_lead_at"], l4["raw_lead_backfilled"]) == (t(2, 20), True)
    assert "sf:L4" not in res.rejected["entity_id"].to_list()


def test_golden_person_id_merges_people(tiny):
    people = tiny.frame("people").with_columns(
        pl.when(pl.col("person_id") == "sf:L5")
        .then(pl.lit("gold:1"))
        .when(pl.col("person_id") == "sf:L2")
        .then(pl.lit("gold:1"))
        .otherwise(pl.col("person_id"))
        .alias("golden_person_id")
    )
    res = quiet_build(tiny.with_tables(people=people))
    g = row(res.funnel, "gold:1")
    # earliest raw lead of L5 (2 Jan) and L2 (5 Jan); sales_ready via L5's status
    assert g["raw_lead_at"] == t(1, 2)
    assert g["reached_stage"] == "sales_ready"


def test_won_without_opportunity_is_rejected():
    people = pl.DataFrame(
        {
            "person_id": ["hs:1"],
            "person_type": ["contact"],
            "created_at": [t(1, 1)],
            "lifecycle_stage_raw": ["customer"],
        }
    )
    history = pl.DataFrame(
        {
            "entity_type": ["person"],
            "entity_id": ["hs:1"],
            "field": ["lifecycle_stage"],
            "new_value": ["customer"],
            "changed_at": [t(2, 1)],
        }
    )
    data = clk.ClosedLoopData(
        {
            "people": clk.validate(people, "people").valid,
            "stage_history": clk.validate(history, "stage_history").valid,
        }
    )
    res = quiet_build(data)
    assert res.funnel.height == 0
    assert res.rejected["reason"].item() == "`won` without an observed `opportunity`"


def test_hubspot_lifecycle_history():
    people = pl.DataFrame(
        {"person_id": ["hs:1"], "person_type": ["contact"], "created_at": [t(1, 1)]}
    )
    history = pl.DataFrame(
        {
            "entity_type": ["person"] * 3,
            "entity_id": ["hs:1"] * 3,
            "field": ["lifecycle_stage"] * 3,
            "new_value": ["marketingqualifiedlead", "salesqualifiedlead", "opportunity"],
            "changed_at": [t(1, 5), t(1, 9), t(2, 1)],
        }
    )
    data = clk.ClosedLoopData(
        {
            "people": clk.validate(people, "people").valid,
            "stage_history": clk.validate(history, "stage_history").valid,
        }
    )
    f = build_funnel(data)
    r = f.to_dicts()[0]
    assert (r["mql_at"], r["sales_ready_at"], r["opportunity_at"]) == (t(1, 5), t(1, 9), t(2, 1))
    assert not any(r[f"{s}_backfilled"] for s in ("mql", "sales_ready", "opportunity"))


def test_opportunity_stage_history_and_numbered_stage_names():
    opps = pl.DataFrame(
        {
            "opportunity_id": ["sf:O"],
            "stage_raw": ["8-Closed Lost"],
            "is_closed": [True],
            "is_won": [False],
            "created_at": [t(1, 1)],
            "close_date": [dt.date(2026, 3, 31)],
        }
    )
    history = pl.DataFrame(
        {
            "entity_type": ["opportunity"] * 2,
            "entity_id": ["sf:O"] * 2,
            "field": ["stage"] * 2,
            "new_value": ["Qualification", "8-Closed Lost"],
            "changed_at": [t(1, 1), t(3, 3)],
        }
    )
    data = clk.ClosedLoopData(
        {
            "opportunities": clk.validate(opps, "opportunities").valid,
            "stage_history": clk.validate(history, "stage_history").valid,
        }
    )
    r = build_funnel(data, grain="opportunity").to_dicts()[0]
    # no closed_at: the lost time is the history change to "8-Closed Lost", not CloseDate
    assert (r["exit_stage"], r["exit_at"]) == ("lost", t(3, 3))
    # a deal with no lead milestone of its own enters the funnel at the opportunity stage:
    # the lead stages before its entry are not back-filled
    assert (r["raw_lead_at"], r["raw_lead_backfilled"]) == (None, False)


def test_bad_arguments(tiny):
    with pytest.raises(ValueError, match="`grain` must be one of"):
        build_funnel(tiny, grain="team")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`on_backwards` must be one of"):
        build_funnel(tiny, on_backwards="ignore")  # type: ignore[arg-type]


def test_funnel_schema_checks_order():
    import pandera.errors

    schema = clk.prepared.funnel_schema()
    f = build_funnel(clk.ClosedLoopData())
    assert f.height == 0
    bad = pl.DataFrame({c: [None] for c in f.columns}, schema=f.schema).with_columns(
        pl.lit("x").alias("entity_id"),
        pl.lit("person").alias("grain"),
        pl.lit(True).alias("is_open"),
        pl.lit("unknown").alias("sourced_by"),
        pl.lit("none").alias("sourced_by_rule"),
        pl.lit(0, dtype=pl.Int64).alias("n_opportunities"),
        pl.lit(t(2, 1)).alias("raw_lead_at"),
        pl.lit(t(1, 1)).alias("mql_at"),
        *[pl.lit(False).alias(f"{s}_backfilled") for s in clk.Taxonomy.default().stages],
    )
    with pytest.raises(pandera.errors.SchemaErrors, match="never go backwards"):
        schema.validate(bad, lazy=True)


def test_summary_and_html(person_build):
    s = person_build.summary()
    assert s.filter(pl.col("item") == "stage won")["rows"].item() == 1
    assert "rejected" in person_build._repr_html_()


def test_tiny_data_is_fresh():
    # the module-scoped fixture must not be mutated by tests
    assert tiny_data().frame("people").height == 8


def test_status_regression_is_not_backwards():
    # Qualified on 10 Jan, moved back to Working - Contacted on 20 Jan: the lead was an MQL
    # no later than it became sales-ready; the later row is a regression, not MQL evidence
    people = pl.DataFrame(
        {
            "person_id": ["sf:1"],
            "person_type": ["lead"],
            "created_at": [t(1, 1)],
            "status_raw": ["Working - Contacted"],
        }
    )
    history = pl.DataFrame(
        {
            "entity_type": ["person"] * 2,
            "entity_id": ["sf:1"] * 2,
            "field": ["status"] * 2,
            "new_value": ["Qualified", "Working - Contacted"],
            "changed_at": [t(1, 10), t(1, 20)],
        }
    )
    data = clk.ClosedLoopData(
        {
            "people": clk.validate(people, "people").valid,
            "stage_history": clk.validate(history, "stage_history").valid,
        }
    )
    r = build_funnel(data).to_dicts()[0]
    assert (r["mql_at"], r["mql_backfilled"], r["sales_ready_at"]) == (t(1, 10), True, t(1, 10))


def test_contact_roles_primary_vs_all(tiny):
    roles = pl.DataFrame(
        {
            "opportunity_id": ["sf:O2", "sf:O2"],
            "person_id": ["sf:C2", "sf:L2"],
            "is_primary": [True, False],
        }
    )
    data = tiny.with_tables(opportunity_contacts=clk.validate(roles, "opportunity_contacts").valid)
    # L2 is a non-primary contact role on O2: not its own deal by default
    primary = quiet_build(data).funnel
    assert row(primary, "sf:L2")["opportunity_at"] is None
    everyone = quiet_build(data, contact_roles="all").funnel
    l2 = row(everyone, "sf:L2")
    # O2 created 1 Feb; L2's sales_ready back-filled to it
    assert (l2["opportunity_at"], l2["sales_ready_backfilled"]) == (t(2, 1), True)
    # opportunity grain: the primary contact C2 (created 3 Jan) starts O2 either way
    opp = quiet_build(data, grain="opportunity").funnel
    assert row(opp, "sf:O2")["raw_lead_at"] == t(1, 3)


def test_owner_role_decides_the_source_when_the_lead_source_says_nothing(tiny):
    # L2 loses its lead source: its owner's role decides. C2 has no lead source either but
    # a Direct form fill at its creation (touch_at_creation comes first). L3's "Partner
    # Referral" lead source wins over any owner.
    users = clk.validate(
        pl.DataFrame(
            {
                "user_id": ["sf:U1", "sf:U2", "sf:U3"],
                "role": ["EMEA Partner Manager", "EMEA SDR", "EMEA AE"],
            }
        ),
        "users",
    ).valid

    def sourced(owner_of_l2: str, **kw: object) -> dict[str, tuple[str, str]]:
        people = tiny.frame("people").with_columns(
            pl.when(pl.col("person_id") == "sf:L2")
            .then(None)
            .otherwise(pl.col("lead_source"))
            .alias("lead_source"),
            pl.when(pl.col("person_id") == "sf:L2")
            .then(pl.lit(owner_of_l2))
            .when(pl.col("person_id").is_in(["sf:C2", "sf:L3"]))
            .then(pl.lit("sf:U3"))
            .otherwise(None)
            .alias("owner_id"),
        )
        f = quiet_build(tiny.with_tables(people=people, users=users), **kw).funnel
        return {
            r["entity_id"]: (r["sourced_by"], r["sourced_by_rule"])
            for r in f.select("entity_id", "sourced_by", "sourced_by_rule").to_dicts()
        }

    got = sourced("sf:U1")
    assert got["sf:L2"] == ("partner", "owner_role")
    assert got["sf:C2"] == ("web_direct", "touch_at_creation")
    assert got["sf:L3"] == ("partner", "lead_source")
    assert sourced("sf:U3")["sf:L2"] == ("sales", "owner_role")
    assert sourced("sf:U2")["sf:L2"] == ("unknown", "none")  # an SDR's role says nothing
    # the company's own map: here its SDRs only work marketing's leads
    import dataclasses

    tax = dataclasses.replace(clk.Taxonomy.default(), owner_role_map={"sdr": "marketing"})
    assert sourced("sf:U2", taxonomy=tax)["sf:L2"] == ("marketing", "owner_role")
    with pytest.raises(ValueError, match="owner_role_map"):
        dataclasses.replace(clk.Taxonomy.default(), owner_role_map={"ae": "sdr"})


def test_product_line_person_interest_first_then_deal_then_campaign(tiny):
    # C2 asked about Analytics but sits on O2, a Platform deal: the person keeps Analytics,
    # the deal is Platform. C3 has no interest field: its deal O3 decides.
    people = tiny.frame("people").with_columns(
        pl.when(pl.col("person_id") == "sf:C2")
        .then(pl.lit("Analytics"))
        .otherwise(None)
        .alias("product_line")
    )
    opps = tiny.frame("opportunities").with_columns(pl.lit("Platform").alias("product_line"))
    data = tiny.with_tables(people=people, opportunities=opps)
    person = quiet_build(data).funnel
    assert (row(person, "sf:C2")["product_line"], row(person, "sf:C2")["product_line_rule"]) == (
        "Analytics",
        "person",
    )
    assert row(person, "sf:L1")["product_line_rule"] == "opportunity"  # O1 via conversion
    deal = quiet_build(data, grain="opportunity").funnel
    assert (row(deal, "sf:O2")["product_line"], row(deal, "sf:O2")["product_line_rule"]) == (
        "Platform",
        "opportunity",
    )


def _typed_in_contact_on_a_deal(lead_source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A HubSpot contact created straight into "Opportunity" on 1 Jan (lifecycle rows)."""
    people = pl.DataFrame(
        {
            "person_id": ["hs:1"],
            "person_type": ["contact"],
            "created_at": [t(1, 1)],
            "lead_source": [lead_source],
            "lifecycle_stage_raw": ["opportunity"],
        }
    )
    history = pl.DataFrame(  # HubSpot fills the skipped "Lead" at the jump's time
        {
            "entity_type": ["person"] * 2,
            "entity_id": ["hs:1"] * 2,
            "field": ["lifecycle_stage"] * 2,
            "new_value": ["lead", "opportunity"],
            "changed_at": [t(1, 1), t(1, 1)],
        }
    )
    return people, history


@pytest.mark.parametrize(
    ("lead_source", "raw_lead"),
    [
        ("Email Marketing", True),  # HubSpot's Original Source labels
        ("EMAIL_MARKETING", True),  # and its internal values
        ("Paid Social", True),
        ("ORGANIC_SOCIAL", True),
        ("Referrals", True),
        ("Other Campaigns", True),
        ("Offline Sources", False),  # typed in, imported: says nothing
    ],
)
def test_hubspot_original_source_says_whether_a_contact_gave_its_details(lead_source, raw_lead):
    people, history = _typed_in_contact_on_a_deal(lead_source)
    data = clk.ClosedLoopData(
        {
            "people": clk.validate(people, "people").valid,
            "stage_history": clk.validate(history, "stage_history").valid,
        }
    )
    r = build_funnel(data).to_dicts()[0]
    assert r["opportunity_at"] == t(1, 1)
    if raw_lead:  # a raw lead at its creation, observed (not back-filled)
        assert (r["raw_lead_at"], r["raw_lead_backfilled"]) == (t(1, 1), False)
    else:  # sales typed it in for the deal: it enters the funnel at the deal
        assert r["raw_lead_at"] is None


def test_a_lead_record_made_for_a_person_already_on_a_deal_is_a_raw_lead():
    # sales typed the contact in for a deal on 1 Jan; on 1 Mar an outbound lead record was
    # created for the same person (one golden person). The person existed since 1 Jan,
    # so the deal is not "before the first stage": the lead is a regression, clamped to
    # the deal and flagged back-filled, not a backwards row to reject.
    contact, history = _typed_in_contact_on_a_deal("Offline Sources")
    lead = pl.DataFrame(
        {
            "person_id": ["sf:2"],
            "person_type": ["lead"],
            "created_at": [t(3, 1)],
            "lead_source": ["Outbound"],
            "status_raw": ["Open - Not Contacted"],
        }
    )
    people = pl.concat([contact, lead], how="diagonal").with_columns(
        pl.lit("gold:1").alias("golden_person_id")
    )
    data = clk.ClosedLoopData(
        {
            "people": clk.validate(people, "people").valid,
            "stage_history": clk.validate(history, "stage_history").valid,
        }
    )
    res = build_funnel(data, result=True)
    assert res.rejected.height == 0
    g = row(res.funnel, "gold:1")
    assert (g["raw_lead_at"], g["raw_lead_backfilled"]) == (t(1, 1), True)
    assert (g["opportunity_at"], g["opportunity_backfilled"]) == (t(1, 1), False)
    # a milestone before every record of the person still goes backwards
    early = history.with_columns(pl.lit(t(12, 1) - dt.timedelta(days=365)).alias("changed_at"))
    data = data.with_tables(stage_history=clk.validate(early, "stage_history").valid)
    res = build_funnel(data, result=True, quiet=True)
    assert res.rejected["reason"].to_list() == [
        "stage timestamps go backwards (opportunity before the first stage)"
    ]


def test_a_deal_exists_from_its_contacts_earliest_record():
    # hs:1, typed in by sales on 1 Jan, had a meeting on 1 Feb; hs:2 came in through paid
    # search on 1 Mar; both are contacts of the deal created 1 Apr (no primary: HubSpot's
    # deals export has none). The meeting is not "before the first stage": the deal's
    # people existed since 1 Jan. Its raw lead is clamped to the meeting, flagged.
    people = pl.DataFrame(
        {
            "person_id": ["hs:1", "hs:2"],
            "person_type": ["contact", "contact"],
            "created_at": [t(1, 1), t(3, 1)],
            "lead_source": ["Offline Sources", "Paid Search"],
        }
    )
    meetings = pl.DataFrame(
        {
            "activity_id": ["hs:m1"],
            "type": ["meeting"],
            "person_id": ["hs:1"],
            "occurred_at": [t(2, 3)],
            "created_at": [t(2, 1)],
        }
    )
    deal = pl.DataFrame(
        {
            "opportunity_id": ["hs:O1"],
            "stage_raw": ["appointmentscheduled"],
            "is_closed": [False],
            "is_won": [False],
            "amount": [100.0],
            "currency": ["USD"],
            "amount_corporate": [100.0],
            "created_at": [t(4, 1)],
        }
    )
    roles = pl.DataFrame(
        {
            "opportunity_id": ["hs:O1", "hs:O1"],
            "person_id": ["hs:1", "hs:2"],
            "is_primary": [False] * 2,
        }
    )
    data = clk.ClosedLoopData(
        {
            "people": clk.validate(people, "people").valid,
            "activities": clk.validate(meetings, "activities").valid,
            "opportunities": clk.validate(deal, "opportunities").valid,
            "opportunity_contacts": clk.validate(roles, "opportunity_contacts").valid,
        }
    )
    res = build_funnel(data, grain="opportunity", result=True)
    assert res.rejected.height == 0
    o1 = row(res.funnel, "hs:O1")
    assert (o1["sales_ready_at"], o1["sales_ready_backfilled"]) == (t(2, 1), False)
    assert (o1["raw_lead_at"], o1["raw_lead_backfilled"]) == (t(2, 1), True)
    assert o1["opportunity_at"] == t(4, 1)


def test_deleted_records_are_counted_and_left_out(tiny):
    """A deal the source deleted is in the table's `deleted` count, not in the funnel; a
    line item removed from a deal (deleted) does not decide the deal's product line."""
    from tests.helpers import canonical

    opps = tiny.frame("opportunities").with_columns(
        pl.lit(None, pl.String).alias("product_line"),
        (pl.col("opportunity_id") == "sf:O1").alias("is_deleted"),
    )
    products = canonical(
        "products",
        [
            {"product_id": "sf:P1", "name": "A", "family": "Analytics"},
            {"product_id": "sf:P2", "name": "P", "family": "Platform"},
        ],
    )
    items = canonical(
        "opportunity_products",
        [
            # O2's larger line was removed from the deal: Platform, not Analytics
            {"line_item_id": "sf:I1", "opportunity_id": "sf:O2", "product_id": "sf:P1",
             "total_amount": 400.0, "is_deleted": True},
            {"line_item_id": "sf:I2", "opportunity_id": "sf:O2", "product_id": "sf:P2",
             "total_amount": 100.0, "is_deleted": False},
        ],
    )  # fmt: skip
    data = tiny.with_tables(opportunities=opps, products=products, opportunity_products=items)
    summary = {r["table"]: r for r in data.summary().to_dicts()}
    assert (summary["opportunities"]["rows"], summary["opportunities"]["deleted"]) == (3, 1)
    assert summary["opportunity_products"]["deleted"] == 1
    assert summary["people"]["deleted"] == 0
    deal = quiet_build(data, grain="opportunity").funnel
    assert "sf:O1" not in deal["entity_id"].to_list()
    assert row(deal, "sf:O2")["product_line"] == "Platform"
