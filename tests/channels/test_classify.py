"""GA4 default channel grouping, YAML rules and offline touches."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import closedloop_kit as clk
from closedloop_kit.channels import classify, load_source_categories
from closedloop_kit.config import ChannelRule, ChannelRules, Condition

# (source, medium, campaign, expected channel) from Google's "[GA4] Default channel
# group" definitions; the source categories are Google's list shipped with the package.
GA4_CASES = [
    ("google", "cpc", None, "Paid Search"),
    ("bing", "cpc", None, "Paid Search"),
    ("google", "retargeting", None, "Paid Search"),
    ("baidu", "paid", None, "Paid Search"),
    ("facebook", "paid_social", None, "Paid Social"),
    ("linkedin", "cpc", None, "Paid Social"),
    ("(direct)", "(none)", None, "Direct"),
    ("(direct)", "(not set)", None, "Direct"),
    ("newsletter", "email", None, "Email"),
    ("mailchimp", "e-mail", None, "Email"),
    ("email", "foo", None, "Email"),
    ("youtube", "cpv", None, "Paid Video"),
    ("youtube", "referral", None, "Organic Video"),
    ("vimeo_like_site", "video", None, "Organic Video"),
    ("bing", "organic", None, "Organic Search"),
    ("google", "organic", None, "Organic Search"),
    ("duckduckgo", "referral", None, "Organic Search"),
    ("t.co", "referral", None, "Organic Social"),
    ("instagram", "social", None, "Organic Social"),
    ("some-forum", "social-network", None, "Organic Social"),
    ("example.com", "referral", None, "Referral"),
    ("partnerx", "affiliate", None, "Affiliates"),
    ("dsp", "display", None, "Display"),
    ("adserver", "banner", None, "Display"),
    ("adserver", "cpm", None, "Display"),
    ("amazon", "cpc", None, "Paid Shopping"),
    ("somesite", "cpc", "summer_shopping", "Paid Shopping"),
    ("somesite", "ppc", None, "Paid Other"),
    ("somesite", "(none)", "black-friday-shop", "Organic Shopping"),
    ("amazon", "referral", None, "Organic Shopping"),
    ("google", "cpc", "pmax cross-network q3", "Cross-network"),
    ("podcastnet", "audio", None, "Audio"),
    ("twilio", "sms", None, "SMS"),
    ("myapp", "push", None, "Mobile Push Notifications"),
    ("firebase", "inapp", None, "Mobile Push Notifications"),
    ("unknown", "unknown", None, "Unassigned"),
]


def test_ga4_default_groups_on_published_examples():
    frame = pl.DataFrame(
        {
            "source": [c[0] for c in GA4_CASES],
            "medium": [c[1] for c in GA4_CASES],
            "campaign_name": [c[2] for c in GA4_CASES],
        },
        schema={"source": pl.String, "medium": pl.String, "campaign_name": pl.String},
    )
    got = classify(frame)
    assert len(GA4_CASES) >= 25
    mismatches = [
        (c, g) for c, g in zip(GA4_CASES, got["channel"].to_list(), strict=True) if c[3] != g
    ]
    assert mismatches == []
    # the subchannel of web rules is the source
    assert got["subchannel"][0] == "google"


def test_case_and_whitespace_do_not_matter():
    t = pl.DataFrame({"source": [" Google "], "medium": ["CPC"]})
    assert classify(t)["channel"].item() == "Paid Search"


def test_referrer_host_becomes_source():
    t = pl.DataFrame(
        {
            "source": [None, None, None],
            "medium": [None, None, None],
            "referrer": [
                "https://www.google.co.uk/",
                "https://l.facebook.com/l.php?u=x",
                "https://blog.partner.io/post",
            ],
        },
        schema={"source": pl.String, "medium": pl.String, "referrer": pl.String},
    )
    got = classify(t)
    assert got["channel"].to_list() == ["Organic Search", "Organic Social", "Referral"]
    assert got["subchannel"].to_list() == ["google.co.uk", "l.facebook.com", "blog.partner.io"]


def test_missing_source_on_web_session_is_direct_but_not_on_email():
    t = pl.DataFrame(
        {
            "source": [None, None, None],
            "medium": [None, None, None],
            "touch_type": ["web_session", "email_click", "ad_click"],
            "click_id": [None, None, "Cj0KCQ"],
        },
        schema={s: pl.String for s in ["source", "medium", "touch_type", "click_id"]},
    )
    assert classify(t)["channel"].to_list() == ["Direct", "Email", "Paid Other"]


def test_offline_touches_keep_campaign_type():
    t = pl.DataFrame(
        {
            "source": [None, None, None],
            "medium": [None, None, None],
            "touch_type": ["trade_show", "webinar", "call"],
            "campaign_id": ["sf:7011", "sf:7012", None],
            "campaign_name": ["RSA 2025", None, None],
        },
        schema={
            c: pl.String for c in ["source", "medium", "touch_type", "campaign_id", "campaign_name"]
        },
    )
    campaigns = pl.DataFrame(
        {
            "campaign_id": ["sf:7011", "sf:7012"],
            "type": ["Trade Show", "Webinar"],
            "name": ["RSA Conference 2025", "Q2 product webinar"],
        }
    )
    got = classify(t, campaigns=campaigns)
    assert got["channel"].to_list() == ["Trade Show", "Webinar", "Call"]
    assert got["subchannel"].to_list() == ["RSA Conference 2025", "Q2 product webinar", None]
    # without the campaign table the touch type names the channel
    assert classify(t)["channel"].to_list() == ["Trade Show", "Webinar", "Call"]


def test_existing_channels_are_kept_unless_overwrite():
    t = pl.DataFrame(
        {"source": ["google", "google"], "medium": ["cpc", "cpc"], "channel": ["Partner", None]}
    )
    assert classify(t)["channel"].to_list() == ["Partner", "Paid Search"]
    assert classify(t, overwrite=True)["channel"].to_list() == ["Paid Search", "Paid Search"]
    assert classify(t).columns == ["source", "medium", "channel", "subchannel"]


def test_yaml_rules_extend_the_defaults_and_win():
    rules = ChannelRules.from_yaml(
        """
extends: ga4_default
rules:
  - channel: Paid Search
    subchannel: Brand
    when:
      source_category: SOURCE_CATEGORY_SEARCH
      medium: {regex: "^(cpc|ppc)$"}
      campaign: {contains: brand}
  - channel: Partner
    any:
      - medium: [partner, reseller]
      - source: {regex: "partner"}
"""
    )
    t = pl.DataFrame(
        {
            "source": ["google", "google", "acme", "mypartnerportal", "google"],
            "medium": ["cpc", "cpc", "reseller", "referral", "organic"],
            "campaign_name": ["brand_us", "generic", None, None, None],
        }
    )
    got = classify(t, rules=rules)
    assert got["channel"].to_list() == [
        "Paid Search",
        "Paid Search",
        "Partner",
        "Partner",
        "Organic Search",
    ]
    assert got["subchannel"].to_list()[:3] == ["Brand", "google", None]
    # round trip through YAML keeps the rules
    again = ChannelRules.from_yaml(rules.to_yaml())
    assert again.rules == rules.rules
    assert classify(t, rules=again).equals(got)


def test_extend_positions_and_python_rules():
    partner = ChannelRule("Partner", all=(Condition("medium", "equals", "cpc"),))
    base = ChannelRules.ga4_default()
    t = pl.DataFrame({"source": ["google"], "medium": ["cpc"]})
    assert classify(t, rules=base.extend([partner]))["channel"].item() == "Partner"
    assert classify(t, rules=base.extend([partner], position="last"))["channel"].item() == (
        "Paid Search"
    )
    with pytest.raises(ValueError, match="`position` must be one of"):
        base.extend([partner], position="middle")  # type: ignore[arg-type]


def test_bad_rules_raise_clear_errors():
    with pytest.raises(ValueError, match="condition `op` must be one of"):
        ChannelRules.from_yaml("rules:\n  - channel: X\n    when: {medium: {like: cpc}}")
    with pytest.raises(ValueError, match="condition `field` must be one of"):
        ChannelRules.from_yaml("rules:\n  - channel: X\n    when: {utm_medium: cpc}")
    with pytest.raises(ValueError, match="unknown channel rules key"):
        ChannelRules.from_yaml("rulez: []")
    with pytest.raises(clk.errors.DataContractError, match="`classify` needs column"):
        classify(pl.DataFrame({"source": ["x"]}))


def test_source_categories_are_the_shipped_csv(shared_fixtures):
    shipped = load_source_categories()
    original = pl.read_csv(shared_fixtures / "dbt-ga4" / "seeds" / "ga4_source_categories.csv")
    assert shipped.height == original.height == 819
    assert set(shipped["source_category"].unique()) == {
        "SOURCE_CATEGORY_SEARCH",
        "SOURCE_CATEGORY_SOCIAL",
        "SOURCE_CATEGORY_SHOPPING",
        "SOURCE_CATEGORY_VIDEO",
    }


def test_custom_source_categories():
    rules = ChannelRules.ga4_default()
    from dataclasses import replace

    custom = replace(rules, source_categories={"ecosia": "SOURCE_CATEGORY_SEARCH"})
    t = pl.DataFrame({"source": ["ecosia", "google"], "medium": ["cpc", "cpc"]})
    assert classify(t, rules=custom)["channel"].to_list() == ["Paid Search", "Paid Other"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([c[0] for c in GA4_CASES] + [None]),
            st.sampled_from([c[1] for c in GA4_CASES] + [None]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_eager_and_lazy_agree_and_order_is_kept(rows):
    t = pl.DataFrame(
        {"source": [r[0] for r in rows], "medium": [r[1] for r in rows]},
        schema={"source": pl.String, "medium": pl.String},
    )
    eager = classify(t)
    lazy = classify(t.lazy()).collect()
    assert eager.equals(lazy)
    assert eager.select("source", "medium").equals(t)
    assert eager["channel"].null_count() == 0
    # each row is classified on its own: reversing the rows reverses the channels
    rev = classify(t.reverse())
    assert rev["channel"].to_list() == eager["channel"].to_list()[::-1]


def test_rules_on_click_id_values_and_category_template():
    rules = ChannelRules.from_yaml(
        """
extends: ga4_default
rules:
  - channel: Paid Search
    subchannel: "{source_category}"
    when: {click_id: {starts_with: "Cj0"}}
"""
    )
    t = pl.DataFrame(
        {
            "source": ["google", "google", None],
            "medium": ["organic", "organic", None],
            "click_id": ["Cj0KCQ", "xyz", None],
        },
        schema={"source": pl.String, "medium": pl.String, "click_id": pl.String},
    )
    got = classify(t, rules=rules)
    assert got["channel"].to_list() == ["Paid Search", "Organic Search", "Direct"]
    assert got["subchannel"].to_list()[0] == "SOURCE_CATEGORY_SEARCH"


def test_offline_touch_finds_its_campaign_by_name():
    t = pl.DataFrame(
        {
            "source": [None],
            "medium": [None],
            "touch_type": ["campaign_response"],
            "campaign_id": [None],
            "campaign_name": ["Partner Program - APAC"],
        },
        schema={
            c: pl.String for c in ["source", "medium", "touch_type", "campaign_id", "campaign_name"]
        },
    )
    campaigns = pl.DataFrame(
        {"campaign_id": ["sf:701x"], "type": ["Partner"], "name": ["partner program - apac"]}
    )
    got = classify(t, campaigns=campaigns)
    assert got["channel"].to_list() == ["Partner"]
    assert classify(t)["channel"].to_list() == ["Campaign"]


def test_campaign_names_match_as_everywhere_else():
    """``norm_name``: spellings of one name match; a name two types share matches none."""
    cols = ["source", "medium", "touch_type", "campaign_id", "campaign_name"]
    t = pl.DataFrame(
        {
            "source": [None, None],
            "medium": [None, None],
            "touch_type": ["campaign_response", "event"],
            "campaign_id": [None, None],
            "campaign_name": ["partner_program_apac", "Summit 2026"],
        },
        schema=dict.fromkeys(cols, pl.String),
    )
    campaigns = pl.DataFrame(
        {
            "campaign_id": ["sf:701x", "sf:701y", "sf:701z"],
            "type": ["Partner", "Trade Show", "Webinar"],
            "name": ["Partner Program - APAC", "Summit-2026", "summit 2026"],
        }
    )
    got = classify(t, campaigns=campaigns)
    # the second touch's name is two campaigns of different types: its own type decides
    assert got["channel"].to_list() == ["Partner", "Event"]
