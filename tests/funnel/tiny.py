"""A tiny hand-made company whose funnel is worked out by hand in the tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

import closedloop_kit as clk


def t(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, tzinfo=dt.UTC)


def _valid(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    res = clk.validate(frame, table)
    assert res.n_rejected == 0, res.rejected
    assert isinstance(res.valid, pl.DataFrame)
    return res.valid


def tiny_data() -> clk.ClosedLoopData:
    """People L1..L5, contacts C1..C3, deals O1 (won), O2 (lost), O3 (negative amount).

    - L1 lead 1 Jan (Web), converted 20 Jan into contact C1, account A1 and deal O1;
      O1 created 20 Jan, won 20 Apr, 1000 USD.
    - L2 lead 5 Jan (Cold Call), status history Working - Contacted 10 Jan.
    - L3 lead 1 Feb (Partner Referral), Closed - Not Converted 15 Feb.
    - C2 contact 3 Jan (account A2, no lead source; filled a form 3 Jan, Direct) on O2:
      created 1 Feb, lost 1 Mar, 500 EUR = 550 USD.
    - C3 contact 5 Mar on O3 created 10 Mar, open, amount -5 USD (rejected).
    - L4 lead created 1 Mar, status Qualified since 20 Feb (backwards: rejected).
    - L5 lead 2 Jan, status Closed - Converted but IsConverted false (demo-org case).
    """
    accounts = pl.DataFrame(
        {
            "account_id": ["sf:A1", "sf:A2"],
            "name": ["Acme", "Globex"],
            "region": ["EMEA", "AMER"],
            "sales_division": ["Enterprise", "SMB"],
        }
    )
    people = pl.DataFrame(
        {
            "person_id": ["sf:L1", "sf:C1", "sf:L2", "sf:L3", "sf:C2", "sf:C3", "sf:L4", "sf:L5"],
            "person_type": [
                "lead",
                "contact",
                "lead",
                "lead",
                "contact",
                "contact",
                "lead",
                "lead",
            ],
            "created_at": [t(1, 1), t(1, 20), t(1, 5), t(2, 1), t(1, 3), t(3, 5), t(3, 1), t(1, 2)],
            "lead_source": ["Web", None, "Cold Call", "Partner Referral", None, None, "Web", "Web"],
            "status_raw": [
                "Closed - Converted",
                None,
                "Working - Contacted",
                "Closed - Not Converted",
                None,
                None,
                "Qualified",
                "Closed - Converted",
            ],
            "account_id": [None, "sf:A1", None, None, "sf:A2", "sf:A2", None, None],
            "is_converted": [True, False, False, False, False, False, False, False],
            "converted_at": [t(1, 20), None, None, None, None, None, None, None],
            "converted_contact_id": ["sf:C1", None, None, None, None, None, None, None],
            "converted_account_id": ["sf:A1", None, None, None, None, None, None, None],
            "converted_opportunity_id": ["sf:O1", None, None, None, None, None, None, None],
        }
    )
    opps = pl.DataFrame(
        {
            "opportunity_id": ["sf:O1", "sf:O2", "sf:O3"],
            "account_id": ["sf:A1", "sf:A2", "sf:A2"],
            "stage_raw": ["Closed Won", "8-Closed Lost", "Prospecting"],
            "is_closed": [True, True, False],
            "is_won": [True, False, False],
            "amount": [1000.0, 500.0, 5.0],
            "currency": ["USD", "EUR", "USD"],
            "amount_corporate": [1000.0, 550.0, None],
            "created_at": [t(1, 20), t(2, 1), t(3, 10)],
            "closed_at": [t(4, 20), t(3, 1), None],
            "product_line": ["Core", "Core", "Edge"],
        }
    )
    roles = pl.DataFrame(
        {"opportunity_id": ["sf:O1", "sf:O2", "sf:O3"], "person_id": ["sf:C1", "sf:C2", "sf:C3"]}
    )
    history = pl.DataFrame(
        {
            "entity_type": ["person", "person", "person"],
            "entity_id": ["sf:L2", "sf:L3", "sf:L4"],
            "field": ["status", "status", "status"],
            "new_value": ["Working - Contacted", "Closed - Not Converted", "Qualified"],
            "changed_at": [t(1, 10), t(2, 15), t(2, 20)],
        }
    )
    touches = pl.DataFrame(
        {
            "touchpoint_id": ["ga4:1", "ga4:2", "ga4:3"],
            "person_id": ["sf:L1", "sf:C2", "sf:L2"],
            "occurred_at": [t(1, 1), t(1, 3), t(1, 20)],
            "touch_type": ["form_fill", "form_fill", "email_click"],
            "is_marketing": [True, True, True],
            "channel": ["Paid Search", "Direct", "Email"],
        }
    )
    return clk.ClosedLoopData(
        {
            "accounts": _valid(accounts, "accounts"),
            "people": _valid(people, "people"),
            # the canonical schema already rejects negative amounts: break O3 afterwards to
            # test the funnel's own check (data loaded without validation)
            "opportunities": _valid(opps, "opportunities").with_columns(
                pl.when(pl.col("opportunity_id") == "sf:O3")
                .then(-5.0)
                .otherwise(pl.col("amount"))
                .alias("amount")
            ),
            "opportunity_contacts": _valid(roles, "opportunity_contacts"),
            "stage_history": _valid(history, "stage_history"),
            "touchpoints": _valid(touches, "touchpoints"),
        }
    )
