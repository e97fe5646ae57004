"""Journeys from the prepared model: windows, levels, milestones, classification."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.attribution import attribute
from closedloop_kit.schema import empty_table
from closedloop_kit.store import ClosedLoopData


def t(month: int, day: int) -> dt.datetime:
    return dt.datetime(2025, month, day, 12, tzinfo=dt.UTC)


def _table(name: str, rows: list[dict]) -> pl.DataFrame:
    """Rows in the canonical shape of table ``name`` (missing columns null)."""
    template = empty_table(name)
    template = template.collect() if isinstance(template, pl.LazyFrame) else template
    frame = pl.DataFrame(rows)
    return pl.concat([template, frame], how="diagonal_relaxed").select(
        [c for c in template.columns] + [c for c in frame.columns if c not in template.columns]
    )


@pytest.fixture
def data() -> ClosedLoopData:
    touches = [
        # p1 (account a1): two touches before the opportunity, one after
        ("t1", "p1", t(1, 5), "Paid Search", "web_session"),
        ("t2", "p1", t(2, 1), "Webinar", "webinar"),
        ("t3", "p1", t(5, 1), "Email", "email_click"),
        # p2 (account a1, second contact role): same day as t2
        ("t4", "p2", t(2, 1), "Trade Show", "event"),
        # p3 (account a1 but not a contact role)
        ("t5", "p3", t(2, 2), "Display", "ad_click"),
        # p4 (account a2, no opportunity): non-converting; t7 lies outside 180 days
        ("t6", "p4", t(6, 1), "Organic Search", "web_session"),
        ("t7", "p4", dt.datetime(2024, 10, 1, tzinfo=dt.UTC), "Referral", "web_session"),
        # p1b is a duplicate of p1 (golden id p1); its channel is unknown
        ("t8", "p1b", t(1, 20), None, "web_session"),
    ]
    tp = _table(
        "touchpoints",
        [
            {
                "touchpoint_id": i,
                "person_id": p,
                "occurred_at": at,
                "channel": ch,
                "touch_type": kind,
                "is_marketing": True,
                "source": "(direct)" if ch is None else None,
                "medium": "(none)" if ch is None else None,
            }
            for i, p, at, ch, kind in touches
        ],
    )
    people = _table(
        "people",
        [
            {
                "person_id": "p1",
                "account_id": "a1",
                "created_at": t(2, 1),
                "golden_person_id": "p1",
            },
            {
                "person_id": "p1b",
                "account_id": "a1",
                "created_at": t(3, 1),
                "golden_person_id": "p1",
            },
            {
                "person_id": "p2",
                "account_id": "a1",
                "created_at": t(2, 1),
                "golden_person_id": "p2",
            },
            {
                "person_id": "p3",
                "account_id": "a1",
                "created_at": t(2, 2),
                "golden_person_id": "p3",
            },
            {
                "person_id": "p4",
                "account_id": "a2",
                "created_at": t(6, 1),
                "golden_person_id": "p4",
            },
        ],
    )
    opps = _table(
        "opportunities",
        [
            {
                "opportunity_id": "o1",
                "account_id": "a1",
                "created_at": t(3, 1),
                "is_closed": True,
                "is_won": True,
                "amount_corporate": 50_000.0,
                "close_date": dt.date(2025, 4, 1),
                "closed_at": t(4, 1),
            }
        ],
    )
    roles = _table(
        "opportunity_contacts",
        [{"opportunity_id": "o1", "person_id": "p1"}, {"opportunity_id": "o1", "person_id": "p2"}],
    )
    return ClosedLoopData(
        {"touchpoints": tp, "people": people, "opportunities": opps, "opportunity_contacts": roles}
    )


def journeys(data: ClosedLoopData, **kw: object) -> pl.DataFrame:
    return clk.prepare(data, identity=False).journeys(**kw)  # type: ignore[arg-type]


def test_person_level_opportunity_created(data: ClosedLoopData) -> None:
    j = journeys(data, conversion="opportunity", level="person")
    p1 = j.filter(pl.col("journey_id") == "p1")
    # golden id: p1b's touch t8 joins p1's journey; t3 (after the conversion) is excluded
    assert p1["touch_id"].to_list() == ["t1", "t8", "t2"]
    assert p1["converted"].all()
    assert p1["value"].to_list() == [50_000.0] * 3
    # the null channel was classified (GA4 rules: a (direct)/(none) session is Direct)
    assert p1.filter(pl.col("touch_id") == "t8")["channel"].item() == "Direct"
    # milestones: lead created 2/1 → t2 (at that time); opportunity 3/1 → t2 too
    assert p1["is_lead_creation_touch"].to_list() == [False, False, True]
    assert p1["is_opportunity_creation_touch"].to_list() == [False, False, True]
    assert p1["days_to_conversion"].to_list()[-1] == pytest.approx(28.0)
    # p4 did not convert: window ends at the data's end (6/1); t7 is older than 180 days
    p4 = j.filter(pl.col("journey_id") == "p4")
    assert p4["touch_id"].to_list() == ["t6"]
    assert not p4["converted"].any()
    assert p4["value"].to_list() == [0.0]


def test_account_level_roles_and_account(data: ClosedLoopData) -> None:
    j = journeys(data, conversion="won", level="account")
    o1 = j.filter(pl.col("journey_id") == "o1")
    # contact roles p1 (+ duplicate p1b) and p2; same-day touches t2 and t4 kept apart
    assert sorted(o1["touch_id"].to_list()) == ["t1", "t2", "t4", "t8"]
    assert o1["is_closed_won_touch"].sum() == 1
    assert o1["is_opportunity_creation_touch"].sum() == 1
    everyone = journeys(data, conversion="won", level="account", contacts="account")
    assert "t5" in everyone.filter(pl.col("journey_id") == "o1")["touch_id"].to_list()
    # account a2 has no opportunity: a non-converting account journey
    assert not everyone.filter(pl.col("journey_id") == "a2")["converted"].any()
    only = journeys(data, conversion="won", level="account", include_non_converting=False)
    assert set(only["journey_id"]) == {"o1"}
    res = attribute(j, model="w_shaped")
    assert res.credits["credit"].sum() == pytest.approx(1.0)
    assert res.channels["value"].sum() == pytest.approx(50_000.0)


def test_lookback_and_filters(data: ClosedLoopData) -> None:
    short = journeys(data, conversion="opportunity", lookback="30d")
    # conversion 3/1: 30 days back is 1/30, so t8 (1/20) falls out
    assert short.filter(pl.col("journey_id") == "p1")["touch_id"].to_list() == ["t2"]
    webinars = journeys(data, touch_filter=pl.col("touch_type") == "webinar")
    assert webinars["touch_id"].to_list() == ["t2"]
    collapsed = journeys(data, transform="first")
    assert collapsed.group_by("journey_id", "channel").len()["len"].max() == 1


def test_unknown_conversion_is_an_error(data: ClosedLoopData) -> None:
    with pytest.raises(ValueError, match="`conversion` must be one of"):
        journeys(data, conversion="Negotiation")
    with pytest.raises(ValueError, match="`level` must be one of"):
        journeys(data, level="team")  # type: ignore[arg-type]
