"""Merged HubSpot contacts and deals from the dbt_hubspot fixture are resolved.

The canonical frames are built here with polars, the way the HubSpot loader maps the
warehouse-synced tables (``hs:`` keys; a contact listed in another contact's
``property_hs_merged_object_ids`` and a ``vid_to_merge`` of the merge audit are merged
into that contact; ``merged_deal_data`` names the surviving deal of each merged deal).
"""

from __future__ import annotations

import polars as pl
import pytest

from closedloop_kit.identity import resolve
from closedloop_kit.store import ClosedLoopData


@pytest.fixture
def hubspot(shared_fixtures):
    return shared_fixtures / "dbt_hubspot" / "integration_tests" / "seeds"


def _people(seeds) -> tuple[pl.DataFrame, dict[str, str]]:
    contacts = pl.read_csv(seeds / "contact_data.csv", infer_schema=False)
    merged = (
        contacts.select(
            pl.col("id").alias("survivor"),
            pl.col("property_hs_merged_object_ids").str.split(";").alias("merged"),
        )
        .explode("merged")
        .filter(pl.col("merged").is_not_null() & (pl.col("merged") != ""))
    )
    audit = pl.read_csv(seeds / "contact_merge_audit_data.csv", infer_schema=False).select(
        pl.col("canonical_vid").alias("survivor"), pl.col("vid_to_merge").alias("merged")
    )
    merges = pl.concat([merged, audit])
    expected = {f"hs:{m}": f"hs:{s}" for s, m in merges.iter_rows()}
    people = contacts.select(
        pl.concat_str(pl.lit("hs:"), pl.col("id")).alias("person_id"),
        pl.lit("contact").alias("person_type"),
        pl.col("property_email").alias("email"),
        pl.col("property_company").alias("company_name"),
        pl.col("property_createdate")
        .str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="UTC")
        .alias("created_at"),
        (pl.col("_fivetran_deleted").str.to_lowercase() == "true").alias("is_deleted"),
        pl.lit("hubspot").alias("source_system"),
    )
    # the merge audit names contacts that are not in contact_data: the loader keeps both
    # sides of each audited merge as (minimal) person rows
    audit_rows = pl.concat(
        [audit.select(pl.col("survivor").alias("id")), audit.select(pl.col("merged").alias("id"))]
    ).select(
        pl.concat_str(pl.lit("hs:"), pl.col("id")).alias("person_id"),
        pl.lit("contact").alias("person_type"),
        pl.lit("hubspot").alias("source_system"),
    )
    people = pl.concat([people, audit_rows], how="diagonal_relaxed").unique(
        "person_id", keep="first", maintain_order=True
    )
    people = people.join(
        pl.DataFrame(
            {"person_id": list(expected), "merged_into_id": list(expected.values())},
            schema={"person_id": pl.String, "merged_into_id": pl.String},
        ),
        on="person_id",
        how="left",
        maintain_order="left",
    )
    return people, expected


def _deals(seeds) -> tuple[pl.DataFrame, dict[str, str]]:
    deals = pl.read_csv(seeds / "deal_data.csv", infer_schema=False)
    merged = pl.read_csv(seeds / "merged_deal_data.csv", infer_schema=False)
    expected = {f"hs:{m}": f"hs:{d}" for d, m, _ in merged.iter_rows()}
    rows = pl.concat(
        [
            deals.select(pl.col("deal_id")),
            merged.select(pl.col("deal_id")),
            merged.select(pl.col("merged_deal_id").alias("deal_id")),
        ]
    ).unique(maintain_order=True)
    opps = rows.select(
        pl.concat_str(pl.lit("hs:"), pl.col("deal_id")).alias("opportunity_id"),
        pl.lit(True).alias("is_won"),
        pl.lit(1.0).alias("amount"),
    ).join(
        pl.DataFrame(
            {"opportunity_id": list(expected), "merged_into_id": list(expected.values())},
            schema={"opportunity_id": pl.String, "merged_into_id": pl.String},
        ),
        on="opportunity_id",
        how="left",
        maintain_order="left",
    )
    return opps, expected


def test_merged_contacts_and_deals_are_resolved(hubspot):
    people, expected_people = _people(hubspot)
    opps, expected_deals = _deals(hubspot)
    assert len(expected_people) == 3 + 4  # 3 listed merged ids + 4 audited merges
    assert len(expected_deals) == 14
    res = resolve(ClosedLoopData({"people": people, "opportunities": opps}))
    golden = dict(res.data.frame("people").select("person_id", "golden_person_id").iter_rows())
    for merged, survivor in expected_people.items():
        assert golden[merged] == survivor
        assert golden[survivor] == survivor
    # 22 contacts + 8 audit rows = 30 records; 7 merged away
    assert res.report.n_records == people.height == 30
    assert res.report.n_people == 30 - 7
    by_rule = dict(res.report.people_by_rule.select("rule", "people_after").iter_rows())
    assert by_rule["merge"] == 23
    # the hashed emails in the fixture are not addresses: no email merges
    assert by_rule["email"] == by_rule["(input records)"]
    merges = res.data.frame("identity_links").filter(pl.col("rule") == "merge")
    assert merges.height == 7
    assert set(merges["person_id"]) == set(expected_people.values())

    out = dict(
        res.data.frame("opportunities").select("opportunity_id", "merged_into_id").iter_rows()
    )
    for merged, survivor in expected_deals.items():
        assert out[merged] == survivor
        assert out[survivor] is None
    # merged deals are not counted again as won opportunities
    assert res.report.loop.n_won == opps.height - 14


def test_hubspot_loader_merge_evidence_is_resolved(hubspot):
    import closedloop_kit as clk

    frames: dict[str, list[pl.DataFrame]] = {}
    for name in ("contact_data", "contact_merge_audit_data", "deal_data", "merged_deal_data"):
        res = clk.io.read_hubspot(hubspot / f"{name}.csv")
        for table in ("people", "opportunities", "identity_links"):
            if res[table].height:
                frames.setdefault(table, []).append(res[table])
    tables = {k: pl.concat(v, how="diagonal_relaxed") for k, v in frames.items()}
    # the merged deals are not in deal_data (nor their survivors): add the rows a full
    # export would have, so the loader's merge links have something to resolve
    merged = tables["identity_links"].filter(pl.col("id_type") == "deal_id")
    extra = pl.concat(
        [
            merged.select(pl.col("id_value").alias("opportunity_id")),
            merged.select(pl.col("linked_id_value").alias("opportunity_id")),
        ]
    ).unique(maintain_order=True)
    tables["opportunities"] = pl.concat([tables["opportunities"], extra], how="diagonal_relaxed")
    res = resolve(ClosedLoopData(tables))
    golden = dict(res.data.frame("people").select("person_id", "golden_person_id").iter_rows())
    for merged_id in ("hs:76340251", "hs:46897301", "hs:76226001"):
        assert golden[merged_id] == "hs:78971951"  # the survivor, though it is younger
    assert len(set(golden.values())) == 22 - 3
    rules = dict(res.report.people_by_rule.select("rule", "pairs").iter_rows())
    assert rules["merge"] == 3
    opps = dict(
        res.data.frame("opportunities").select("opportunity_id", "merged_into_id").iter_rows()
    )
    for m, s in merged.select("id_value", "linked_id_value").iter_rows():
        assert opps[m] == s
        assert opps[s] is None
