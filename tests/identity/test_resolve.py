"""resolve(): visitor stitching, account linking, links table and report on inline frames."""

from __future__ import annotations

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.config import IdentityRules
from closedloop_kit.identity import ResolveResult, resolve
from closedloop_kit.schema import TABLES, validate


@pytest.fixture
def result(data) -> ResolveResult:
    return resolve(data)


def test_people_get_golden_ids_and_accounts(result):
    p = result.data.frame("people")
    got = {r[0]: r[1:] for r in p.select("person_id", "golden_person_id", "account_id").rows()}
    assert got == {
        "sf:00QL1": ("sf:003C1", "sf:001A"),  # converted account
        "sf:003C1": ("sf:003C1", "sf:001A"),  # explicit
        "pardot:11": ("sf:003C1", "sf:001A"),  # same person as the contact
        "hs:51": ("hs:52", "sf:001B"),  # email domain beta.io
        "hs:52": ("hs:52", "sf:001B"),
        "hs:60": ("hs:60", "sf:001D"),  # gmail (free) → company name "Delta Corp."
        "hs:61": ("hs:61", None),  # gmail, no company
        "sf:00QL2": ("sf:00QL2", None),  # "Gamma GmbH" matches no account
    }
    # input row order and columns are kept, golden_person_id added
    assert p["person_id"].to_list() == result.data.frame("people")["person_id"].to_list()
    assert "golden_person_id" in p.columns


def test_account_links_record_rule_and_score(result):
    links = result.data.frame("identity_links").filter(pl.col("linked_id_type") == "account_id")
    got = {r[0]: r[1:] for r in links.select("id_value", "rule", "confidence").rows()}
    assert got == {
        "sf:00QL1": ("account_conversion", 1.0),
        "sf:003C1": ("account_explicit", 1.0),
        "pardot:11": ("account_cluster", 0.95),
        "hs:51": ("account_domain", 0.9),
        "hs:52": ("account_domain", 0.9),
        "hs:60": ("account_name", 1.0),  # exact after removing "Corp." / "Corporation"
    }
    nm = result.report.name_matches
    assert nm.rows() == [("hs:60", "Delta Corp.", "sf:001D", "Delta Corporation", 100.0)]


def test_touchpoints_get_person_and_account(result):
    t = result.data.frame("touchpoints")
    got = {r[0]: r[1:] for r in t.select("touchpoint_id", "person_id", "account_id").rows()}
    assert got == {
        "t1": ("sf:003C1", "sf:001A"),  # ga4:v1 → email ann@acme.com
        "t2": ("sf:003C1", "sf:001A"),
        "t3": ("sf:003C1", "sf:001A"),  # form fill by the lead → golden contact
        "t4": ("sf:003C1", "sf:001A"),  # ga4:v9 identified by that form fill
        "t5": ("hs:60", "sf:001D"),  # ga4:v3 → user u-77 → crm id hs:60
        "t6": (None, None),  # never identified
        "t7": ("hs:52", "sf:001B"),  # merged contact → survivor
        "t8": ("hs:60", "sf:001D"),
        "t9": ("sf:003C1", "sf:001A"),
    }
    assert t.columns[: len(TABLES["touchpoints"].columns)] != []


def test_visitor_links_in_identity_links(result):
    links = result.data.frame("identity_links")
    vis = links.filter(pl.col("rule").str.starts_with("visitor_")).sort("id_type", "id_value")
    assert vis.select("id_type", "id_value", "person_id", "rule").rows() == [
        ("anonymous_id", "ga4:v1", "sf:003C1", "visitor_email"),
        ("anonymous_id", "ga4:v2", "hs:52", "visitor_email"),  # sha256 of bob.b@beta.io
        ("anonymous_id", "ga4:v3", "hs:60", "visitor_user_id"),
        ("anonymous_id", "ga4:v9", "sf:003C1", "visitor_person"),
        ("user_id", "u-77", "hs:60", "visitor_person"),
    ]
    # evidence rows are kept with their own rule; they name no person, so they stay so
    # (filling them would be new evidence on a second run)
    ev = links.filter(pl.col("rule") == "pardot_crm_lead_fid")
    assert ev["person_id"].to_list() == [None]
    # person merges are recorded one row per pair and rule
    merges = links.filter(pl.col("linked_id_type") == "person_id", pl.col("id_type") == "person_id")
    assert sorted(merges["rule"].to_list()) == ["crm_id", "email", "lead_conversion", "merge"]


def test_evidence_naming_a_person_gets_the_golden_person(data):
    links = data.frame("identity_links").with_columns(
        pl.when(pl.col("rule") == "pardot_crm_lead_fid")
        .then(pl.lit("sf:00QL1"))
        .otherwise(pl.col("person_id"))
        .alias("person_id")
    )
    res = resolve(data.with_tables(identity_links=links))
    ev = res.data.frame("identity_links").filter(pl.col("rule") == "pardot_crm_lead_fid")
    assert ev["person_id"].to_list() == ["sf:003C1"]


def test_identity_links_table_is_canonical(result):
    links = result.data.frame("identity_links")
    assert links.columns[: len(TABLES["identity_links"].columns)] == list(
        TABLES["identity_links"].columns
    )
    v = validate(links, "identity_links")
    assert v.n_rejected == 0, v.rejected
    people = validate(result.data.frame("people"), "people")
    assert people.n_input == 8


def test_report_numbers(result):
    r = result.report
    assert (r.n_records, r.n_people) == (8, 5)
    # 5 web sessions (t1 t2 t4 t5 t6), 4 linked
    assert (r.n_sessions, r.sessions_linked) == (5, 4)
    assert r.session_link_rate == pytest.approx(0.8)
    # golden persons with an account: Ann, Bob, Carol(hs:60) of 5
    assert r.account_link_rate == pytest.approx(3 / 5)
    # anonymous ids seen on touches: v1 v9 v3 v4 → 3 linked
    assert (r.n_visitors, r.visitors_linked, r.visitor_conflicts) == (4, 3, 0)
    s = r.summary()
    assert s.filter(pl.col("metric") == "people after de-duplication")["value"].item() == 5
    assert "Loop-closure rate" in r._repr_html_()
    assert "loop-closure rate" in repr(r)
    assert result.summary().equals(s)
    assert result._repr_html_() == r._repr_html_()


def test_loop_closure_known_values(result):
    lc = result.report.loop
    reasons = dict(lc.by_opportunity.select("opportunity_id", "reason").iter_rows())
    assert reasons == {
        "sf:006a": "closed",  # Acme touched in January, closed 1 March
        "sf:006b": "touches_only_after_close",  # Beta's email click on 2 March
        "sf:006c": "closed",  # Delta: session on 6 January (user id u-77)
        "sf:006d": "account_unmatched",  # no account, no contacts
        "sf:006e": "no_person_on_opportunity",  # Epsilon has no people
        "sf:006g": "person_with_no_touches",  # contact hs:61 never touched
    }
    # won revenue 100+200+300+400+500+600 = 2100 (006c falls back to amount 300; 006f is
    # lost); closed 100 + 300 = 400 → 400/2100; 2 of 6 opportunities
    assert lc.revenue_rate == pytest.approx(400 / 2100)
    assert lc.opportunity_rate == pytest.approx(2 / 6)
    assert result.report.loop_closure_rate == lc.revenue_rate
    by = dict(lc.by_reason.select("reason", "revenue").iter_rows())
    assert by == {
        "closed": 400.0,
        "account_unmatched": 400.0,
        "no_person_on_opportunity": 500.0,
        "touches_only_after_close": 200.0,
        "person_with_no_touches": 600.0,
    }
    assert lc.by_reason["revenue_share"].sum() == pytest.approx(1.0)


def test_loop_closure_standalone_matches_report(result):
    d = result.data
    lc = clk.identity.loop_closure(
        d.opportunities,
        d.touchpoints,
        people=d.people,
        opportunity_contacts=d.opportunity_contacts,
        accounts=d.accounts,
    )
    assert lc.by_reason.equals(result.report.loop.by_reason)


def test_input_data_is_unchanged(data):
    before = data.frame("people").clone()
    resolve(data)
    assert data.frame("people").equals(before)
    assert "golden_person_id" not in data.frame("people").columns


def test_shared_computer_goes_to_latest_person(data):
    import datetime as dt

    t = data.frame("touchpoints")
    extra = t.filter(pl.col("touchpoint_id") == "t3").with_columns(
        pl.lit("t10").alias("touchpoint_id"),
        pl.lit("hs:52").alias("person_id"),
        pl.lit(dt.datetime(2025, 1, 20, tzinfo=dt.UTC)).alias("occurred_at"),
    )
    res = resolve(data.with_tables(touchpoints=pl.concat([t, extra])))
    # ga4:v9 was identified as Ann (3 Jan) and later as Bob (20 Jan): Bob wins
    got = dict(res.data.frame("touchpoints").select("touchpoint_id", "person_id").iter_rows())
    assert got["t4"] == "hs:52"
    assert res.report.visitor_conflicts == 1


def test_stitching_off(data):
    res = resolve(data, rules=IdentityRules(stitch_visitors=False))
    assert res.report.sessions_linked == 0


def test_free_mail_domain_never_matches_an_account(data):
    acc = data.frame("accounts")
    gmail = pl.DataFrame({"account_id": ["sf:001G"], "name": ["Google"], "domain": ["gmail.com"]})
    res = resolve(data.with_tables(accounts=pl.concat([acc, gmail], how="diagonal_relaxed")))
    p = dict(res.data.frame("people").select("person_id", "account_id").iter_rows())
    assert p["hs:61"] is None


def test_name_match_refused_when_corporate_domains_differ():
    people = pl.DataFrame(
        {
            "person_id": ["p1", "p2"],
            "email": ["a@acme-consulting.com", "b@gmail.com"],
            "company_name": ["Acme", "Acme"],
        }
    )
    accounts = pl.DataFrame({"account_id": ["a1"], "name": ["ACME Inc"], "domain": ["acme.com"]})
    res = resolve(clk.store.ClosedLoopData({"people": people, "accounts": accounts}))
    got = dict(res.data.frame("people").select("person_id", "account_id").iter_rows())
    # p1's corporate domain is not Acme's domain: not linked by name; p2 uses gmail: linked
    assert got == {"p1": None, "p2": "a1"}


def test_fuzzy_name_threshold_and_score():
    people = pl.DataFrame({"person_id": ["p1"], "company_name": ["Globex Systems Corp"]})
    accounts = pl.DataFrame({"account_id": ["a1"], "name": ["Globex System"], "domain": [None]})
    data = clk.store.ClosedLoopData({"people": people, "accounts": accounts})
    res = resolve(data, rules=IdentityRules(name_threshold=90))
    score = res.report.name_matches["score"].item()
    assert 90 <= score < 100
    strict = resolve(data, rules=IdentityRules(name_threshold=99))
    assert strict.report.name_matches.height == 0


def test_merged_opportunities_point_at_final_survivor():
    opps = pl.DataFrame(
        {
            "opportunity_id": ["hs:1", "hs:2", "hs:3"],
            "merged_into_id": [None, "hs:3", "hs:1"],
            "is_won": [True, True, True],
            "amount": [10.0, 20.0, 30.0],
        }
    )
    res = resolve(clk.store.ClosedLoopData({"opportunities": opps}))
    got = res.data.frame("opportunities")["merged_into_id"].to_list()
    assert got == [None, "hs:1", "hs:1"]
    # only the survivor counts as a won opportunity
    assert res.report.loop.n_won == 1


def test_empty_data_resolves():
    res = resolve(clk.store.ClosedLoopData())
    assert res.report.n_people == 0
    assert res.report.loop.revenue_rate == 0.0


def test_lazy_tables_give_the_same_result(data):
    lazy = clk.store.ClosedLoopData({k: v.lazy() for k, v in data.tables.items()})
    a, b = resolve(data), resolve(lazy)
    for table in ("people", "touchpoints", "identity_links", "opportunities"):
        assert a.data.frame(table).equals(b.data.frame(table)), table
    assert a.report.summary().equals(b.report.summary())
    # lazy touches stay a plan (streamed when sunk), eager ones stay eager
    assert isinstance(b.data["touchpoints"], pl.LazyFrame)
    assert isinstance(a.data["touchpoints"], pl.DataFrame)


def test_lazy_touchpoints_on_the_sample_company():
    """Touches scanned lazily resolve exactly as in memory on a whole company."""
    import warnings

    from closedloop_kit.datasets import load_sample

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clk.errors.DataQualityWarning)
        data = load_sample().collect()
    lazy = data.with_tables(touchpoints=data.lazy("touchpoints"))
    a, b = resolve(data), resolve(lazy)
    assert isinstance(b.data["touchpoints"], pl.LazyFrame)
    assert a.report.n_sessions > 500
    assert a.report.sessions_linked > 0
    for table in ("people", "touchpoints", "identity_links"):
        assert a.data.frame(table).equals(b.data.frame(table)), table
    assert a.report.summary().equals(b.report.summary())
    assert a.report.loop.by_opportunity.equals(b.report.loop.by_opportunity)
    # the report's counts, recounted from the resolved touches themselves
    t = a.data.touchpoints
    sess = t.filter(pl.col("touch_type") == "web_session")
    vis = t.filter(pl.col("anonymous_id").is_not_null())
    assert a.report.n_sessions == sess.height
    assert a.report.sessions_linked == sess["person_id"].is_not_null().sum()
    assert a.report.n_visitors == vis["anonymous_id"].n_unique()
    assert (
        a.report.visitors_linked
        == vis.filter(pl.col("person_id").is_not_null())["anonymous_id"].n_unique()
    )
