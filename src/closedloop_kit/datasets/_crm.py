"""The sales side of the simulated company: users with roles, activities and line items.

Drawn from a second random stream (``default_rng([seed, 2613])``) after everything else,
so the marketing world (people, touches, deals) is the same with or without it.

* ``users``: per division two SDRs, three AEs, a partner manager and a sales director
  (the manager of the others), plus a marketing integration user and a marketing
  manager. Salesforce holds North America, EMEA and marketing; the APAC unit's HubSpot
  portal holds APAC and marketing as owners.
* ``activities``: a human becomes sales-ready when a meeting is set up with them: at
  ``sales_ready_at`` an SDR's call connects and a meeting (Salesforce Event, HubSpot
  meeting) is booked with the person, owned by their AE, held 2–10 days later. Before
  that SDRs call and e-mail MQLs (no answer, voicemail, connected without a meeting);
  disqualified people get a last call ("Not interested"); sales-created leads get the
  SDR calls the world already had as ``sales_activity`` touches (same ids); every
  opportunity gets 1–3 follow-up meetings (demo, proposal) with its primary contact,
  who is already sales-ready. No one else ever has a meeting, so "had a meeting set up"
  is exactly "sales-ready" in the truth.
* ``products`` / ``opportunity_products``: three products per product line (Cloud
  licence, Onboarding, Premium Support; Product2.Family = the product line); each
  deal's line items sum exactly to its amount, in its currency.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from closedloop_kit.datasets import _company as co
from closedloop_kit.schema import empty_table

if TYPE_CHECKING:
    from closedloop_kit.datasets._assemble import _Asm

__all__ = ["crm_tables", "extend_users", "human_of", "user_names"]

SALES_ROLES = ("SDR", "AE", "Partner Manager", "Sales Director")
PRODUCTS = (("Cloud", "CLD"), ("Onboarding", "ONB"), ("Premium Support", "SUP"))
_ONBOARDING = {"Analytics": 4000.0, "Automation": 5000.0, "Platform": 9000.0}
_CREATED = dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.UTC)
"""When the sample's users and products were created (before the simulated period)."""
_NO_MEETING = ("No answer", "Left voicemail", "Connected")
_NO_MEETING_P = (0.45, 0.35, 0.20)


def extend_users(users: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Add partner managers, sales directors and a marketing manager; roles and managers.

    Columns added: ``role_name`` (the Salesforce role / HubSpot role), ``manager_key``
    (row index of the manager, -1 for none) and ``system`` (``salesforce``, ``hubspot``
    or ``both`` for marketing users, who work in both).
    """
    extra = [{"division": d, "role": "Partner Manager", "n": 0} for d in co.DIVISIONS]
    extra += [{"division": d, "role": "Sales Director", "n": 0} for d in co.DIVISIONS]
    extra.append({"division": "", "role": "Marketing", "n": 1})
    new = pl.DataFrame(extra)
    sf = ["sf:" + x for x in co.sf_ids(rng, "005", new.height, pod="1u")]
    hs = [f"hs:{x}" for x in co.numeric_ids(rng, new.height, 32_000_000, 900)]
    new = new.with_columns(pl.Series("sf_user_id", sf), pl.Series("hs_owner_id", hs))
    out = pl.concat([users, new], how="vertical_relaxed").with_row_index("i")
    director = {
        r["division"]: int(r["i"])
        for r in out.filter(pl.col("role") == "Sales Director").iter_rows(named=True)
    }
    mkt_manager = int(out.filter((pl.col("role") == "Marketing") & (pl.col("n") == 1))["i"][0])
    managers = [
        director[d]
        if role in ("SDR", "AE", "Partner Manager")
        else (mkt_manager if role == "Marketing" and n == 0 else -1)
        for d, role, n in zip(out["division"], out["role"], out["n"], strict=True)
    ]
    role_name = [
        role if not d else f"{d} Sales" if role == "Sales Director" else f"{d} {role}"
        for d, role in zip(out["division"], out["role"], strict=True)
    ]
    system = [
        "both" if not d else "hubspot" if d == "APAC" else "salesforce" for d in out["division"]
    ]
    return out.drop("i").with_columns(
        pl.Series("role_name", role_name, dtype=pl.String),
        pl.Series("manager_key", managers, dtype=pl.Int64),
        pl.Series("system", system, dtype=pl.String),
    )


def user_names(users: pl.DataFrame) -> list[str]:
    """Display name of each user row (the marketing integration user is not a person)."""
    first = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery")
    last = ("Reed", "Patel", "Klein", "Okafor", "Lindqvist", "Moreno", "Sato", "Walsh")
    return [
        "Marketing Integration"
        if role == "Marketing" and n == 0
        else f"{first[i % len(first)]} {last[(i * 3) % len(last)]}"
        for i, (role, n) in enumerate(zip(users["role"], users["n"], strict=True))
    ]


def human_of(a: _Asm) -> dict[str, int]:
    """CRM person key → simulated human (leads, contacts, HubSpot contacts)."""
    return {
        **{v: k for k, v in a.hs_id.items()},
        **{v: k for k, v in a.contact_id.items()},
        **{v: k for k, v in a.lead_id.items()},
    }


class _Crm:
    """Builds the sales-side tables from an assembled world (see the module docstring)."""

    def __init__(self, a: _Asm) -> None:
        self.a = a
        self.rng = a.rng2
        self.T = a.T
        self.users = a.users
        self.rows: list[dict[str, Any]] = []
        self.conv_t = {
            int(k): float(v)
            for k, v in zip(a.h["h"], a.h["conv_t"], strict=True)
            if v is not None and not np.isnan(v)
        }

    # ------------------------------------------------------------------ helpers
    def stamp(self, t: float) -> dt.datetime:
        """Day offset → UTC datetime (whole seconds, as every export writes)."""
        start = dt.datetime.combine(self.a.cal.start, dt.time(), dt.UTC)
        return start + dt.timedelta(seconds=int(np.floor(t * 86400.0)))

    def record_at(self, hh: int, t: float) -> str | None:
        """The CRM record of human ``hh`` at day ``t``.

        The lead until converted, then the contact (Salesforce), or the HubSpot contact.
        """
        a = self.a
        if hh in a.hs_id:
            return str(a.hs_id[hh])
        conv = self.conv_t.get(hh)
        if hh in a.contact_id and (hh not in a.lead_id or (conv is not None and conv <= t)):
            return str(a.contact_id[hh])
        lead = a.lead_id.get(hh)
        return None if lead is None else str(lead)

    def add(self, **row: Any) -> None:
        self.rows.append(row)

    # ------------------------------------------------------------------ activities
    def meetings(self, h: pl.DataFrame) -> pl.DataFrame:
        """The meeting that makes each sales-ready human sales-ready (and its booking call)."""
        rng, truth = self.rng, []
        sr = h.filter(pl.col("sr_t").is_not_null() & (pl.col("sr_t") < self.T)).sort(
            "sr_t", "h", maintain_order=True
        )
        for r in sr.iter_rows(named=True):
            hh, t = int(r["h"]), float(r["sr_t"])
            who = self.record_at(hh, t)
            if who is None:
                msg = f"sales-ready human {r['true_person_key']} has no CRM record"
                raise AssertionError(msg)
            hs = who.startswith("hs:")
            sdr, ae = (r["hs_sdr"], r["hs_owner"]) if hs else (r["sdr_id"], r["ae_id"])
            self.add(
                kind="call",
                t=t - 0.01,
                who=who,
                hh=hh,
                owner=sdr,
                outcome="Connected",
                subject="Call",
                acct=r["account_id"],
                opp=None,
                dur=int(rng.integers(240, 900)),
            )
            day = np.floor(t) + float(rng.integers(2, 11))
            start = day + float(rng.choice([9.0, 10.0, 11.0, 14.0, 15.0, 16.0])) / 24.0
            minutes = int(rng.choice([30, 45, 60]))
            i = len(self.rows)
            self.add(
                kind="meeting",
                t=start,
                booked=t,
                who=who,
                hh=hh,
                owner=ae,
                subject=f"Intro meeting: {r['name']}",
                acct=r["account_id"],
                opp=None,
                dur=minutes * 60,
                outcome=None,
            )
            truth.append((r["true_person_key"], who, i, t, start))
        return pl.DataFrame(
            truth,
            schema={
                "true_person_key": pl.String,
                "person_id": pl.String,
                "row": pl.Int64,
                "t": pl.Float64,
                "start": pl.Float64,
            },
            orient="row",
        )

    def prospecting(self, h: pl.DataFrame) -> None:
        """SDR calls and e-mails to MQLs before the decision; the disqualifying call."""
        rng, T = self.rng, self.T
        mql = h.filter(pl.col("mql_t").is_not_null() & (pl.col("mql_t") < T)).sort(
            "mql_t", "h", maintain_order=True
        )
        for r in mql.iter_rows(named=True):
            hh, t0 = int(r["h"]), float(r["mql_t"])
            end = min(x for x in (r["sr_t"], r["dq_t"], T) if x is not None and not np.isnan(x))
            calls = 1 + int(rng.poisson(1.2))
            mails = int(rng.poisson(1.0))
            times = t0 + np.cumsum(rng.exponential(3.0, calls + mails))
            kinds = rng.permutation(["call"] * calls + ["email"] * mails)
            for k, t in zip(kinds, times, strict=True):
                if t >= end - 0.02:
                    break
                who = self.record_at(hh, float(t))
                if who is None:
                    continue
                owner = r["hs_sdr"] if who.startswith("hs:") else r["sdr_id"]
                if k == "call":
                    outcome = str(rng.choice(_NO_MEETING, p=_NO_MEETING_P))
                    dur = (
                        int(rng.integers(20, 60))
                        if outcome != "Connected"
                        else int(rng.integers(120, 600))
                    )
                    self.add(
                        kind="call",
                        t=float(t),
                        who=who,
                        hh=hh,
                        owner=owner,
                        outcome=outcome,
                        subject="Call",
                        acct=r["account_id"],
                        opp=None,
                        dur=dur,
                    )
                else:
                    self.add(
                        kind="email",
                        t=float(t),
                        who=who,
                        hh=hh,
                        owner=owner,
                        outcome=None,
                        subject=f"Following up: {r['product_line']} at {r['name']}",
                        acct=r["account_id"],
                        opp=None,
                        dur=None,
                    )
        dq = h.filter(pl.col("dq_t").is_not_null() & (pl.col("dq_t") < T)).sort(
            "dq_t", "h", maintain_order=True
        )
        for r in dq.iter_rows(named=True):
            hh, t = int(r["h"]), float(r["dq_t"])
            who = self.record_at(hh, t)
            if who is None:
                continue
            owner = r["hs_sdr"] if who.startswith("hs:") else r["sdr_id"]
            self.add(
                kind="call",
                t=t,
                who=who,
                hh=hh,
                owner=owner,
                outcome="Not interested",
                subject="Call",
                acct=r["account_id"],
                opp=None,
                dur=int(rng.integers(60, 300)),
            )

    def sales_calls(self, touches: pl.DataFrame, h: pl.DataFrame) -> None:
        """The SDR calls on sales-created leads (``sales_activity`` touches), same ids."""
        rng = self.rng
        calls = touches.filter(pl.col("touch_type") == "sales_activity").sort(
            "touchpoint_id", maintain_order=True
        )
        owner = dict(zip(h["h"].to_list(), h["sdr_id"].to_list(), strict=True))
        human = human_of(self.a)
        for r in calls.iter_rows(named=True):
            hh = human.get(r["person_id"])
            outcome = str(rng.choice(_NO_MEETING, p=_NO_MEETING_P))
            self.add(
                kind="call",
                t=None,
                at=r["occurred_at"],
                who=r["person_id"],
                hh=hh,
                owner=owner.get(hh) if hh is not None else None,
                outcome=outcome,
                subject="Call",
                acct=None,
                opp=None,
                dur=int(rng.integers(20, 600)),
                id=r["touchpoint_id"],
            )

    def follow_ups(self, opps: pl.DataFrame, primary: dict[str, int]) -> None:
        """1–3 meetings (demo, proposal review) per opportunity with its primary contact."""
        rng, T = self.rng, self.T
        start_s = self.a.cal.start_us  # (seconds since the epoch, despite the name)
        for r in opps.sort("opportunity_id", maintain_order=True).iter_rows(named=True):
            hh = primary.get(r["opportunity_id"])
            if hh is None:
                continue
            created = (r["created_at"].timestamp() - start_s) / 86400.0
            end = min(created + 120.0, T)
            n = 1 + int(rng.integers(0, 3))
            for k, t in enumerate(np.sort(rng.uniform(created + 1, created + 60, n))):
                if t >= end:
                    break
                who = self.record_at(hh, float(t))
                if who is None:
                    continue
                subject = ("Demo", "Proposal review", "Commercial discussion")[k]
                self.add(
                    kind="meeting",
                    t=float(np.floor(t) + 14 / 24),
                    booked=float(t) - 3,
                    who=who,
                    hh=hh,
                    owner=r["owner_id"],
                    opp=r["opportunity_id"],
                    subject=f"{subject}: {r['name']}",
                    acct=r["account_id"],
                    dur=3600,
                    outcome=None,
                )


def _activity_frame(crm: _Crm, T: float) -> pl.DataFrame:
    """The collected rows as canonical ``activities`` (ids per system, as loaded)."""
    rows = crm.rows
    if not rows:
        return empty_table("activities")
    hs_rows = [i for i, r in enumerate(rows) if str(r["who"]).startswith("hs:")]
    sf_task = [
        i
        for i, r in enumerate(rows)
        if not str(r["who"]).startswith("hs:") and r["kind"] != "meeting" and "id" not in r
    ]
    sf_event = [
        i
        for i, r in enumerate(rows)
        if not str(r["who"]).startswith("hs:") and r["kind"] == "meeting"
    ]
    ids: dict[int, str] = {}
    for idx, key in zip(sf_task, co.sf_ids(crm.rng, "00T", len(sf_task), pod="5h"), strict=True):
        ids[idx] = f"sf:{key}"
    for idx, key in zip(sf_event, co.sf_ids(crm.rng, "00U", len(sf_event)), strict=True):
        ids[idx] = f"sf:{key}"
    nums = co.numeric_ids(crm.rng, len(hs_rows), 20_000_000_000, 9000)
    for idx, num in zip(hs_rows, nums, strict=True):
        ids[idx] = f"hs:{num}"
    out = []
    for i, r in enumerate(rows):
        hs = str(r["who"]).startswith("hs:")
        at = r.get("at") or crm.stamp(r["t"])
        booked = crm.stamp(r["booked"]) if r.get("booked") is not None else at
        if hs:  # the HubSpot UI export writes minutes
            at, booked = at.replace(second=0), booked.replace(second=0)
        meeting = r["kind"] == "meeting"
        who = str(r["who"])
        lead = who.startswith("sf:00Q")
        out.append(
            {
                "activity_id": r.get("id") or ids[i],
                "type": r["kind"],
                "subtype": None if hs else ("Event" if meeting else r["kind"].title()),
                "subject": r["subject"],
                "status": None if hs or meeting else "Completed",
                "outcome": (
                    ("Completed" if r["t"] < T else "Scheduled") if hs and meeting else r["outcome"]
                ),
                "direction": "Outbound" if r["kind"] == "call" else None,
                "owner_id": r["owner"],
                "person_id": who,
                "account_id": None if lead else r["acct"],
                "opportunity_id": None if lead else r["opp"],
                "occurred_at": at,
                "created_at": booked,
                "duration_seconds": r["dur"],
                "is_deleted": False,
                "source_system": "hubspot" if hs else "salesforce",
                "source_id": (r.get("id") or ids[i]).split(":", 1)[1],
                "source_file": (
                    ("hubspot/meetings.csv" if meeting else f"hubspot/{r['kind']}s.csv")
                    if hs
                    else ("salesforce/Event.csv" if meeting else "salesforce/Task.csv")
                ),
            }
        )
    frame = pl.DataFrame(out, infer_schema_length=None).with_columns(
        pl.col("occurred_at", "created_at").cast(pl.Datetime("us", "UTC")),
        pl.col("duration_seconds").cast(pl.Int64),
    )
    order = pl.when(pl.col("source_system") == "hubspot").then(
        pl.col("source_id").cast(pl.Int64, strict=False)
    )
    return frame.with_columns(
        (
            pl.struct(order.alias("n"), pl.col("source_id"))
            .rank("ordinal")
            .over("source_file")
            .cast(pl.Int64)
            + 1
        ).alias("source_row")
    )


def role_hierarchy(seed: int) -> dict[str, tuple[str, str | None]]:
    """Salesforce roles: name → (``sf:`` role key, parent role name).

    CEO > "<division> Sales" > "<division> SDR/AE/Partner Manager"; Marketing sits right
    under the CEO. Only the Salesforce divisions (North America, EMEA) have roles.
    """
    parent: dict[str, str | None] = {"CEO": None, "Marketing": "CEO"}
    for d in ("North America", "EMEA"):
        parent[f"{d} Sales"] = "CEO"
        for role in ("SDR", "AE", "Partner Manager"):
            parent[f"{d} {role}"] = f"{d} Sales"
    rng = np.random.default_rng([seed, 2614])
    ids = co.sf_ids(rng, "00E", len(parent), pod="1t")
    return {n: (f"sf:{i}", p) for (n, p), i in zip(parent.items(), ids, strict=True)}


def _users_frame(users: pl.DataFrame, names: list[str], seed: int) -> pl.DataFrame:
    """Canonical ``users``: Salesforce users and HubSpot owners (marketing in both)."""
    roles = {n: key for n, (key, _) in role_hierarchy(seed).items()}
    rows = []
    for i, r in enumerate(users.iter_rows(named=True)):
        first, _, last = names[i].partition(" ")
        for system in ("salesforce", "hubspot"):
            if r["system"] not in (system, "both"):
                continue
            key = r["sf_user_id"] if system == "salesforce" else r["hs_owner_id"]
            m = r["manager_key"]
            manager = users.row(m, named=True) if m >= 0 else None
            rows.append(
                {
                    "user_id": key,
                    "name": names[i],
                    "first_name": first,
                    "last_name": last,
                    "email": f"{first.lower()}.{last.lower()}@northstar.example".replace(" ", ""),
                    "title": None
                    if system == "hubspot"
                    else r["role"]
                    if r["role"] != "Marketing"
                    else ("Marketing Manager" if r["n"] else "Integration User"),
                    "role_id": roles[r["role_name"]] if system == "salesforce" else None,
                    "role": r["role_name"] if system == "salesforce" else r["role"],
                    "team": (
                        ("Marketing" if not r["division"] else f"{r['division']} Sales")
                        if system == "hubspot"
                        else None
                    ),
                    "sales_division": r["division"] or None,
                    "manager_id": (
                        manager["sf_user_id"]
                        if manager is not None and system == "salesforce"
                        else None
                    ),
                    "user_type": "Standard" if system == "salesforce" else "PERSON",
                    "is_partner": False if system == "salesforce" else None,
                    "is_active": True,
                    "created_at": _CREATED + dt.timedelta(days=i)
                    if system == "salesforce"
                    else None,
                    "is_deleted": False,
                    "source_system": system,
                    "source_id": key.split(":", 1)[1],
                    "source_file": "salesforce/User.csv"
                    if system == "salesforce"
                    else "hubspot/owners.csv",
                }
            )
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(
        (pl.col("source_id").rank("ordinal").over("source_file").cast(pl.Int64) + 1).alias(
            "source_row"
        )
    )


def _products(crm: _Crm) -> pl.DataFrame:
    """Canonical ``products``: three per product line in each CRM."""
    rng = crm.rng
    n = len(co.PRODUCT_LINES) * len(PRODUCTS)
    sf = co.sf_ids(rng, "01t", n)
    hs = co.numeric_ids(rng, n, 1_500_000_000, 3000)
    rows = []
    k = 0
    for line in co.PRODUCT_LINES:
        for name, code in PRODUCTS:
            for system in ("salesforce", "hubspot"):
                key = f"sf:{sf[k]}" if system == "salesforce" else f"hs:{hs[k]}"
                rows.append(
                    {
                        "product_id": key,
                        "name": f"Northstar {line} {name}",
                        "product_code": f"{line[:3].upper()}-{code}",
                        "family": line,
                        "description": f"{name} for Northstar {line}",
                        "list_price": None
                        if system == "salesforce"
                        else (_ONBOARDING[line] if name == "Onboarding" else None),
                        "currency": "USD" if system == "hubspot" and name == "Onboarding" else None,
                        "is_active": True if system == "salesforce" else None,
                        "created_at": _CREATED,
                        "is_deleted": False,
                        "source_system": system,
                        "source_id": key.split(":", 1)[1],
                        "source_file": "salesforce/Product2.csv"
                        if system == "salesforce"
                        else "hubspot/products.csv",
                    }
                )
            k += 1
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(
        (pl.col("source_id").rank("ordinal").over("source_file").cast(pl.Int64) + 1).alias(
            "source_row"
        )
    )


def _line_items(crm: _Crm, opps: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """Canonical ``opportunity_products``: lines summing to each deal's amount."""
    rng = crm.rng
    prod = {
        (r["source_system"], r["family"], r["name"].rsplit(" ", 1)[-1]): r
        for r in products.iter_rows(named=True)
    }
    rows = []
    for r in opps.sort("opportunity_id", maintain_order=True).iter_rows(named=True):
        if r["amount"] is None or r["amount"] <= 0:
            continue
        system, line, amount = r["source_system"], r["product_line"], float(r["amount"])
        lines: list[tuple[str, float]] = []
        if amount > 15_000 and rng.random() < 0.6:
            lines.append(("Onboarding", _ONBOARDING[str(line)]))
        if rng.random() < 0.5:
            lines.append(("Support", float(np.round(0.1 * amount, -2))))
        licence = amount - sum(v for _, v in lines)
        lines.insert(0, ("Cloud", licence))
        for name, price in lines:
            p = prod[(system, line, name)]
            rows.append(
                {
                    "opportunity_id": r["opportunity_id"],
                    "product_id": p["product_id"],
                    "name": p["name"],
                    "product_code": p["product_code"],
                    "quantity": 1.0,
                    "unit_price": round(price, 2),
                    "list_price": round(price, 2) if system == "salesforce" else None,
                    "total_amount": round(price, 2),
                    "currency": r["currency"],
                    "service_date": r["close_date"],
                    "created_at": r["created_at"]
                    if system == "salesforce"
                    else r["created_at"].replace(second=0),
                    "rate": r["amount_corporate"] / amount,
                    "source_system": system,
                    "source_file": "salesforce/OpportunityLineItem.csv"
                    if system == "salesforce"
                    else "hubspot/line_items.csv",
                }
            )
    if not rows:
        return empty_table("opportunity_products")
    frame = pl.DataFrame(rows, infer_schema_length=None)
    is_sf = (frame["source_system"] == "salesforce").to_numpy()
    sf = iter(co.sf_ids(rng, "00k", int(is_sf.sum())))
    hs = iter(co.numeric_ids(rng, int((~is_sf).sum()), 7_000_000_000, 700))
    keys = [f"sf:{next(sf)}" if x else f"hs:{next(hs)}" for x in is_sf]
    frame = frame.with_columns(
        pl.Series("line_item_id", keys, dtype=pl.String),
        (pl.col("total_amount") * pl.col("rate")).round(2).alias("total_amount_corporate"),
        pl.lit(False).alias("is_deleted"),
    ).drop("rate")
    frame = frame.with_columns(pl.col("line_item_id").str.split(":").list.get(1).alias("source_id"))
    return frame.with_columns(
        (pl.col("source_id").rank("ordinal").over("source_file").cast(pl.Int64) + 1).alias(
            "source_row"
        )
    )


def crm_tables(
    a: _Asm, tables: dict[str, pl.DataFrame]
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """``users``, ``activities``, ``products``, ``opportunity_products`` and the meetings truth.

    Returns the new tables and ``sales_ready`` truth: one row per sales-ready human with
    the meeting that made them so (``activity_id``, ``person_id`` it is with,
    ``meeting_set_at`` = ``sales_ready_at``, ``meeting_at`` when it is held).
    """
    crm = _Crm(a)
    h = a.h.with_columns(pl.Series("hs_sdr", a.hs_sdr, dtype=pl.String))
    truth = crm.meetings(h)
    crm.prospecting(h)
    crm.sales_calls(tables["touchpoints"], h)
    oc = tables["opportunity_contacts"].filter(pl.col("is_primary"))
    humans = human_of(a)
    primary = {
        o: humans[p]
        for o, p in zip(oc["opportunity_id"], oc["person_id"], strict=True)
        if p in humans
    }
    crm.follow_ups(tables["opportunities"], primary)
    activities = _activity_frame(crm, a.T)
    names = user_names(a.users)
    products = _products(crm)
    items = _line_items(crm, tables["opportunities"], products)
    ids = activities["activity_id"].to_list()
    utc = pl.Datetime("us", "UTC")
    sales_ready = truth.select(
        "true_person_key",
        "person_id",
        pl.Series("activity_id", [ids[i] for i in truth["row"]], dtype=pl.String),
        pl.Series("meeting_set_at", [crm.stamp(t) for t in truth["t"]], dtype=utc),
        pl.Series("meeting_at", [crm.stamp(t) for t in truth["start"]], dtype=utc),
    )
    hs_meeting = sales_ready["person_id"].str.starts_with("hs:")
    sales_ready = sales_ready.with_columns(
        pl.when(pl.lit(hs_meeting)).then(pl.col(c).dt.truncate("1m")).otherwise(pl.col(c)).alias(c)
        for c in ("meeting_set_at", "meeting_at")
    ).sort("true_person_key", maintain_order=True)
    out = {
        "users": _users_frame(a.users, names, a.s.p.seed),
        "activities": activities,
        "products": products,
        "opportunity_products": items,
    }
    return out, sales_ready
