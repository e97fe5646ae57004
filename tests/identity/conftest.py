"""Tiny inline canonical frames for identity tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from closedloop_kit.store import ClosedLoopData

UTC = dt.UTC


def ts(day: int, month: int = 1, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=UTC)


@pytest.fixture
def people() -> pl.DataFrame:
    # 8 records of 5 real people:
    #   Ann: Salesforce lead L1 converted into contact C1; Pardot prospect 11 carries L1's id
    #   Bob: HubSpot contact 51 merged into 52
    #   Carol: hs:60 and hs:61 (plus-addressed email: merged only with plus stripping)
    #   Ann Lee at Gamma: same name as Ann, different company → never merged by name
    return pl.DataFrame(
        {
            "person_id": [
                "sf:00QL1",
                "sf:003C1",
                "pardot:11",
                "hs:51",
                "hs:52",
                "hs:60",
                "hs:61",
                "sf:00QL2",
            ],
            "person_type": [
                "lead",
                "contact",
                "prospect",
                "contact",
                "contact",
                "contact",
                "contact",
                "lead",
            ],
            "email": [
                "ann@acme.com",
                " Ann@ACME.com",
                None,
                "bob@beta.io",
                "bob.b@beta.io",
                "carol@gmail.com",
                "Carol+news@gmail.com",
                "ann@gamma.com",
            ],
            "first_name": ["Ann", "Ann", "Ann", "Bob", "Bob", "Carol", "Carol", "Ann"],
            "last_name": ["Lee"] * 3 + ["Ray"] * 2 + ["Sun"] * 2 + ["Lee"],
            "company_name": [
                "Acme Inc",
                None,
                "ACME",
                None,
                None,
                "Delta Corp.",
                None,
                "Gamma GmbH",
            ],
            "account_id": [None, "sf:001A", None, None, None, None, None, None],
            "converted_contact_id": ["sf:003C1", None, None, None, None, None, None, None],
            "converted_account_id": ["sf:001A", None, None, None, None, None, None, None],
            "merged_into_id": [None, None, None, "hs:52", None, None, None, None],
            "created_at": [ts(2), ts(1, 2), ts(1), ts(5), ts(6), ts(7), ts(3), ts(9)],
            "is_deleted": [False] * 8,
        }
    )


@pytest.fixture
def links() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": [None, None, None, None, None],
            "id_type": ["crm_id", "anonymous_id", "anonymous_id", "anonymous_id", "user_id"],
            "id_value": ["pardot:11", "ga4:v1", "ga4:v2", "ga4:v3", "u-77"],
            "linked_id_type": ["crm_id", "email", "email_sha256", "user_id", "crm_id"],
            "linked_id_value": [
                "sf:00QL1",
                "ANN@acme.com",
                # sha256("bob.b@beta.io")
                "82a38ad339ccd362431924d9000d2afe68a5c2adfad84bf85487998fb826d126",
                "u-77",
                "hs:60",
            ],
            "rule": [
                "pardot_crm_lead_fid",
                "ga4_generate_lead",
                "ga4_generate_lead",
                "ga4_login",
                "app_login",
            ],
            "confidence": [None] * 5,
            "first_seen_at": [None, ts(3), ts(4), ts(5), ts(5)],
            "last_seen_at": [None, ts(3), ts(4), ts(5), ts(5)],
        },
        schema_overrides={
            "person_id": pl.String,
            "confidence": pl.Float64,
            "first_seen_at": pl.Datetime("us", "UTC"),
            "last_seen_at": pl.Datetime("us", "UTC"),
        },
    )


@pytest.fixture
def accounts() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": ["sf:001A", "sf:001B", "sf:001D", "sf:001E"],
            "name": ["Acme, Inc.", "Beta Systems", "Delta Corporation", "Epsilon"],
            "domain": ["acme.com", "beta.io", None, "epsilon.com"],
            "parent_account_id": [None] * 4,
            "created_at": [ts(1)] * 4,
        },
        schema_overrides={"parent_account_id": pl.String},
    )


@pytest.fixture
def touchpoints() -> pl.DataFrame:
    rows = [
        # id, person, anon, account, at, type, marketing, user_id
        ("t1", None, "ga4:v1", None, ts(2), "web_session", True, None),
        ("t2", None, "ga4:v1", None, ts(3), "web_session", True, None),
        ("t3", "sf:00QL1", "ga4:v9", None, ts(3), "form_fill", True, None),
        ("t4", None, "ga4:v9", None, ts(4), "web_session", True, None),
        ("t5", None, "ga4:v3", None, ts(6), "web_session", True, "u-77"),
        ("t6", None, "ga4:v4", None, ts(6), "web_session", True, None),
        ("t7", "hs:51", None, None, ts(2, 3), "email_click", True, None),
        ("t8", "hs:60", None, None, ts(1, 6), "webinar", True, None),
        ("t9", "sf:003C1", None, None, ts(1, 2), "sales_activity", False, None),
    ]
    cols = [
        "touchpoint_id",
        "person_id",
        "anonymous_id",
        "account_id",
        "occurred_at",
        "touch_type",
        "is_marketing",
        "user_id",
    ]
    return pl.DataFrame(
        [dict(zip(cols, r, strict=True)) for r in rows],
        schema={
            "touchpoint_id": pl.String,
            "person_id": pl.String,
            "anonymous_id": pl.String,
            "account_id": pl.String,
            "occurred_at": pl.Datetime("us", "UTC"),
            "touch_type": pl.String,
            "is_marketing": pl.Boolean,
            "user_id": pl.String,
        },
    )


@pytest.fixture
def opportunities() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "opportunity_id": [f"sf:006{c}" for c in "abcdefg"],
            "account_id": ["sf:001A", "sf:001B", "sf:001D", None, "sf:001E", "sf:001A", None],
            "is_won": [True, True, True, True, True, False, True],
            "is_closed": [True] * 7,
            "amount": [100.0, 200.0, 300.0, 400.0, 500.0, 999.0, 600.0],
            "amount_corporate": [100.0, 200.0, None, 400.0, 500.0, 999.0, 600.0],
            "close_date": [dt.date(2025, 3, 1)] * 7,
            "closed_at": [None, ts(1, 3), None, None, None, None, None],
        },
        schema_overrides={"closed_at": pl.Datetime("us", "UTC")},
    )


@pytest.fixture
def opportunity_contacts() -> pl.DataFrame:
    return pl.DataFrame(
        {"opportunity_id": ["sf:006g"], "person_id": ["hs:61"], "is_primary": [True]}
    )


@pytest.fixture
def data(
    people, links, accounts, touchpoints, opportunities, opportunity_contacts
) -> ClosedLoopData:
    return ClosedLoopData(
        {
            "people": people,
            "opportunity_contacts": opportunity_contacts,
            "identity_links": links,
            "accounts": accounts,
            "touchpoints": touchpoints,
            "opportunities": opportunities,
        }
    )
