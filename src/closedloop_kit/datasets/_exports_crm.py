"""Write the sales side of the sample company: users, activities, products and line items.

Salesforce files are Data Export CSVs (API names, every value quoted): ``UserRole``,
``User``, ``Task``, ``Event``, ``Product2``, ``PricebookEntry``, ``OpportunityLineItem``.
HubSpot files are CRM UI exports (labels, UTF-8 with BOM, owners by name): ``owners``,
``calls``, ``meetings``, ``emails``, ``products``, ``line_items``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from closedloop_kit.datasets import _company as co
from closedloop_kit.datasets._crm import role_hierarchy, user_names
from closedloop_kit.datasets._exports import (
    _b,
    _csv_text,
    _hs_dt,
    _Log,
    _money,
    _raw,
    _Row,
    _sf_date,
    _sf_dt,
    _write,
)

if TYPE_CHECKING:
    from closedloop_kit.datasets._b2b import B2BWorld

__all__ = ["write_crm"]

_LIST_PRICE = {
    "Cloud": {"Analytics": 24000.0, "Automation": 36000.0, "Platform": 80000.0},
    "Onboarding": {"Analytics": 4000.0, "Automation": 5000.0, "Platform": 9000.0},
    "Premium Support": {"Analytics": 2400.0, "Automation": 3600.0, "Platform": 8000.0},
}


def _sorted(df: pl.DataFrame, system: str, *, numeric: bool = False) -> pl.DataFrame:
    out = df.filter(pl.col("source_system") == system)
    return out.sort(
        pl.col("source_id").cast(pl.Int64) if numeric else pl.col("source_id"), maintain_order=True
    )


def _write_sf(path: Path, header: list[str], rows: list[_Row]) -> None:
    _write(path, _csv_text(header, rows, quote_all=True))


def _write_hs(path: Path, header: list[str], rows: list[_Row]) -> None:
    _write(path, "\ufeff" + _csv_text(header, rows, quote_all=False))


# --------------------------------------------------------------------------- Salesforce
def _sf_users(world: B2BWorld, root: Path, log: _Log) -> None:
    hierarchy = role_hierarchy(world.params.seed)
    role_id = {n: _raw(key) for n, (key, _) in hierarchy.items()}
    parent = {n: p for n, (_, p) in hierarchy.items()}
    names = list(hierarchy)
    rows: list[_Row] = []
    for n in sorted(names, key=lambda x: role_id[x]):
        p = parent[n]
        rows.append([role_id[n], n, n.replace(" ", "_"), role_id[p] if p else "", n])
    _write_sf(
        root / "salesforce/UserRole.csv",
        ["Id", "Name", "DeveloperName", "ParentRoleId", "RollupDescription"],
        rows,
    )
    log.add(
        "salesforce/UserRole.csv",
        "utf-8",
        len(rows),
        0,
        len(rows),
        "lookup: names the role of each user (read with User.csv)",
    )
    u = _sorted(world.data.frame("users"), "salesforce")
    header = [
        "Id",
        "Username",
        "LastName",
        "FirstName",
        "Name",
        "Alias",
        "Email",
        "Title",
        "Department",
        "Division",
        "UserRoleId",
        "ManagerId",
        "UserType",
        "IsActive",
        "TimeZoneSidKey",
        "CreatedDate",
    ]
    rows = []
    for r in u.iter_rows(named=True):
        rows.append(
            [
                r["source_id"],
                r["email"],
                r["last_name"],
                r["first_name"],
                r["name"],
                (r["first_name"][:1] + r["last_name"][:4]).lower(),
                r["email"],
                r["title"],
                "",
                r["sales_division"] or "",
                _raw(r["role_id"]),
                _raw(r["manager_id"]),
                r["user_type"],
                _b(r["is_active"]),
                "America/New_York" if r["sales_division"] != "EMEA" else "Europe/Berlin",
                _sf_dt(r["created_at"]),
            ]
        )
    _write_sf(root / "salesforce/User.csv", header, rows)
    log.add(
        "salesforce/User.csv",
        "utf-8",
        len(rows),
        0,
        0,
        "SDRs, AEs, partner managers, sales directors (Division) and marketing users",
    )


def _sf_activities(world: B2BWorld, root: Path, log: _Log) -> None:
    a = world.data.frame("activities")
    tasks = _sorted(a, "salesforce").filter(pl.col("type") != "meeting")
    header = [
        "Id",
        "WhoId",
        "WhatId",
        "AccountId",
        "OwnerId",
        "Subject",
        "ActivityDate",
        "Status",
        "Priority",
        "Type",
        "TaskSubtype",
        "CallType",
        "CallDisposition",
        "CallDurationInSeconds",
        "CompletedDateTime",
        "IsClosed",
        "CreatedDate",
        "IsDeleted",
    ]
    rows: list[_Row] = []
    for r in tasks.iter_rows(named=True):
        call = r["type"] == "call"
        rows.append(
            [
                r["source_id"],
                _raw(r["person_id"]),
                _raw(r["opportunity_id"] or r["account_id"]),
                _raw(r["account_id"]),
                _raw(r["owner_id"]),
                r["subject"],
                _sf_date(r["occurred_at"].date()),
                r["status"],
                "Normal",
                r["subtype"],
                r["subtype"],
                "Outbound" if call else "",
                r["outcome"] or "",
                str(r["duration_seconds"]) if call else "",
                _sf_dt(r["occurred_at"]),
                "true",
                _sf_dt(r["created_at"]),
                "false",
            ]
        )
    _write_sf(root / "salesforce/Task.csv", header, rows)
    log.add(
        "salesforce/Task.csv",
        "utf-8",
        len(rows),
        0,
        0,
        "SDR calls (CallDisposition) and e-mails; WhoId = lead or contact",
    )
    events = _sorted(a, "salesforce").filter(pl.col("type") == "meeting")
    header = [
        "Id",
        "WhoId",
        "WhatId",
        "AccountId",
        "OwnerId",
        "Subject",
        "Type",
        "EventSubtype",
        "ActivityDate",
        "ActivityDateTime",
        "StartDateTime",
        "EndDateTime",
        "DurationInMinutes",
        "IsAllDayEvent",
        "ShowAs",
        "CreatedDate",
        "IsDeleted",
    ]
    rows = []
    for r in events.iter_rows(named=True):
        start = r["occurred_at"]
        end = start + dt.timedelta(seconds=int(r["duration_seconds"]))
        rows.append(
            [
                r["source_id"],
                _raw(r["person_id"]),
                _raw(r["opportunity_id"] or r["account_id"]),
                _raw(r["account_id"]),
                _raw(r["owner_id"]),
                r["subject"],
                "Meeting",
                r["subtype"],
                _sf_date(start.date()),
                _sf_dt(start),
                _sf_dt(start),
                _sf_dt(end),
                str(int(r["duration_seconds"]) // 60),
                "false",
                "Busy",
                _sf_dt(r["created_at"]),
                "false",
            ]
        )
    _write_sf(root / "salesforce/Event.csv", header, rows)
    log.add(
        "salesforce/Event.csv",
        "utf-8",
        len(rows),
        0,
        0,
        "meetings: the first with each person is when they became sales-ready "
        "(CreatedDate = booked); WhatId = opportunity for follow-ups",
    )


def _sf_products(world: B2BWorld, root: Path, log: _Log) -> None:
    rng = np.random.default_rng([world.params.seed, 2615])
    p = _sorted(world.data.frame("products"), "salesforce")
    header = [
        "Id",
        "Name",
        "ProductCode",
        "Description",
        "Family",
        "IsActive",
        "CreatedDate",
        "IsDeleted",
    ]
    rows: list[_Row] = [
        [
            r["source_id"],
            r["name"],
            r["product_code"],
            r["description"],
            r["family"],
            _b(r["is_active"]),
            _sf_dt(r["created_at"]),
            "false",
        ]
        for r in p.iter_rows(named=True)
    ]
    _write_sf(root / "salesforce/Product2.csv", header, rows)
    log.add(
        "salesforce/Product2.csv",
        "utf-8",
        len(rows),
        0,
        0,
        "Family = product line (Analytics, Automation, Platform)",
    )
    # standard price book: one entry per product and currency
    book = co.sf_ids(rng, "01s", 1)[0]
    pairs = [(r, c) for r in p.iter_rows(named=True) for c in ("EUR", "USD")]
    entry_ids = co.sf_ids(rng, "01u", len(pairs))
    entry = {}
    rows = []
    for eid, (r, cur) in zip(entry_ids, pairs, strict=True):
        kind = r["name"].removeprefix(f"Northstar {r['family']} ")
        price = _LIST_PRICE[kind][r["family"]] / (1.08 if cur == "EUR" else 1.0)
        entry[(r["product_id"], cur)] = eid
        rows.append([eid, book, r["source_id"], _money(round(price, -2)), "true", "false", cur])
    _write_sf(
        root / "salesforce/PricebookEntry.csv",
        [
            "Id",
            "Pricebook2Id",
            "Product2Id",
            "UnitPrice",
            "IsActive",
            "UseStandardPrice",
            "CurrencyIsoCode",
        ],
        rows,
    )
    log.add(
        "salesforce/PricebookEntry.csv",
        "utf-8",
        len(rows),
        0,
        len(rows),
        "lookup: the product of each price book entry (read with OpportunityLineItem.csv)",
    )
    li = _sorted(world.data.frame("opportunity_products"), "salesforce")
    header = [
        "Id",
        "OpportunityId",
        "PricebookEntryId",
        "Product2Id",
        "ProductCode",
        "Name",
        "Quantity",
        "UnitPrice",
        "ListPrice",
        "TotalPrice",
        "Discount",
        "ServiceDate",
        "CurrencyIsoCode",
        "CreatedDate",
        "IsDeleted",
    ]
    rows = []
    for r in li.iter_rows(named=True):
        rows.append(
            [
                r["source_id"],
                _raw(r["opportunity_id"]),
                entry[(r["product_id"], r["currency"])],
                _raw(r["product_id"]),
                r["product_code"],
                r["name"],
                f"{r['quantity']:.2f}",
                _money(r["unit_price"]),
                _money(r["list_price"]),
                _money(r["total_amount"]),
                "",
                _sf_date(r["service_date"]),
                r["currency"],
                _sf_dt(r["created_at"]),
                "false",
            ]
        )
    _write_sf(root / "salesforce/OpportunityLineItem.csv", header, rows)
    log.add(
        "salesforce/OpportunityLineItem.csv",
        "utf-8",
        len(rows),
        0,
        0,
        "line items sum to the opportunity Amount, in its currency",
    )


# --------------------------------------------------------------------------- HubSpot
def _hs_owners(world: B2BWorld, root: Path, log: _Log) -> dict[str, str]:
    u = _sorted(world.data.frame("users"), "hubspot", numeric=True)
    header = [
        "Owner ID",
        "First Name",
        "Last Name",
        "Email",
        "Owner type",
        "Primary team",
        "Role",
        "Business unit",
        "Active",
    ]
    rows: list[_Row] = [
        [
            r["source_id"],
            r["first_name"],
            r["last_name"],
            r["email"],
            r["user_type"],
            r["team"],
            r["role"],
            r["sales_division"] or "",
            _b(r["is_active"]),
        ]
        for r in u.iter_rows(named=True)
    ]
    _write_hs(root / "hubspot/owners.csv", header, rows)
    log.add(
        "hubspot/owners.csv",
        "utf-8-sig",
        len(rows),
        0,
        0,
        "owners of the APAC portal (and marketing); other exports name owners by name",
    )
    users = world.internals["users"]
    names = user_names(users)
    return dict(zip(users["hs_owner_id"].to_list(), names, strict=True))


def _hs_activities(world: B2BWorld, root: Path, log: _Log, owner: dict[str, str]) -> None:
    a = _sorted(world.data.frame("activities"), "hubspot", numeric=True)
    assoc = ["Associated Contact IDs", "Associated Company IDs", "Associated Deal IDs"]

    def links(r: dict[str, object]) -> list[str]:
        return [_raw(r["person_id"]), _raw(r["account_id"]), _raw(r["opportunity_id"])]  # type: ignore[arg-type]

    calls = a.filter(pl.col("type") == "call")
    rows: list[_Row] = [
        [
            r["source_id"],
            r["subject"],
            _hs_dt(r["occurred_at"]),
            r["outcome"],
            r["direction"],
            str(int(r["duration_seconds"]) * 1000),
            owner.get(r["owner_id"], ""),
            _hs_dt(r["created_at"]),
            *links(r),
        ]
        for r in calls.iter_rows(named=True)
    ]
    _write_hs(
        root / "hubspot/calls.csv",
        [
            "Record ID",
            "Call Title",
            "Activity date",
            "Call outcome",
            "Call direction",
            "Call duration",
            "Activity assigned to",
            "Create Date",
            *assoc,
        ],
        rows,
    )
    log.add(
        "hubspot/calls.csv",
        "utf-8-sig",
        len(rows),
        0,
        0,
        "Call duration in milliseconds; owner by name",
    )
    meetings = a.filter(pl.col("type") == "meeting")
    rows = []
    for r in meetings.iter_rows(named=True):
        end = r["occurred_at"] + dt.timedelta(seconds=int(r["duration_seconds"]))
        rows.append(
            [
                r["source_id"],
                r["subject"],
                _hs_dt(r["occurred_at"]),
                _hs_dt(end),
                r["outcome"],
                owner.get(r["owner_id"], ""),
                _hs_dt(r["created_at"]),
                *links(r),
            ]
        )
    _write_hs(
        root / "hubspot/meetings.csv",
        [
            "Record ID",
            "Meeting name",
            "Meeting start time",
            "Meeting end time",
            "Meeting outcome",
            "Activity assigned to",
            "Create Date",
            *assoc,
        ],
        rows,
    )
    log.add(
        "hubspot/meetings.csv",
        "utf-8-sig",
        len(rows),
        0,
        0,
        "the first meeting with each contact is when they became sales-ready "
        "(Create Date = booked)",
    )
    emails = a.filter(pl.col("type") == "email")
    rows = [
        [
            r["source_id"],
            r["subject"],
            _hs_dt(r["occurred_at"]),
            owner.get(r["owner_id"], ""),
            _hs_dt(r["created_at"]),
            *links(r),
        ]
        for r in emails.iter_rows(named=True)
    ]
    _write_hs(
        root / "hubspot/emails.csv",
        [
            "Record ID",
            "Email subject",
            "Activity date",
            "Activity assigned to",
            "Create Date",
            *assoc,
        ],
        rows,
    )
    log.add("hubspot/emails.csv", "utf-8-sig", len(rows), 0, 0, "one-to-one sales e-mails")


def _hs_products(world: B2BWorld, root: Path, log: _Log) -> None:
    p = _sorted(world.data.frame("products"), "hubspot", numeric=True)
    rows: list[_Row] = [
        [
            r["source_id"],
            r["name"],
            r["product_code"],
            r["description"],
            _money(r["list_price"]),
            r["family"],
            _hs_dt(r["created_at"]),
        ]
        for r in p.iter_rows(named=True)
    ]
    _write_hs(
        root / "hubspot/products.csv",
        [
            "Record ID",
            "Name",
            "SKU",
            "Product description",
            "Unit price",
            "Product family",
            "Create Date",
        ],
        rows,
    )
    log.add(
        "hubspot/products.csv",
        "utf-8-sig",
        len(rows),
        0,
        0,
        "Product family = product line (a custom property)",
    )
    li = _sorted(world.data.frame("opportunity_products"), "hubspot", numeric=True)
    rows = [
        [
            r["source_id"],
            r["name"],
            _raw(r["product_id"]),
            r["product_code"],
            f"{r['quantity']:.0f}",
            _money(r["unit_price"]),
            _money(r["total_amount"]),
            _sf_date(r["service_date"]),
            _hs_dt(r["created_at"]),
            _raw(r["opportunity_id"]),
        ]
        for r in li.iter_rows(named=True)
    ]
    _write_hs(
        root / "hubspot/line_items.csv",
        [
            "Record ID",
            "Name",
            "Product ID",
            "SKU",
            "Quantity",
            "Unit price",
            "Net price",
            "Billing start date",
            "Create Date",
            "Associated Deal IDs",
        ],
        rows,
    )
    log.add(
        "hubspot/line_items.csv",
        "utf-8-sig",
        len(rows),
        0,
        0,
        "amounts in USD (the portal currency); sum to the deal Amount",
    )


def write_crm(world: B2BWorld, root: Path, log: _Log) -> None:
    """Write the users, activities, products and line items of ``world``."""
    _sf_users(world, root, log)
    _sf_activities(world, root, log)
    _sf_products(world, root, log)
    owner = _hs_owners(world, root, log)
    _hs_activities(world, root, log, owner)
    _hs_products(world, root, log)
