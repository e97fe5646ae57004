"""Small canonical frames for the store tests (people, opportunities, links, touchpoints)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from closedloop_kit.store import ClosedLoopData

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def people(
    ids: list[int], *, email: str = "p", deleted: frozenset[int] = frozenset()
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": [f"hs:{i}" for i in ids],
            "person_type": ["contact"] * len(ids),
            "email": [f"{email}{i}@x.com" for i in ids],
            "status_raw": ["MQL"] * len(ids),
            "is_deleted": [i in deleted for i in ids],
            "merged_into_id": pl.Series([None] * len(ids), dtype=pl.String),
            "created_at": [T0 + dt.timedelta(days=i) for i in ids],
        }
    )


def opportunities(ids: list[int], stage: str = "Qualify") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "opportunity_id": [f"sf:{i}" for i in ids],
            "stage_raw": [stage] * len(ids),
            "amount": [1000.0 * i for i in ids],
            "currency": ["EUR"] * len(ids),
            "is_deleted": [False] * len(ids),
            "merged_into_id": pl.Series([None] * len(ids), dtype=pl.String),
        }
    )


def merge_links(pairs: list[tuple[int, int]]) -> pl.DataFrame:
    """HubSpot contact merges: ``hs:a`` was merged into ``hs:b``."""
    return pl.DataFrame(
        {
            "id_type": ["crm_id"] * len(pairs),
            "id_value": [f"hs:{a}" for a, _ in pairs],
            "linked_id_type": ["crm_id"] * len(pairs),
            "linked_id_value": [f"hs:{b}" for _, b in pairs],
            "rule": ["hubspot_contact_merge_audit"] * len(pairs),
        },
        schema={
            "id_type": pl.String,
            "id_value": pl.String,
            "linked_id_type": pl.String,
            "linked_id_value": pl.String,
            "rule": pl.String,
        },
    )


def touchpoints(n: int, offset: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "touchpoint_id": [f"ga4:{offset + i}" for i in range(n)],
            "person_id": [f"hs:{i % 50}" for i in range(n)],
            "occurred_at": [T0 + dt.timedelta(minutes=i) for i in range(n)],
            "touch_type": ["web_session"] * n,
        }
    )


def load(week: int, *, n_touch: int = 2000) -> ClosedLoopData:
    """The export of one week: people and deals overlap the last week's, touches are new."""
    ids = list(range(week * 5, week * 5 + 20))
    return ClosedLoopData(
        {
            "people": people(ids, email=f"w{week}-"),
            "opportunities": opportunities(ids[:8], stage=f"stage{week}"),
            "touchpoints": touchpoints(n_touch, offset=week * n_touch),
        },
        rejected=pl.DataFrame(
            {
                "table": ["people"],
                "reason": [f"bad row in week {week}"],
                "source_system": ["hubspot"],
                "source_file": [f"week{week}.csv"],
                "source_row": [week + 2],
                "raw": ["{}"],
            }
        ),
        load_report=pl.DataFrame({"path": [f"week{week}.csv"], "rows_read": [21]}),
    )


def snapshot(data: ClosedLoopData) -> dict[str, pl.DataFrame]:
    """Every table, sorted by its first column, for equality checks."""
    return {name: data.frame(name).sort(pl.all()) for name in data}
