"""The sales side of make_b2b: users, activities (meetings = sales-ready), line items."""

from __future__ import annotations

import polars as pl
import pytest

from closedloop_kit.datasets import make_b2b


@pytest.fixture(scope="module")
def world():
    return make_b2b(seed=3, accounts=120, months=12)


def _meetings(world) -> pl.DataFrame:
    """Meetings joined to the human each one is with (truth/identity)."""
    a = world.data.frame("activities").filter(pl.col("type") == "meeting")
    return a.join(world.truth.identity, on="person_id", how="left")


def test_meetings_are_exactly_the_sales_ready_humans(world) -> None:
    m = _meetings(world)
    assert m["true_person_key"].null_count() == 0  # every meeting is with a CRM person
    humans = world.truth.humans.filter(pl.col("sales_ready_at").is_not_null())
    sr = world.truth.sales_ready
    assert set(m["true_person_key"]) == set(humans["true_person_key"]) == set(sr["true_person_key"])
    counts = world.truth.stage_counts.filter(pl.col("stage") == "sales_ready")["count"].item()
    assert sr.height == counts


def test_first_meeting_set_up_is_the_sales_ready_moment(world) -> None:
    m = _meetings(world)
    first = m.group_by("true_person_key").agg(pl.col("created_at").min().alias("set_at"))
    truth = world.truth.humans.select("true_person_key", "sales_ready_at").join(
        first, on="true_person_key"
    )
    # HubSpot exports write minutes: its meetings are booked at the minute
    gap = (truth["set_at"] - truth["sales_ready_at"]).dt.total_seconds().abs()
    assert gap.max() < 60
    sr = world.truth.sales_ready.join(
        world.data.frame("activities"), on="activity_id", how="left", suffix="_a"
    )
    assert (sr["person_id"] == sr["person_id_a"]).all()
    assert (sr["meeting_set_at"] == sr["created_at"]).all()
    assert (sr["meeting_at"] == sr["occurred_at"]).all()
    assert (sr["meeting_at"] > sr["meeting_set_at"]).all()  # booked, then held


def test_owners_have_roles_and_divisions(world) -> None:
    d = world.data
    users = d.frame("users")
    sf = users.filter(pl.col("source_system") == "salesforce")
    assert set(sf["role"]) >= {"North America SDR", "EMEA AE", "EMEA Partner Manager", "Marketing"}
    hs = users.filter(pl.col("source_system") == "hubspot")
    assert set(hs["role"]) >= {"SDR", "AE", "Partner Manager", "Marketing"}
    assert set(users["sales_division"].drop_nulls()) == {"North America", "EMEA", "APAC"}
    keys = set(users["user_id"])
    for table in ("people", "accounts", "opportunities", "activities"):
        assert set(d.frame(table)["owner_id"].drop_nulls()) <= keys, table
    assert set(sf["manager_id"].drop_nulls()) <= keys
    # partner-sourced people are owned by partner managers
    partner = world.truth.humans.filter(pl.col("origin") == "partner")["person_id"].drop_nulls()
    owners = d.frame("people").filter(pl.col("person_id").is_in(partner.to_list()))
    role = owners.join(users, left_on="owner_id", right_on="user_id")["role"]
    assert role.str.contains("Partner Manager").all()
    assert role.len() > 0


def test_activities_reference_known_records(world) -> None:
    d = world.data
    a = d.frame("activities")
    assert set(a["person_id"].drop_nulls()) <= set(d.frame("people")["person_id"])
    assert set(a["opportunity_id"].drop_nulls()) <= set(d.frame("opportunities")["opportunity_id"])
    assert set(a["account_id"].drop_nulls()) <= set(d.frame("accounts")["account_id"])
    assert set(a["type"]) == {"call", "email", "meeting"}
    # the SDR calls of sales-created leads are the world's sales_activity touches
    calls = d.frame("touchpoints").filter(pl.col("touch_type") == "sales_activity")
    assert set(calls["touchpoint_id"]) <= set(a["activity_id"])


def test_line_items_sum_to_each_deal_in_its_currency(world) -> None:
    d = world.data
    li = d.frame("opportunity_products")
    products = d.frame("products")
    assert set(products["family"]) == {"Analytics", "Automation", "Platform"}
    per_deal = li.group_by("opportunity_id").agg(
        pl.col("total_amount").sum(),
        pl.col("total_amount_corporate").sum(),
        pl.col("currency").unique().alias("currencies"),
    )
    opps = d.frame("opportunities").join(per_deal, on="opportunity_id", how="left")
    assert opps["total_amount"].null_count() == 0  # every deal has line items
    assert ((opps["total_amount"] - opps["amount"]).abs() < 0.005).all()
    assert (opps["currencies"].list.len() == 1).all()
    assert (opps["currencies"].list.first() == opps["currency"]).all()
    # each line is rounded to the cent: the corporate totals agree within a cent a line
    n = li.group_by("opportunity_id").len()
    opps = opps.join(n, on="opportunity_id")
    diff = (opps["total_amount_corporate"] - opps["amount_corporate"]).abs()
    assert (diff <= 0.01 * opps["len"]).all()
    # the product family of a deal's lines is its product line
    fam = li.join(products.select("product_id", "family"), on="product_id").join(
        d.frame("opportunities").select("opportunity_id", "product_line"), on="opportunity_id"
    )
    assert (fam["family"] == fam["product_line"]).all()


def test_same_seed_same_sales_side(world) -> None:
    again = make_b2b(seed=3, accounts=120, months=12)
    assert world.truth.stage_counts.equals(again.truth.stage_counts)
    assert world.truth.sales_ready.equals(again.truth.sales_ready)
