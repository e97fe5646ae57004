"""make_b2b: determinism, canonical validity, and consistency of the returned truth."""

from __future__ import annotations

import polars as pl
import pytest

from closedloop_kit.datasets import ConversionTruth, load_sample, make_b2b
from closedloop_kit.schema import TABLES, validate
from closedloop_kit.schema.keys import is_valid_salesforce_id


@pytest.fixture(scope="module")
def world():  # the default-size company: 400 accounts, 24 months (< 1 s)
    return make_b2b(seed=3)


@pytest.fixture(scope="module")
def small():
    return make_b2b(seed=11, accounts=40, months=6)


def test_same_seed_same_tables(small):
    again = make_b2b(seed=11, accounts=40, months=6)
    for name in TABLES:
        assert small.data.frame(name).equals(again.data.frame(name)), name
    assert small.truth.journeys.equals(again.truth.journeys)
    assert small.truth.identity.equals(again.truth.identity)


def test_other_seed_other_tables(small):
    other = make_b2b(seed=12, accounts=40, months=6)
    assert not small.data.frame("people").equals(other.data.frame("people"))


def test_every_table_validates_without_rejects(world):
    for name in TABLES:
        df = world.data.frame(name)
        assert df.height > 0, name
        result = validate(df, name)
        assert result.n_rejected == 0, (name, result.rejected.head(3).to_dicts())
        assert list(df.columns) == list(TABLES[name].columns), name


def test_ids_have_the_right_prefixes(world):
    d = world.data
    people = d.frame("people")
    expect = {("salesforce", "lead"): "00Q", ("salesforce", "contact"): "003"}
    for (system, kind), prefix in expect.items():
        ids = people.filter((pl.col("source_system") == system) & (pl.col("person_type") == kind))[
            "person_id"
        ]
        assert ids.str.starts_with(f"sf:{prefix}").all()
        assert all(is_valid_salesforce_id(x[3:]) and len(x) == 21 for x in ids)
    hs = people.filter(pl.col("source_system") == "hubspot")["person_id"]
    assert hs.str.contains(r"^hs:\d+$").all()
    for table, col, prefix in [
        ("accounts", "account_id", "001"),
        ("opportunities", "opportunity_id", "006"),
        ("campaigns", "campaign_id", "701"),
    ]:
        ids = d.frame(table).filter(pl.col("source_system") == "salesforce")[col]
        assert ids.str.starts_with(f"sf:{prefix}").all(), table
    assert d.frame("touchpoints")["anonymous_id"].drop_nulls().str.starts_with("ga4:").all()
    assert set(d.frame("spend")["platform"]) == {"google_ads", "linkedin_ads"}
    assert set(d.frame("spend")["currency"]) == {"USD", "EUR"}


def test_references_resolve(world):
    d = world.data
    people = set(d.frame("people")["person_id"])
    accounts = set(d.frame("accounts")["account_id"])
    opps = set(d.frame("opportunities")["opportunity_id"])
    assert set(d.frame("opportunity_contacts")["person_id"]) <= people
    assert set(d.frame("opportunity_contacts")["opportunity_id"]) <= opps
    assert set(d.frame("opportunities")["account_id"]) <= accounts
    conv = d.frame("people").filter(pl.col("is_converted"))
    assert conv.height > 0
    assert set(conv["converted_contact_id"].drop_nulls()) <= people
    assert set(conv["converted_opportunity_id"].drop_nulls()) <= opps
    assert set(d.frame("campaign_members")["person_id"]) <= people
    tp = d.frame("touchpoints")["person_id"].drop_nulls()
    assert set(tp) <= people


def test_lineage_rows_are_unique_per_file(world):
    # identity_links excepted: one GA4 event can carry two identifiers (e-mail and user id)
    for name in [t for t in TABLES if t != "identity_links"]:
        df = world.data.frame(name)
        dup = df.group_by("source_file", "source_row").len().filter(pl.col("len") > 1)
        assert dup.height == 0, (name, dup.head())


def test_true_shares_recomputed_from_journeys(world):
    t = world.truth
    recomputed = ConversionTruth(world.params.baseline, dict(world.params.effects)).true_shares(
        t.journeys
    )
    given = t.true_shares()
    assert recomputed["channel"].to_list() == given["channel"].to_list()
    assert (recomputed["share"] - given["share"]).abs().max() < 1e-12  # type: ignore[operator]
    shares = dict(zip(recomputed["channel"], recomputed["share"], strict=True))
    assert abs(sum(shares.values()) - 1) < 1e-12
    assert abs(shares["Direct"]) < 1e-12
    assert abs(shares["Display"]) < 1e-12
    assert shares["Webinar"] > 0.05


def test_decisions_follow_the_truth(world):
    # the realised sales-ready rate matches the mean true probability of decided journeys
    h = world.truth.humans.filter(pl.col("decided"))
    rate, p = h["sales_ready"].mean(), h["p_true"].mean()
    n = h.height
    assert abs(rate - p) < 4 * (p * (1 - p) / n) ** 0.5  # type: ignore[operator]
    # journeys' `converted` is the sales-ready outcome of the same people
    conv = world.truth.journeys.group_by("journey_id").agg(pl.col("converted").first())
    joined = conv.join(
        h.select(pl.col("true_person_key").alias("journey_id"), "sales_ready"), on="journey_id"
    )
    assert joined.height == conv.height
    assert (joined["converted"] == joined["sales_ready"]).all()


def test_more_effective_channels_convert_more(world):
    # a person whose journey contains Webinar converts more often than one with only Direct
    j = world.truth.journeys
    per = j.group_by("journey_id").agg(
        pl.col("channel").is_in(["Webinar"]).any().alias("webinar"),
        (pl.col("channel") == "Direct").all().alias("only_direct"),
        pl.col("converted").first(),
    )
    web = per.filter(pl.col("webinar"))["converted"].mean()
    direct = per.filter(pl.col("only_direct"))["converted"].mean()
    assert web > direct  # type: ignore[operator]


def test_funnel_counts_never_rise(world):
    counts = world.truth.stage_counts["count"].to_list()
    assert counts == sorted(counts, reverse=True)
    assert world.truth.stage_counts["stage"].to_list() == [
        "lead", "mql", "sales_ready", "opportunity", "won",
    ]  # fmt: skip
    rates = world.truth.stage_conversion["rate"].drop_nulls()
    assert ((rates >= 0) & (rates <= 1)).all()


def test_cycle_length_and_censoring(world):
    cyc = world.truth.cycle.row(0, named=True)
    assert 90 <= cyc["median_days_lead_to_close"] <= 180  # 3-6 months
    assert cyc["open_at_end"] > 0
    opps = world.data.frame("opportunities")
    assert opps.filter(~pl.col("is_closed")).height == cyc["open_at_end"]
    assert opps["is_won"].sum() == world.truth.stage_counts["count"][-1]


def test_no_opportunity_closes_decades_out(tmp_path):
    """A long lognormal tail would give close dates past the loaders' plausible range
    (today + 10 years), which a CRM never holds and ``clk.load`` refuses: the simulator
    caps a deal at five years, so the written exports keep every opportunity. Without
    the cap, this company's exports lost opportunities to "outside the plausible dates".
    """
    from closedloop_kit import load
    from closedloop_kit.datasets.sample import write_exports

    world = make_b2b(
        5, accounts=40, months=6, start="2024-01-01",
        opportunity_days_median=2000.0, opportunity_days_sigma=1.0,
    )  # fmt: skip
    opps = world.data.frame("opportunities")
    days = (opps["close_date"] - opps["created_at"].dt.date()).dt.total_days()
    assert 0 < days.max() <= 5 * 365 + 100  # an open deal's date drifts a few weeks
    write_exports(world, tmp_path)
    data = load(tmp_path, progress=False)
    implausible = data.rejected.filter(pl.col("reason").str.contains("plausible dates"))
    assert implausible.height == 0
    assert data.frame("opportunities").height == opps.height


def test_segments_add_up(world):
    seg = world.truth.segments
    spend = world.data.frame("spend")
    assert seg.height == 9
    assert abs(seg["ad_spend_corporate"].sum() - spend["cost_corporate"].sum()) < 0.05
    assert seg["sales_ready"].sum() == world.truth.stage_counts["count"][2]
    total = seg["ad_spend_corporate"] + seg["program_cost_corporate"]
    assert ((seg["spend_corporate"] - total).abs() < 0.02).all()
    ok = seg.filter(pl.col("sales_ready") > 0)
    cpl = ok["spend_corporate"] / ok["sales_ready"]
    assert ((ok["cost_per_sales_ready"] - cpl).abs() < 0.01).all()


def test_identity_truth_covers_every_record_and_has_duplicates(world):
    people = world.data.frame("people")
    ident = world.truth.identity
    assert ident.height == people.height
    assert set(ident["person_id"]) == set(people["person_id"])
    per_key = ident.group_by("true_person_key").len()
    assert per_key["len"].max() >= 2  # type: ignore[operator]
    # case-variant duplicate emails of one human
    emails = (
        people.join(ident, on="person_id")
        .group_by("true_person_key")
        .agg(
            pl.col("email").n_unique().alias("variants"),
            pl.col("email_normalized").n_unique().alias("normalized"),
        )
    )
    assert emails.filter((pl.col("variants") > 1) & (pl.col("normalized") == 1)).height > 0
    # one human in both Salesforce and HubSpot
    both = (
        people.join(ident, on="person_id")
        .group_by("true_person_key")
        .agg(pl.col("source_system").n_unique().alias("systems"))
    )
    assert both["systems"].max() == 2
    assert people["is_deleted"].sum() > 0
    assert people.filter(pl.col("merged_into_id").is_not_null()).height > 0


def test_visitor_truth_covers_every_anonymous_id(world):
    anon = set(world.data.frame("touchpoints")["anonymous_id"].drop_nulls())
    vis = world.truth.visitors
    assert anon == set(vis["anonymous_id"])
    assert vis["person_id"].null_count() > 0  # some visitors never identified themselves
    linked = set(world.data.frame("identity_links")["id_value"])
    assert linked <= anon


def test_order_effects_and_custom_effects():
    w = make_b2b(
        seed=2,
        accounts=30,
        months=6,
        effects={"Paid Search": 1.0, "Webinar": 0.0},
        order_effects={("Organic Search", "Paid Search"): 0.5},
    )
    assert w.truth.conversion.order_effects == {("Organic Search", "Paid Search"): 0.5}
    eff = dict(w.truth.channel_effects.iter_rows())
    assert eff == {"Paid Search": 1.0, "Webinar": 0.0}


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="unknown channel"):
        make_b2b(effects={"Carrier Pigeon": 1.0})
    with pytest.raises(ValueError, match="`accounts`"):
        make_b2b(accounts=0)


def test_load_sample_is_small():
    data = load_sample()
    assert 0 < data.frame("people").height < 1000
    assert data.frame("opportunities").height > 0
    assert data.corporate_currency == "USD"
