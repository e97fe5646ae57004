"""Touches and cost rows find their CRM campaign through its UTM campaign."""

from __future__ import annotations

import datetime as dt

import polars as pl

from closedloop_kit.config import ChannelRules
from closedloop_kit.prepared._costs import cost_rows, match_costs, name_lookup
from closedloop_kit.prepared._touches import prepare_touchpoints

CAMPAIGNS = pl.DataFrame(
    {
        "campaign_id": ["sf:701A", "sf:701B", "sf:701C"],
        "name": ["Paid Search - Analytics - APAC", "Webinar Q1", "Paid Social - Analytics"],
        "type": ["Paid Search", "Webinar", "Paid Social"],
        "utm_campaign": ["gads_search_analytics_apac", None, "shared_utm"],
        "product_line": ["Analytics", "Platform", "Analytics"],
        "sales_division": ["APAC", "EMEA", "EMEA"],
    }
)

# a second CRM campaign carrying sf:701C's UTM campaign: that UTM names neither
SHARED_UTM = pl.concat(
    [
        CAMPAIGNS,
        pl.DataFrame(
            {
                "campaign_id": ["sf:701D"],
                "name": ["Paid Social - Automation"],
                "type": ["Paid Social"],
                "utm_campaign": ["shared_utm"],
                "product_line": ["Automation"],
                "sales_division": ["EMEA"],
            }
        ),
    ]
)


def _spend(names: list[str], channels: list[str], costs: list[float]) -> pl.DataFrame:
    """Ad spend rows in USD on 2026-01-05, one per ad campaign name."""
    return pl.DataFrame(
        {
            "date": [dt.date(2026, 1, 5)] * len(names),
            "ad_campaign_name": names,
            "channel": channels,
            "currency": ["USD"] * len(names),
            "cost": costs,
        }
    )


def test_touches_match_the_crm_campaign_by_its_utm_campaign() -> None:
    touches = pl.DataFrame(
        {
            "touchpoint_id": ["t1", "t2", "t3", "t4"],
            "source": ["google", "x", "google", "linkedin"],
            "medium": ["cpc", "email", "cpc", "paid_social"],
            "campaign_name": ["GADS_search_analytics_apac", "webinar q1", "nothing", None],
            "campaign_id": [None, None, None, None],
            "channel": [None, None, None, None],
            "touch_type": ["web_session"] * 4,
        },
        schema_overrides={"campaign_id": pl.String, "channel": pl.String},
    )
    out = prepare_touchpoints(
        touches, campaigns=CAMPAIGNS, spend=pl.DataFrame(), rules=ChannelRules.ga4_default()
    )
    assert out.select("campaign_id", "campaign_match").rows() == [
        ("sf:701A", "campaign_name"),  # its UTM campaign, case-insensitive
        ("sf:701B", "campaign_name"),  # its name
        (None, "none"),
        (None, "none"),
    ]


def test_a_utm_campaign_shared_by_two_crm_campaigns_matches_neither() -> None:
    camps = SHARED_UTM
    touches = pl.DataFrame(
        {
            "touchpoint_id": ["t1"],
            "source": ["linkedin"],
            "medium": ["paid_social"],
            "campaign_name": ["shared_utm"],
            "campaign_id": [None],
            "channel": [None],
            "touch_type": ["web_session"],
        },
        schema_overrides={"campaign_id": pl.String, "channel": pl.String},
    )
    out = prepare_touchpoints(
        touches, campaigns=camps, spend=pl.DataFrame(), rules=ChannelRules.ga4_default()
    )
    assert out["campaign_match"].to_list() == ["none"]


def test_ad_spend_is_booked_to_the_campaign_whose_utm_campaign_it_names() -> None:
    spend = _spend(
        ["gads_search_analytics_apac", "unknown_ad"], ["Paid Search", "Paid Search"], [120.5, 10.0]
    )
    rows, bad = cost_rows(spend, None, None, "USD")
    assert bad.height == 0
    out = match_costs(rows, CAMPAIGNS, name_lookup(CAMPAIGNS, None))
    assert out.select("campaign", "match_level", "product_line", "sales_division").rows() == [
        ("sf:701A", "campaign_name", "Analytics", "APAC"),
        (None, "channel", None, None),
    ]


def test_touches_and_costs_match_names_the_same_way() -> None:
    """One normalisation and one ambiguity rule for touches and cost rows.

    ``Webinar Q1`` spelled ``webinar_q1`` (a UTM) and ``Webinar-Q1`` (an ad export) is
    one campaign on both sides; ``shared_utm``, carried by two CRM campaigns, names
    neither on either side (before, the cost side guessed the smallest id).
    """
    camps = SHARED_UTM
    touches = pl.DataFrame(
        {
            "touchpoint_id": ["t1", "t2"],
            "source": ["newsletter", "linkedin"],
            "medium": ["email", "paid_social"],
            "campaign_name": ["webinar_q1", "shared_utm"],
            "campaign_id": [None, None],
            "channel": [None, None],
            "touch_type": ["web_session"] * 2,
        },
        schema_overrides={"campaign_id": pl.String, "channel": pl.String},
    )
    out = prepare_touchpoints(
        touches, campaigns=camps, spend=pl.DataFrame(), rules=ChannelRules.ga4_default()
    )
    assert out["campaign_id"].to_list() == ["sf:701B", None]
    spend = _spend(["Webinar-Q1", "shared_utm"], ["Email", "Paid Social"], [50.0, 70.0])
    rows, bad = cost_rows(spend, None, None, "USD")
    assert bad.height == 0
    booked = match_costs(rows, camps, name_lookup(camps, None))
    assert booked.select("campaign", "match_level").rows() == [
        ("sf:701B", "campaign_name"),
        (None, "channel"),
    ]


def test_a_name_no_crm_campaign_carries_keeps_its_spelling() -> None:
    touch_names = pl.DataFrame(
        {"campaign_id": [None, None], "campaign_name": ["Spring Promo", "spring_promo"]},
        schema_overrides={"campaign_id": pl.String},
    )
    lookup = name_lookup(None, touch_names)
    assert lookup.rows() == [("springpromo", "Spring Promo")]
