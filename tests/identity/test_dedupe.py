"""De-duplication on tiny inline frames with the expected clusters spelled out."""

from __future__ import annotations

import polars as pl
import pytest

from closedloop_kit.config import IdentityRules
from closedloop_kit.identity import dedupe


def clusters(res) -> dict[str, str]:
    return dict(res.people.select("person_id", "golden_person_id").iter_rows())


def test_default_rules_give_the_expected_clusters(people, links):
    res = dedupe(people, identity_links=links)
    assert clusters(res) == {
        # lead → contact (conversion), Pardot prospect → lead (crm id): the contact wins
        "sf:00QL1": "sf:003C1",
        "sf:003C1": "sf:003C1",
        "pardot:11": "sf:003C1",
        # merged HubSpot contact → the survivor
        "hs:51": "hs:52",
        "hs:52": "hs:52",
        # plus-addressing is not stripped by default
        "hs:60": "hs:60",
        "hs:61": "hs:61",
        # same name, different company domain: never merged
        "sf:00QL2": "sf:00QL2",
    }
    assert res.n_people == 8
    assert res.n_golden == 5
    assert res.pairs.rows() == [
        ("pardot:11", "sf:00QL1", "crm_id"),
        ("sf:003C1", "sf:00QL1", "email"),
        ("sf:003C1", "sf:00QL1", "lead_conversion"),
        ("hs:51", "hs:52", "merge"),
    ]
    # 8 records; lead conversion merges 1 pair (7), crm id 1 more (6), email nothing new
    # (the same pair), merge 1 more (5)
    assert res.by_rule.select("rule", "pairs", "people_after").rows() == [
        ("(input records)", 0, 8),
        ("lead_conversion", 1, 7),
        ("crm_id", 1, 6),
        ("email", 1, 6),
        ("merge", 1, 5),
    ]
    acme = res.clusters.filter(pl.col("golden_person_id") == "sf:003C1").row(0, named=True)
    assert acme["size"] == 3
    assert acme["members"] == ["pardot:11", "sf:003C1", "sf:00QL1"]
    assert acme["rules"] == ["crm_id", "email", "lead_conversion"]


def test_plus_addressing_and_gmail_dots_are_opt_in(people):
    res = dedupe(people, rules=IdentityRules(strip_plus_addressing=True))
    got = clusters(res)
    # both contacts; hs:61 is older (Jan 3 vs Jan 7) so it is the golden record
    assert got["hs:60"] == got["hs:61"] == "hs:61"
    assert ("hs:60", "hs:61", "email_plus") in res.pairs.rows()
    dots = pl.DataFrame({"person_id": ["a", "b"], "email": ["j.doe@gmail.com", "jdoe@gmail.com"]})
    assert dedupe(dots).n_golden == 2
    merged = dedupe(dots, rules=IdentityRules(strip_gmail_dots=True))
    assert merged.n_golden == 1
    assert merged.pairs["rule"].to_list() == ["email_gmail_dots"]


def test_rules_can_be_switched_off(people, links):
    res = dedupe(
        people,
        identity_links=links,
        rules=IdentityRules(lead_conversion=False, email=False, crm_id=False),
    )
    got = clusters(res)
    assert got["sf:00QL1"] == "sf:00QL1"
    assert got["hs:51"] == "hs:52"
    assert res.n_golden == 7


def test_merge_into_a_record_not_exported_still_joins_siblings():
    # a and b were both merged into x, which is not in the export
    p = pl.DataFrame(
        {
            "person_id": ["hs:a", "hs:b", "hs:c"],
            "merged_into_id": ["hs:x", "hs:x", None],
        }
    )
    got = clusters(dedupe(p))
    assert got == {"hs:a": "hs:a", "hs:b": "hs:a", "hs:c": "hs:c"}


def test_golden_prefers_live_unmerged_contact_then_oldest():
    import datetime as dt

    t = [dt.datetime(2024, m, 1, tzinfo=dt.UTC) for m in (1, 2, 3, 4)]
    p = pl.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4"],
            "email": ["x@y.com"] * 4,
            "person_type": ["lead", "contact", "contact", "contact"],
            "is_deleted": [False, True, False, False],
            "created_at": t,
        }
    )
    # p2 is deleted, p1 is a lead; of the live contacts p3 is older than p4
    assert set(dedupe(p).people["golden_person_id"]) == {"p3"}


def test_missing_person_id_is_a_contract_error():
    from closedloop_kit.errors import DataContractError

    with pytest.raises(DataContractError, match="`dedupe` needs column"):
        dedupe(pl.DataFrame({"email": ["a@b.c"]}))


def test_repr_and_html(people):
    res = dedupe(people)
    assert "DedupeResult" in repr(res)
    assert "person records" in res._repr_html_()
    assert res.summary().height == 5
