"""Turn a finished simulation into canonical tables (loader-shaped keys) and its truth."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from closedloop_kit.datasets import _company as co
from closedloop_kit.datasets._b2b import (
    _HS_PROB,
    _HS_SOURCE,
    _LEAD_SOURCE,
    _MEMBER_STATUS,
    _SF_PROB,
    _STAGE_FRAC,
    _TOUCH_TYPE,
    HS_STAGES,
    SF_STAGES,
    B2BTruth,
    _case_variant,
    _sha256,
)
from closedloop_kit.datasets._crm import crm_tables, extend_users
from closedloop_kit.datasets._web import ga4_events, session_attributes
from closedloop_kit.schema import normalized_email
from closedloop_kit.schema.tables import TABLES

if TYPE_CHECKING:
    from closedloop_kit.datasets._b2b import _Sim
    from closedloop_kit.store import ClosedLoopData

__all__ = ["assemble"]

NAN = float("nan")


def _id_frame(ids: dict[int, str]) -> pl.DataFrame:
    """Human index → CRM key as a typed frame (also when empty)."""
    return pl.DataFrame(
        {"h": list(ids), "entity_id": list(ids.values())},
        schema={"h": pl.Int64, "entity_id": pl.String},
    )


def _canon(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """Cast to the canonical dtypes and order (missing optional columns as nulls)."""
    cols = TABLES[name].columns
    out = []
    for c, dtype in cols.items():
        target: Any = pl.Datetime("us", "UTC") if dtype == pl.Datetime else dtype
        if c in df.columns:
            out.append(pl.col(c).cast(target))
        else:
            out.append(pl.lit(None, dtype=target).alias(c))
    return df.select(out)


def _lin(system: str, file: str, ids: pl.Expr, *, order: pl.Expr | None = None) -> list[pl.Expr]:
    """Lineage columns; ``source_row`` is the 1-based line in ``file`` (header = line 1).

    Rows are written sorted by ``order`` (default: the id).
    """
    o = ids if order is None else order
    return [
        pl.lit(system).alias("source_system"),
        ids.alias("source_id"),
        pl.lit(file).alias("source_file"),
        (o.rank("ordinal").cast(pl.Int64) + 1).alias("source_row"),
    ]


def _lookup(
    expr: pl.Expr, mapping: Mapping[Any, Any], dtype: pl.DataType | type[pl.DataType]
) -> pl.Expr:
    """``expr.replace_strict(mapping)`` typed ``dtype`` even when ``mapping`` is empty.

    A tiny world (one account, one month) can have no lead or no campaign at all; polars
    then keeps the input's integer dtype (even through a cast), which breaks later joins.
    """
    if not mapping:
        return pl.lit(None, dtype=dtype)
    return expr.replace_strict(mapping, return_dtype=dtype)


_OFFLINE = "Offline Sources"
HS_EVENTS_FILE = "hubspot/marketing_event_participations.csv"
"""Where HubSpot people's event and webinar responses are exported (and read from)."""


def _hs_original_source() -> pl.Expr:
    """HubSpot's Original Source of a human's contact (needs ``known``, ``first_channel``).

    The source of the person's first channel once they gave their details, else
    "Offline Sources" (a contact typed in by sales, imported or created through the API).
    """
    first = pl.col("first_channel").replace_strict(
        _HS_SOURCE, default=_OFFLINE, return_dtype=pl.String
    )
    return pl.when(pl.col("known")).then(first.fill_null(_OFFLINE)).otherwise(pl.lit(_OFFLINE))


class _Asm:
    def __init__(self, sim: _Sim) -> None:
        self.s = sim
        self.rng = sim.rng
        self.cal = sim.cal
        self.T = sim.T
        # the sales side (users, activities, line items) draws from its own stream, so
        # the marketing world is the same with or without it
        self.rng2 = np.random.default_rng([sim.p.seed, 2613])
        self.users = extend_users(sim.users, self.rng2)
        self.lead_recorded: set[int] = set()

    def ts(self, col: str) -> pl.Expr:
        return self.s._stamp(pl.col(col))

    # ---------------------------------------------------------------- people
    def people(self) -> None:
        s, rng = self.s, self.rng
        h = s.h
        users = self.users
        pm = {
            d: users.filter((pl.col("division") == d) & (pl.col("role") == "Partner Manager"))
            for d in co.DIVISIONS
        }
        sdr = {
            d: users.filter((pl.col("division") == d) & (pl.col("role") == "SDR"))
            for d in co.DIVISIONS
        }
        ae = {
            d: users.filter((pl.col("division") == d) & (pl.col("role") == "AE"))
            for d in co.DIVISIONS
        }
        first_ch = (
            s.tf.filter(~pl.col("post"))
            .sort("h", "t", maintain_order=True)
            .group_by("h")
            .agg(pl.col("channel").first().alias("first_channel"))
        )
        cap_ch = (
            s.tf.join(h.select("h", "lead_t"), on="h")
            .filter((pl.col("t") - pl.col("lead_t")).abs() < 1e-9)
            .group_by("h")
            .agg(pl.col("channel").first().alias("cap_channel"))
        )
        conv = pl.DataFrame(
            {
                "h": list(s.conv),
                "conv_t": [v[0] for v in s.conv.values()],
                "conv_o": [v[1] for v in s.conv.values()],
            },
            schema={"h": pl.Int64, "conv_t": pl.Float64, "conv_o": pl.Int64},
        )
        ct = pl.DataFrame(
            {"h": list(s.contact_t), "contact_t": list(s.contact_t.values())},
            schema={"h": pl.Int64, "contact_t": pl.Float64},
        )
        h = (
            h.join(first_ch, on="h", how="left", maintain_order="left")
            .join(cap_ch, on="h", how="left", maintain_order="left")
            .join(conv, on="h", how="left", maintain_order="left")
            .join(ct, on="h", how="left", maintain_order="left")
        )
        ls: list[str | None] = []
        for o, cc in zip(h["origin"], h["cap_channel"], strict=True):
            if o == 1:
                ls.append("Outbound" if rng.random() < 0.7 else "Sales Generated")
            elif o == 2:
                ls.append("Partner Referral")
            else:
                ls.append(_LEAD_SOURCE.get(cc or "", "Web") if o == 0 else None)
        h = h.with_columns(pl.Series("lead_source", ls, dtype=pl.String))
        # owners: SDR for leads, AE for contacts/opportunities (per division)
        div = h["sales_division"].to_list()
        pick = rng.integers(0, 6, h.height)
        sdr_id = [sdr[d]["sf_user_id"][int(k) % 2] for d, k in zip(div, pick, strict=True)]
        ae_id = [ae[d]["sf_user_id"][int(k) % 3] for d, k in zip(div, pick, strict=True)]
        hs_owner = [ae[d]["hs_owner_id"][int(k) % 3] for d, k in zip(div, pick, strict=True)]
        # partner-sourced people are owned by the division's partner manager
        partner = (h["origin"] == 2).to_list()
        sdr_id = [
            pm[d]["sf_user_id"][0] if p else x for d, p, x in zip(div, partner, sdr_id, strict=True)
        ]
        hs_person = [
            pm[d]["hs_owner_id"][0] if p else x
            for d, p, x in zip(div, partner, hs_owner, strict=True)
        ]
        self.hs_sdr = [
            pm[d]["hs_owner_id"][0] if p else sdr[d]["hs_owner_id"][int(k) % 2]
            for d, k, p in zip(div, pick, partner, strict=True)
        ]
        h = h.with_columns(
            pl.Series("sdr_id", sdr_id, dtype=pl.String),
            pl.Series("ae_id", ae_id, dtype=pl.String),
            pl.Series("hs_owner", hs_owner, dtype=pl.String),
            pl.Series("hs_person_owner", hs_person, dtype=pl.String),
        )
        self.h = h
        # ids: SF leads in creation order, SF contacts, HubSpot contacts
        sf_leads = h.filter(pl.col("known") & ~pl.col("is_hs")).sort(
            "lead_t", "h", maintain_order=True
        )
        ids = co.sf_ids(rng, "00Q", sf_leads.height)
        self.lead_id = dict(zip(sf_leads["h"].to_list(), ["sf:" + x for x in ids], strict=True))
        sf_con = h.filter(pl.col("contact_t").is_not_null() & ~pl.col("is_hs")).sort(
            "contact_t", "h", maintain_order=True
        )
        ids = co.sf_ids(rng, "003", sf_con.height)
        self.contact_id = dict(zip(sf_con["h"].to_list(), ["sf:" + x for x in ids], strict=True))
        hs = h.filter(pl.col("is_hs") & (pl.col("known") | pl.col("contact_t").is_not_null()))
        hs = hs.with_columns(
            pl.min_horizontal(pl.col("lead_t"), pl.col("contact_t")).alias("hs_t")
        ).sort("hs_t", "h", maintain_order=True)
        nums = co.numeric_ids(rng, hs.height, 1000, 40)
        self.hs_id = dict(zip(hs["h"].to_list(), [f"hs:{x}" for x in nums], strict=True))
        self.hs_t = dict(zip(hs["h"].to_list(), hs["hs_t"].to_list(), strict=True))
        self.main_id = {**self.hs_id, **self.contact_id, **self.lead_id}

    def _lead_events(self) -> pl.DataFrame:
        """Status changes of SF leads: ``h``, ``t``, ``status`` (before the end)."""
        h = self.h.filter(pl.col("known") & ~pl.col("is_hs"))
        T = self.T
        opened = h.select(
            "h", pl.col("lead_t").alias("t"), pl.lit("Open - Not Contacted").alias("v")
        )
        mql = h.select(
            "h",
            pl.col("mql_t").alias("t"),
            pl.when(pl.col("origin") == 0)
            .then(pl.lit("Marketing Qualified"))
            .otherwise(pl.lit("Working - Contacted"))
            .alias("v"),
        )
        sr = h.select("h", pl.col("sr_t").alias("t"), pl.lit("Meeting Set").alias("v"))
        dq = h.select("h", pl.col("dq_t").alias("t"), pl.lit("Closed - Not Converted").alias("v"))
        cv = h.select(
            "h",
            pl.when(pl.col("conv_t").is_not_null())
            .then(pl.max_horizontal(pl.col("conv_t"), pl.col("lead_t") + 0.01))
            .alias("t"),
            pl.lit("Closed - Converted").alias("v"),
        )
        ev = pl.concat([opened, mql, sr, dq, cv], how="vertical_relaxed").filter(
            pl.col("t").is_not_null() & pl.col("t").is_not_nan() & (pl.col("t") < T)
        )
        # nothing happens to a lead after it converted or was closed
        end = (
            ev.filter(pl.col("v").str.starts_with("Closed"))
            .group_by("h")
            .agg(pl.col("t").min().alias("t_end"))
        )
        ev = ev.join(end, on="h", how="left", maintain_order="left").filter(
            pl.col("t_end").is_null() | (pl.col("t") <= pl.col("t_end"))
        )
        # stable: events at the same time keep their order above (a meeting, then the
        # conversion it led to); an unstable sort ordered such ties differently in polars
        # 2.1 and 2.2, and the sample changed with the polars version
        return ev.sort("h", "t", maintain_order=True).unique(
            ["h", "v"], keep="first", maintain_order=True
        )

    def people_table(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """``people``, ``stage_history`` (people part) and identity truth."""
        ev = self._lead_events()
        leads = self._sf_lead_rows(ev)
        contacts = self._sf_contact_rows()
        hsc, hsh, life = self._hs_contact_rows()
        dups = self._duplicates(leads, hsh)
        people = self._with_lineage(pl.concat([leads, contacts, hsc, dups], how="diagonal_relaxed"))
        identity = people.select("person_id", "true_person_key").sort(
            "person_id", maintain_order=True
        )
        sh = self._people_stage_history(ev, life)
        self.lifecycle = life
        return people, sh, identity

    def _sf_lead_rows(self, ev: pl.DataFrame) -> pl.DataFrame:
        """Salesforce leads, with their last status and conversion (``ev``: status events)."""
        h, rng, T = self.h, self.rng, self.T
        last = ev.group_by("h").agg(pl.col("v").last().alias("status_raw"))
        sfl = (
            h.filter(pl.col("known") & ~pl.col("is_hs"))
            .join(last, on="h", how="left", maintain_order="left")
            .with_columns(
                _lookup(pl.col("h"), self.lead_id, pl.String).alias("person_id"),
                (pl.col("conv_t").is_not_null() & (pl.col("conv_t") < T)).alias("is_converted"),
            )
        )
        conv_contact = [
            self.contact_id.get(x) if c else None
            for x, c in zip(sfl["h"], sfl["is_converted"], strict=True)
        ]
        opp_ids = self.opp_id_of
        sfl = sfl.with_columns(
            pl.Series("converted_contact_id", conv_contact, dtype=pl.String),
            pl.when(pl.col("is_converted"))
            .then(pl.col("account_id"))
            .alias("converted_account_id"),
            pl.Series(
                "converted_opportunity_id",
                [
                    opp_ids.get(int(o)) if (c and o is not None) else None
                    for o, c in zip(sfl["conv_o"], sfl["is_converted"], strict=True)
                ],
                dtype=pl.String,
            ),
            pl.when(pl.col("is_converted"))
            .then(pl.max_horizontal(pl.col("conv_t"), pl.col("lead_t") + 0.01))
            .alias("conv_at_t"),
        )
        company_variants = [
            n if rng.random() < 0.8 else n + (" Inc." if rng.random() < 0.5 else " GmbH")
            for n in sfl["name"]
        ]
        leads = sfl.select(
            "person_id",
            pl.lit("lead").alias("person_type"),
            "email",
            "first_name",
            "last_name",
            pl.Series("title", [co.TITLES[i][0] for i in sfl["title"]], dtype=pl.String),
            pl.Series("company_name", company_variants, dtype=pl.String),
            pl.lit(None, pl.String).alias("account_id"),
            "lead_source",
            "status_raw",
            "country",
            "product_line",
            self.ts("lead_t").alias("created_at"),
            "is_converted",
            self.ts("conv_at_t").alias("converted_at"),
            "converted_contact_id",
            "converted_account_id",
            "converted_opportunity_id",
            pl.col("sdr_id").alias("owner_id"),
            pl.lit(False).alias("is_deleted"),
            pl.lit(None, pl.String).alias("merged_into_id"),
            "true_person_key",
            pl.lit("salesforce/Lead.csv").alias("__file"),
        )
        return leads

    def _sf_contact_rows(self) -> pl.DataFrame:
        """Salesforce contacts: converted leads and people sales added to deals."""
        h = self.h
        sfc = h.filter(pl.col("contact_t").is_not_null() & ~pl.col("is_hs"))
        return sfc.select(
            _lookup(pl.col("h"), self.contact_id, pl.String).alias("person_id"),
            pl.lit("contact").alias("person_type"),
            "email",
            "first_name",
            "last_name",
            pl.Series("title", [co.TITLES[i][0] for i in sfc["title"]], dtype=pl.String),
            pl.col("name").alias("company_name"),
            "account_id",
            pl.when(pl.col("known")).then(pl.col("lead_source")).alias("lead_source"),
            pl.lit(None, pl.String).alias("status_raw"),
            "country",
            "product_line",
            self.ts("contact_t").alias("created_at"),
            pl.lit(False).alias("is_converted"),
            pl.col("ae_id").alias("owner_id"),
            pl.lit(False).alias("is_deleted"),
            pl.lit(None, pl.String).alias("merged_into_id"),
            "true_person_key",
            pl.lit("salesforce/Contact.csv").alias("__file"),
        )

    def _hs_contact_rows(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """HubSpot contacts with lifecycle stages; also their humans and lifecycle events."""
        h = self.h
        hsh = h.filter(pl.col("h").is_in(list(self.hs_id)))
        hsh = hsh.with_columns(_lookup(pl.col("h"), self.hs_t, pl.Float64).alias("hs_t"))
        life = self._lifecycle(hsh)
        hlast = life.group_by("h").agg(pl.col("v").last().alias("lifecycle_stage_raw"))
        hsh = hsh.join(hlast, on="h", how="left", maintain_order="left")
        hsc = hsh.select(
            _lookup(pl.col("h"), self.hs_id, pl.String).alias("person_id"),
            pl.lit("contact").alias("person_type"),
            "email",
            "first_name",
            "last_name",
            pl.Series("title", [co.TITLES[i][0] for i in hsh["title"]], dtype=pl.String),
            pl.col("name").alias("company_name"),
            "account_id",
            _hs_original_source().alias("lead_source"),
            "lifecycle_stage_raw",
            "country",
            "product_line",
            self.ts("hs_t").alias("created_at"),
            pl.lit(False).alias("is_converted"),
            pl.col("hs_person_owner").alias("owner_id"),
            pl.lit(False).alias("is_deleted"),
            pl.lit(None, pl.String).alias("merged_into_id"),
            "true_person_key",
            pl.lit("hubspot/contacts.csv").alias("__file"),
        )
        return hsc, hsh, life

    def _with_lineage(self, people: pl.DataFrame) -> pl.DataFrame:
        """Add ``email_normalized`` and the source columns (system, id, file, row)."""
        people = people.with_columns(
            normalized_email(pl.col("email")).alias("email_normalized"),
        )
        parts = []
        for file, grp in people.group_by("__file", maintain_order=True):
            system = "hubspot" if str(file[0]).startswith("hubspot") else "salesforce"
            raw = grp["person_id"].str.split(":").list.get(1)
            parts.append(
                grp.with_columns(
                    pl.lit(system).alias("source_system"),
                    raw.alias("source_id"),
                    pl.lit(file[0]).alias("source_file"),
                    (raw.rank("ordinal").cast(pl.Int64) + 1).alias("source_row"),
                )
            )
        return pl.concat(parts)

    def _people_stage_history(self, ev: pl.DataFrame, life: pl.DataFrame) -> pl.DataFrame:
        """Lead status changes and HubSpot lifecycle stage changes as ``stage_history``."""
        lead_hist = ev.with_columns(
            pl.col("v").shift(1).over("h").alias("old_value"),
        ).join(
            _id_frame(self.lead_id),
            on="h",
        )
        sh_lead = lead_hist.filter(pl.col("old_value").is_not_null()).select(
            pl.lit("person").alias("entity_type"),
            "entity_id",
            pl.lit("status").alias("field"),
            "old_value",
            pl.col("v").alias("new_value"),
            self.ts("t").alias("changed_at"),
            pl.lit("salesforce").alias("source_system"),
            pl.lit("salesforce/LeadHistory.csv").alias("source_file"),
        )
        life_hist = life.with_columns(pl.col("v").shift(1).over("h").alias("old_value")).join(
            _id_frame(self.hs_id), on="h"
        )
        sh_hs = life_hist.select(
            pl.lit("person").alias("entity_type"),
            "entity_id",
            pl.lit("lifecycle_stage").alias("field"),
            "old_value",
            pl.col("v").alias("new_value"),
            self.ts("t").alias("changed_at"),
            pl.lit("hubspot").alias("source_system"),
            pl.lit("hubspot/contacts.csv").alias("source_file"),
        )
        return pl.concat([sh_lead, sh_hs], how="vertical_relaxed")

    def _lifecycle(self, hsh: pl.DataFrame) -> pl.DataFrame:
        T = self.T
        won_t = (
            self.s.committee.join(self.s.opps.select("o", "close", "won"), on="o")
            .filter(pl.col("won"))
            .group_by("h")
            .agg(pl.col("close").min().alias("won_t"))
        )
        opp_t = self.s.committee.group_by("h").agg(pl.col("t").min().alias("opp_t"))
        x = hsh.join(won_t, on="h", how="left", maintain_order="left").join(
            opp_t, on="h", how="left", maintain_order="left"
        )

        def after_creation(col: str) -> pl.Expr:
            # a stage the human never reached stays unreached (max_horizontal would skip
            # the null and stamp it at the record's creation); one reached before the
            # HubSpot record existed is stamped at its creation, as HubSpot does
            t = pl.col(col).fill_nan(None)
            return pl.when(t.is_not_null()).then(pl.max_horizontal(t, "hs_t")).alias("t")

        ev = pl.concat(
            [
                x.select("h", pl.col("hs_t").alias("t"), pl.lit("Lead").alias("v")),
                x.select(
                    "h", after_creation("mql_t"), pl.lit("Marketing Qualified Lead").alias("v")
                ),
                x.select("h", pl.col("sr_t").alias("t"), pl.lit("Sales Qualified Lead").alias("v")),
                x.select("h", after_creation("opp_t"), pl.lit("Opportunity").alias("v")),
                x.select("h", pl.col("won_t").alias("t"), pl.lit("Customer").alias("v")),
            ],
            how="vertical_relaxed",
        )
        ev = ev.filter(pl.col("t").is_not_null() & pl.col("t").is_not_nan() & (pl.col("t") < T))
        order = {"Lead": 0, "Marketing Qualified Lead": 1, "Sales Qualified Lead": 2,
                 "Opportunity": 3, "Customer": 4}  # fmt: skip
        ev = ev.with_columns(_lookup(pl.col("v"), order, pl.Int64).alias("rank"))
        ev = ev.sort("h", "t", "rank", maintain_order=True)
        # lifecycle stages only move forward in HubSpot
        ev = ev.filter(pl.col("rank") > pl.col("rank").shift(1).over("h").fill_null(-1))
        ev = ev.filter(pl.col("rank") >= pl.col("rank").cum_max().over("h"))
        return ev.drop("rank")

    def _duplicates(self, leads: pl.DataFrame, hsh: pl.DataFrame) -> pl.DataFrame:
        """Planted dirt: duplicate SF leads, SF leads for HubSpot people, junk test leads."""
        rng, T, p = self.rng, self.T, self.s.p
        pick = rng.random(leads.height) < p.duplicate_rate
        src = leads.filter(pl.Series(pick)).with_columns(
            (pl.col("created_at") + pl.duration(days=pl.lit(1))).alias("__c")
        )
        lag = rng.uniform(10, 200, src.height)
        created = src["created_at"] + pl.Series(lag * 86400e6).cast(pl.Duration("us"))
        end = pl.select(self.s._stamp(pl.lit(T))).item()
        keep = (created < end).to_numpy()
        src = src.with_columns(pl.Series("created_at", created)).filter(pl.Series(keep))
        merged = rng.random(src.height) < 0.4
        ids = co.sf_ids(rng, "00Q", src.height, pod="8f")
        d1 = src.with_columns(
            pl.Series("person_id", ["sf:" + x for x in ids], dtype=pl.String),
            pl.Series("email", [_case_variant(e) for e in src["email"]], dtype=pl.String),
            pl.lit("Web").alias("lead_source"),
            pl.lit("Open - Not Contacted").alias("status_raw"),
            pl.lit(False).alias("is_converted"),
            pl.lit(None, pl.Datetime("us", "UTC")).alias("converted_at"),
            pl.lit(None, pl.String).alias("converted_contact_id"),
            pl.lit(None, pl.String).alias("converted_account_id"),
            pl.lit(None, pl.String).alias("converted_opportunity_id"),
            pl.Series("is_deleted", merged, dtype=pl.Boolean),
            pl.when(pl.Series(merged)).then(pl.col("person_id")).alias("merged_into_id"),
        ).drop("__c")
        # HubSpot (APAC) people an NA SDR also prospected in Salesforce
        known_hs = hsh.filter(pl.col("known"))
        pick2 = rng.random(known_hs.height) < 0.1
        x = known_hs.filter(pl.Series(pick2))
        lag2 = rng.uniform(5, 120, x.height)
        t2 = x["lead_t"].to_numpy() + lag2
        x = x.with_columns(pl.Series("__t", t2, dtype=pl.Float64)).filter(pl.col("__t") < T)
        ids2 = co.sf_ids(rng, "00Q", x.height, pod="8f")
        self.lead_recorded.update(x["h"].to_list())  # a lead record: see _late_lead
        d2 = x.select(
            pl.Series("person_id", ["sf:" + i for i in ids2], dtype=pl.String),
            pl.lit("lead").alias("person_type"),
            pl.Series(
                "email",
                [e.upper() if rng.random() < 0.3 else _case_variant(e) for e in x["email"]],
                dtype=pl.String,
            ),
            "first_name",
            "last_name",
            pl.col("name").alias("company_name"),
            pl.lit("Outbound").alias("lead_source"),
            # a duplicate typed in for someone already in HubSpot: never worked, so not
            # an MQL (its status must not claim a stage the human did not reach)
            pl.lit("Open - Not Contacted").alias("status_raw"),
            "country",
            self.ts("__t").alias("created_at"),
            pl.lit(False).alias("is_converted"),
            pl.lit(
                self.s.users.filter(pl.col("division") == "North America")["sf_user_id"][0]
            ).alias("owner_id"),
            pl.lit(False).alias("is_deleted"),
            "true_person_key",
            pl.lit("salesforce/Lead.csv").alias("__file"),
        )
        # junk test records, soft-deleted
        nj = max(1, self.s.p.accounts // 100)
        ids3 = co.sf_ids(rng, "00Q", nj, pod="8f")
        d3 = pl.DataFrame(
            {
                "person_id": ["sf:" + i for i in ids3],
                "person_type": ["lead"] * nj,
                "email": [f"test{i}@example.com" for i in range(nj)],
                "first_name": ["Test"] * nj,
                "last_name": ["Test"] * nj,
                "company_name": ["Test Company"] * nj,
                "lead_source": ["Web"] * nj,
                "status_raw": ["Closed - Not Converted"] * nj,
                "is_converted": [False] * nj,
                "is_deleted": [True] * nj,
                "true_person_key": [f"JUNK{i:03d}" for i in range(nj)],
                "__file": ["salesforce/Lead.csv"] * nj,
            }
        ).with_columns(self.s._stamp(pl.lit(pl.Series(rng.uniform(0, T, nj)))).alias("created_at"))
        return pl.concat([d1, d2, d3], how="diagonal_relaxed")

    # ---------------------------------------------------------------- opportunities
    def opportunities(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """``opportunities``, ``opportunity_contacts`` and the opportunities' ``stage_history``."""
        o = self._opportunity_ids()
        hist = self._opportunity_stage_changes(o)
        o = self._opportunity_status(o, hist)
        o = self._opportunity_amounts(o)
        o = self._opportunity_context(o)
        opp = self._opportunity_rows(o)
        sh = self._opportunity_history(o, hist)
        self.opp_frame = o
        oc = self._opportunity_contacts(o)
        return opp, oc, sh

    def _opportunity_ids(self) -> pl.DataFrame:
        """The simulated opportunities with their account and CRM ``opportunity_id``."""
        s, rng = self.s, self.rng
        o = s.opps.join(
            s.acc.select("acct", "account_id", pl.col("name").alias("acct_name")), on="acct"
        )
        is_hs = (o["sales_division"] == "APAC").to_numpy()
        sf_ids = iter(co.sf_ids(rng, "006", int((~is_hs).sum())))
        hs_ids = iter(co.numeric_ids(rng, int(is_hs.sum()), 9_800_000_000, 5000))
        oid = [f"hs:{next(hs_ids)}" if x else f"sf:{next(sf_ids)}" for x in is_hs]
        o = o.with_columns(
            pl.Series("opportunity_id", oid, dtype=pl.String),
            pl.Series("is_hs", is_hs, dtype=pl.Boolean),
        )
        self.opp_id_of = dict(zip(o["o"].to_list(), oid, strict=True))
        return o

    def _opportunity_stage_changes(self, o: pl.DataFrame) -> pl.DataFrame:
        """Every stage change before the end of the period: ``o``, ``t``, ``old``, ``new``."""
        T = self.T
        rows: list[tuple[int, float, str | None, str]] = []
        for r in o.iter_rows(named=True):
            stages = HS_STAGES if r["is_hs"] else SF_STAGES
            dur = r["close"] - r["created"]
            prev: str | None = None
            for i in range(r["reached"]):
                t = r["created"] + _STAGE_FRAC[i] * dur
                rows.append((r["o"], t, prev, stages[i]))
                prev = stages[i]
            rows.append((r["o"], r["close"], prev, "Closed Won" if r["won"] else "Closed Lost"))
        return pl.DataFrame(
            rows,
            schema={"o": pl.Int64, "t": pl.Float64, "old": pl.String, "new": pl.String},
            orient="row",
        ).filter(pl.col("t") < T)

    def _opportunity_status(self, o: pl.DataFrame, hist: pl.DataFrame) -> pl.DataFrame:
        """Add the stage, closed/won flags, probability and close date at the period's end."""
        T = self.T
        cur = (
            hist.sort("o", "t", maintain_order=True)
            .group_by("o")
            .agg(pl.col("new").last().alias("stage_raw"))
        )
        o = (
            o.join(cur, on="o", how="left", maintain_order="left")
            .with_columns(
                (pl.col("close") < T).alias("is_closed"),
            )
            .with_columns((pl.col("is_closed") & pl.col("won")).alias("is_won"))
        )
        prob = []
        for st, hs_ in zip(o["stage_raw"], o["is_hs"], strict=True):
            stages, pr = (HS_STAGES, _HS_PROB) if hs_ else (SF_STAGES, _SF_PROB)
            prob.append(
                1.0 if st == "Closed Won" else 0.0 if st == "Closed Lost" else pr[stages.index(st)]
            )
        expected = np.maximum(o["close"].to_numpy() + o["expected_shift"].to_numpy(), T + 1.0)
        close_day = np.where(o["is_closed"].to_numpy(), o["close"].to_numpy(), expected)
        o = o.with_columns(
            pl.Series("probability_rate", prob, dtype=pl.Float64),
            pl.Series("close_day", close_day, dtype=pl.Float64),
        )
        o = o.with_columns(self.cal.dates(o["close_day"].to_numpy(), "close_date"))
        return o

    def _opportunity_amounts(self, o: pl.DataFrame) -> pl.DataFrame:
        """Add the currency and the corporate amount at the close date's month rate."""
        fx = self.s.fx
        o = o.with_columns(
            pl.when(pl.col("sales_division") == "EMEA")
            .then(pl.lit("EUR"))
            .otherwise(pl.lit("USD"))
            .alias("currency")
        ).with_columns(self._rate(pl.col("close_date"), fx).alias("__rate"))
        o = o.with_columns(
            pl.when(pl.col("currency") == "EUR")
            .then((pl.col("amount") * pl.col("__rate")).round(2))
            .otherwise(pl.col("amount"))
            .alias("amount_corporate")
        )
        return o

    def _opportunity_context(self, o: pl.DataFrame) -> pl.DataFrame:
        """Join each opportunity's primary campaign and its human's sales-ready day."""
        prim = self._primary_campaign(o)
        h_sr = self.h.select("h", "sr_t")
        return o.join(prim, on="o", how="left", maintain_order="left").join(
            h_sr, on="h", how="left", maintain_order="left"
        )

    def _opportunity_rows(self, o: pl.DataFrame) -> pl.DataFrame:
        """The canonical ``opportunities`` table."""
        lead_src = dict(zip(self.h["h"].to_list(), self.h["lead_source"].to_list(), strict=True))
        origin_map = {0: "marketing", 1: "sales", 2: "partner"}
        owners = dict(zip(self.h["h"].to_list(), self.h["ae_id"].to_list(), strict=True))
        hs_owners = dict(zip(self.h["h"].to_list(), self.h["hs_owner"].to_list(), strict=True))
        opp = o.select(
            "opportunity_id",
            "account_id",
            pl.format("{} - {} - {}", "acct_name", "product_line", "type").alias("name"),
            pl.col("type").alias("opportunity_type"),
            "stage_raw",
            pl.when(pl.col("is_hs"))
            .then(pl.lit("Sales Pipeline"))
            .otherwise(pl.lit("Standard"))
            .alias("pipeline"),
            "is_closed",
            "is_won",
            "amount",
            "currency",
            "amount_corporate",
            "probability_rate",
            self.ts("created").alias("created_at"),
            "close_date",
            pl.when(pl.col("is_hs") & pl.col("is_closed"))
            .then(self.ts("close"))
            .alias("closed_at"),
            pl.Series("lead_source", [lead_src[x] for x in o["h"]], dtype=pl.String),
            pl.when(pl.col("is_hs"))
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col("camp_id"))
            .alias("primary_campaign_id"),
            pl.Series("sourced_by", [origin_map[x] for x in o["origin"]], dtype=pl.String),
            "product_line",
            "sales_division",
            pl.Series(
                "owner_id",
                [hs_owners[x] if y else owners[x] for x, y in zip(o["h"], o["is_hs"], strict=True)],
                dtype=pl.String,
            ),
            pl.lit(False).alias("is_deleted"),
            pl.when(pl.col("is_hs"))
            .then(pl.lit("hubspot"))
            .otherwise(pl.lit("salesforce"))
            .alias("source_system"),
            pl.col("opportunity_id").str.split(":").list.get(1).alias("source_id"),
            pl.when(pl.col("is_hs"))
            .then(pl.lit("hubspot/deals.csv"))
            .otherwise(pl.lit("salesforce/Opportunity.csv"))
            .alias("source_file"),
        )
        return opp.with_columns(
            (pl.col("source_id").rank("ordinal").over("source_file").cast(pl.Int64) + 1).alias(
                "source_row"
            )
        )

    def _opportunity_history(self, o: pl.DataFrame, hist: pl.DataFrame) -> pl.DataFrame:
        """The opportunities' ``stage_history`` rows."""
        return hist.join(o.select("o", "opportunity_id", "is_hs"), on="o").select(
            pl.lit("opportunity").alias("entity_type"),
            pl.col("opportunity_id").alias("entity_id"),
            pl.lit("stage").alias("field"),
            pl.col("old").alias("old_value"),
            pl.col("new").alias("new_value"),
            self.ts("t").alias("changed_at"),
            pl.when(pl.col("is_hs"))
            .then(pl.lit("hubspot"))
            .otherwise(pl.lit("salesforce"))
            .alias("source_system"),
            pl.when(pl.col("is_hs"))
            .then(pl.lit("hubspot/deals.csv"))
            .otherwise(pl.lit("salesforce/OpportunityHistory.csv"))
            .alias("source_file"),
        )

    def _opportunity_contacts(self, o: pl.DataFrame) -> pl.DataFrame:
        """``opportunity_contacts``: the buying committees' CRM records."""
        s, rng, T = self.s, self.rng, self.T
        cm = s.committee.join(o.select("o", "opportunity_id", "is_hs"), on="o")
        person = [
            (self.hs_id.get(x) if hs_ else self.contact_id.get(x))
            for x, hs_ in zip(cm["h"], cm["is_hs"], strict=True)
        ]
        oc = cm.with_columns(pl.Series("person_id", person, dtype=pl.String)).filter(
            pl.col("person_id").is_not_null() & (pl.col("t") < T)
        )
        ocr_ids = co.sf_ids(rng, "00K", oc.height)
        return (
            oc.with_columns(pl.Series("__ocr", ocr_ids, dtype=pl.String))
            .select(
                "opportunity_id",
                "person_id",
                pl.when(pl.col("is_hs"))
                .then(pl.lit(None, pl.String))
                .otherwise(pl.col("role"))
                .alias("role"),
                "is_primary",
                pl.when(pl.col("is_hs"))
                .then(pl.lit("hubspot"))
                .otherwise(pl.lit("salesforce"))
                .alias("source_system"),
                pl.when(pl.col("is_hs"))
                .then(
                    pl.concat_str(
                        pl.col("opportunity_id").str.split(":").list.get(1),
                        pl.lit("-"),
                        pl.col("person_id").str.split(":").list.get(1),
                    )
                )
                .otherwise(pl.col("__ocr"))
                .alias("source_id"),
                pl.when(pl.col("is_hs"))
                .then(pl.lit("hubspot/deals.csv"))
                .otherwise(pl.lit("salesforce/OpportunityContactRole.csv"))
                .alias("source_file"),
            )
            .with_columns(
                (pl.col("source_id").rank("ordinal").over("source_file").cast(pl.Int64) + 1).alias(
                    "source_row"
                )
            )
        )

    def _rate(self, date: pl.Expr, fx: pl.DataFrame) -> pl.Expr:
        """USD per EUR of the month containing ``date`` (last/first month beyond the range)."""
        first, last = float(fx["rate"][0]), float(fx["rate"][-1])
        starts = fx["valid_from"]
        expr: pl.Expr = pl.lit(first)
        for d, r in zip(starts, fx["rate"], strict=True):
            expr = pl.when(date >= pl.lit(d)).then(pl.lit(float(r))).otherwise(expr)
        del last
        return expr

    def _primary_campaign(self, o: pl.DataFrame) -> pl.DataFrame:
        tf = self.s.tf.filter(pl.col("camp").is_not_null() & ~pl.col("post"))
        last = (
            tf.join(o.select("o", "h", "created"), on="h")
            .filter(pl.col("t") <= pl.col("created"))
            .sort("t", maintain_order=True)
            .group_by("o")
            .agg(pl.col("camp").last())
        )
        ids = dict(
            zip(self.s.camps["camp"].to_list(), self.s.camps["campaign_id"].to_list(), strict=True)
        )
        return last.with_columns(_lookup(pl.col("camp"), ids, pl.String).alias("camp_id")).select(
            "o", "camp_id"
        )

    # ---------------------------------------------------------------- campaigns, touches
    def campaigns(self) -> pl.DataFrame:
        c = self.s.camps
        end_day = self.T - 1
        return c.select(
            "campaign_id",
            "name",
            "type",
            pl.when(pl.col("end_days") >= end_day)
            .then(pl.lit("In Progress"))
            .otherwise(pl.lit("Completed"))
            .alias("status"),
            self.cal.dates(c["start_days"].to_numpy(), "start_date"),
            self.cal.dates(c["end_days"].to_numpy(), "end_date"),
            "budgeted_cost",
            "actual_cost",
            "currency",
            "channel",
            "product_line",
            "sales_division",
            pl.col("ad_name").alias("utm_campaign"),
            *_lin("salesforce", "salesforce/Campaign.csv", pl.col("campaign_id").str.slice(3)),
        )

    def touches(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """``touchpoints``, ``campaign_members`` and ``identity_links``."""
        rng = self.rng
        tf = self._touch_frame()
        web = tf.filter(pl.col("channel").is_in(co.WEB_CHANNELS)).sort(
            "h", "t", maintain_order=True
        )
        web = self._logged_in_browsers(web)
        web, firsts = self._pseudo_ids(web)
        web = self._form_fills(web)
        web = session_attributes(web, rng, ad_names=pl.Series([], dtype=pl.String))
        events = ga4_events(web, rng)
        self.ga4_events = events
        self.sessions = web
        sessions, forms = self._web_touches(web, events)
        links = self._ga4_links(events)
        self.visitors = self._visitor_truth(firsts)
        off = self._offline_responses(tf)
        # who gave their details through a touch a CRM or GA4 records (a form fill, an
        # event or webinar response of a HubSpot person): see :meth:`_late_lead`
        self.lead_recorded.update(
            web.filter(pl.col("form_ts_us").is_not_null())["h"].to_list()
            + off.filter(pl.col("is_hs") & (pl.col("channel") != "Email"))["h"].to_list()
        )
        members, sf_touch = self._campaign_members(off)
        hs_touch = self._hubspot_events(off)
        call_touch = self._sales_calls()
        crm = pl.concat([sf_touch, hs_touch, call_touch], how="diagonal_relaxed").with_columns(
            (pl.col("source_id").rank("ordinal").over("source_file").cast(pl.Int64) + 1).alias(
                "source_row"
            )
        )
        touches = pl.concat([sessions, forms, crm], how="diagonal_relaxed")
        return touches, members, links

    def _touch_frame(self) -> pl.DataFrame:
        """The simulated touches with their human's attributes and campaign."""
        s, h = self.s, self.h
        tf = s.tf.join(
            h.select("h", "product_line", "known", "lead_t", "origin", "email", "is_hs", "country"),
            on="h",
        ).join(
            s.camps.select("camp", "campaign_id", pl.col("name").alias("camp_name")),
            on="camp",
            how="left",
            maintain_order="left",
        )
        tf = tf.with_columns(pl.col("ad_name").fill_null(pl.col("camp_name")).alias("ad_name"))
        return tf

    def _logged_in_browsers(self, web: pl.DataFrame) -> pl.DataFrame:
        """Add ``user_id`` (logged-in visits) and ``device`` (0 = first browser) to visits."""
        rng = self.rng
        h = self.h
        # sales-ready people get a trial workspace: their later visits are logged in; 40 %
        # of them make those visits (after the first) from a second browser (a phone)
        two = h["h"].filter(pl.Series(rng.random(h.height) < 0.4)).to_list()
        after_sr = (pl.col("sr_t").is_not_nan() & (pl.col("t") > pl.col("sr_t"))).fill_null(False)
        web = (
            web.join(h.select("h", "sr_t"), on="h", how="left", maintain_order="left")
            .with_columns(
                pl.when(after_sr).then(pl.format("nsu-{}", pl.col("h") + 100_000)).alias("user_id"),
                (
                    after_sr
                    & pl.col("h").is_in(two)
                    & (pl.int_range(pl.len()).over("h", after_sr) > 0)
                )
                .cast(pl.Int64)
                .alias("device"),
            )
            .drop("sr_t")
        )
        return web

    def _pseudo_ids(self, web: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Give visits GA4 ids and session ids; also return the first visit of each browser."""
        rng = self.rng
        # one GA4 user_pseudo_id per browser: "<random>.<first visit unix secs>"
        firsts = (
            web.group_by("h", "device")
            .agg(pl.col("t").min().alias("first_t"))
            .sort("h", "device", maintain_order=True)
        )
        fsecs = self.cal.us(firsts["first_t"].to_numpy()) // 1_000_000
        rnd = rng.integers(100_000_000, 2_147_483_647, firsts.height)
        pseudo = [f"{a}.{b}" for a, b in zip(rnd, fsecs, strict=True)]
        firsts = firsts.with_columns(pl.Series("user_pseudo_id", pseudo, dtype=pl.String))
        # a small share of visits land in the same second; nudge to keep session ids unique
        web = (
            web.join(firsts, on=["h", "device"])
            .with_columns(
                (
                    (pl.lit(self.cal.start_us) + (pl.col("t") * 86400.0).floor().cast(pl.Int64))
                    * 1_000_000
                ).alias("ts_us")
            )
            .sort("h", "device", "t", maintain_order=True)
        )
        web = web.with_columns(
            (
                pl.col("ts_us") + pl.int_range(pl.len()).over("user_pseudo_id", "ts_us") * 1_000_000
            ).alias("ts_us")
        ).with_columns(
            (pl.col("ts_us") // 1_000_000).alias("ga_session_id"),
            (pl.int_range(pl.len()).over("user_pseudo_id") + 1).alias("session_number"),
            (pl.int_range(pl.len()).over("user_pseudo_id") == 0).alias("is_first"),
        )
        return web, firsts

    def _form_fills(self, web: pl.DataFrame) -> pl.DataFrame:
        """Add ``form_ts_us`` and ``email_sha256`` to the sessions with a form fill."""
        rng = self.rng
        # form fills: the capture session of web-captured people; half of the others' first
        # post-creation session
        cap = (pl.col("t") - pl.col("lead_t")).abs() < 1e-9
        later = (pl.col("t") > pl.col("lead_t")) & (pl.col("origin") != 0)
        first_later = later & (pl.col("t") == pl.col("t").filter(later).min().over("h"))
        coin = pl.Series(rng.random(web.height) < 0.5)
        form = pl.col("known") & (cap | (first_later & coin)) & (pl.col("channel") != "Email")
        web = web.with_columns(
            pl.when(form)
            .then(pl.col("ts_us") + pl.Series(rng.integers(60, 480, web.height)) * 1_000_000)
            .alias("form_ts_us")
        )
        web = web.with_columns(
            pl.when(pl.col("form_ts_us").is_not_null())
            .then(pl.col("email").map_elements(_sha256, return_dtype=pl.String))
            .alias("email_sha256")
        )
        return web

    def _web_touches(
        self, web: pl.DataFrame, events: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """``web_session`` and ``form_fill`` touchpoints, with their GA4 file and line."""
        line_of = events.filter(pl.col("event_name") == "session_start").select(
            "user_pseudo_id", "ga_session_id", "file", "line"
        )
        form_line = events.filter(pl.col("event_name") == "generate_lead").select(
            "user_pseudo_id",
            "ga_session_id",
            pl.col("file").alias("ffile"),
            pl.col("line").alias("fline"),
        )
        web = web.join(
            line_of, on=["user_pseudo_id", "ga_session_id"], how="left", maintain_order="left"
        ).join(form_line, on=["user_pseudo_id", "ga_session_id"], how="left", maintain_order="left")
        sess_id = pl.concat_str(
            pl.lit("ga4:"), "user_pseudo_id", pl.lit(":"), pl.col("ga_session_id").cast(pl.String)
        )
        ts = pl.col("ts_us").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        common: list[pl.Expr | str] = [
            pl.concat_str(pl.lit("ga4:"), "user_pseudo_id").alias("anonymous_id"),
            pl.lit(True).alias("is_marketing"),
            "channel",
            "source",
            "medium",
            "campaign_name",
            "term",
            "referrer",
            "click_id",
            sess_id.alias("session_id"),
            "landing_page",
            "user_id",
            pl.lit("ga4").alias("source_system"),
        ]
        sessions = web.select(
            sess_id.alias("touchpoint_id"),
            ts.alias("occurred_at"),
            pl.lit("web_session").alias("touch_type"),
            *common,
            pl.concat_str(
                "user_pseudo_id", pl.lit(":"), pl.col("ga_session_id").cast(pl.String)
            ).alias("source_id"),
            pl.col("file").alias("source_file"),
            pl.col("line").alias("source_row"),
        )
        fwe = web.filter(pl.col("form_ts_us").is_not_null())
        forms = fwe.select(
            pl.concat_str(
                sess_id, pl.lit(":generate_lead:"), pl.col("form_ts_us").cast(pl.String)
            ).alias("touchpoint_id"),
            pl.col("form_ts_us")
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
            .alias("occurred_at"),
            pl.lit("form_fill").alias("touch_type"),
            *common,
            pl.concat_str(
                "user_pseudo_id", pl.lit(":"), pl.col("ga_session_id").cast(pl.String)
            ).alias("source_id"),
            pl.col("ffile").alias("source_file"),
            pl.col("fline").alias("source_row"),
        )
        return sessions, forms

    def _ga4_links(self, events: pl.DataFrame) -> pl.DataFrame:
        """``identity_links`` rows GA4 shows: hashed e-mails on forms, logged-in user ids."""
        forms_ev = events.filter(pl.col("event_name") == "generate_lead").select(
            "user_pseudo_id",
            "ts_us",
            "file",
            "line",
            pl.lit("email_sha256").alias("linked_id_type"),
            pl.col("email_sha256").alias("linked_id_value"),
            pl.lit("ga4_generate_lead:hashed_email").alias("rule"),
        )
        uid_ev = events.filter(pl.col("user_id").is_not_null()).select(
            "user_pseudo_id",
            "ts_us",
            "file",
            "line",
            pl.lit("user_id").alias("linked_id_type"),
            pl.col("user_id").alias("linked_id_value"),
            pl.when(pl.col("event_name") == "generate_lead")
            .then(pl.lit("ga4_generate_lead"))
            .otherwise(pl.lit("ga4_user_id"))
            .alias("rule"),
        )
        return (
            pl.concat([forms_ev, uid_ev], how="vertical_relaxed")
            .sort("file", "line", maintain_order=True)
            .group_by("user_pseudo_id", "linked_id_type", "linked_id_value", "rule")
            .agg(
                pl.col("ts_us").min().alias("f"),
                pl.col("ts_us").max().alias("l"),
                pl.col("file").first(),
                pl.col("line").first(),
            )
            .select(
                pl.lit(None, pl.String).alias("person_id"),
                pl.lit("anonymous_id").alias("id_type"),
                pl.concat_str(pl.lit("ga4:"), "user_pseudo_id").alias("id_value"),
                "linked_id_type",
                "linked_id_value",
                "rule",
                pl.lit(1.0).alias("confidence"),
                pl.col("f")
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC")
                .alias("first_seen_at"),
                pl.col("l")
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC")
                .alias("last_seen_at"),
                pl.lit("ga4").alias("source_system"),
                pl.col("user_pseudo_id").alias("source_id"),
                pl.col("file").alias("source_file"),
                pl.col("line").alias("source_row"),
            )
        )

    def _visitor_truth(self, firsts: pl.DataFrame) -> pl.DataFrame:
        """Each browser's ``anonymous_id`` → ``true_person_key`` and main ``person_id``."""
        h = self.h
        return (
            firsts.join(h.select("h", "true_person_key"), on="h")
            .select(
                pl.concat_str(pl.lit("ga4:"), "user_pseudo_id").alias("anonymous_id"),
                "true_person_key",
                pl.Series("person_id", [self.main_id.get(x) for x in firsts["h"]], dtype=pl.String),
            )
            .sort("anonymous_id", maintain_order=True)
        )

    def _offline_responses(self, tf: pl.DataFrame) -> pl.DataFrame:
        """Offline and e-mail touches of known people, one per campaign and CRM record."""
        # CRM campaign responses (SF people → CampaignMember; HubSpot people → events)
        off = tf.filter(pl.col("channel").is_in([*co.OFFLINE_CHANNELS, "Email"]) & pl.col("known"))
        crm_ids = [self._crm_id(x, t) for x, t in zip(off["h"], off["t"], strict=True)]
        off = off.with_columns(pl.Series("person_id", crm_ids, dtype=pl.String)).filter(
            pl.col("person_id").is_not_null()
        )
        off = off.sort("t", maintain_order=True).unique(
            ["campaign_id", "person_id"], keep="first", maintain_order=True
        )
        return off

    def _campaign_members(self, off: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Salesforce ``campaign_members`` (responses + nurture sends) and their touchpoints."""
        s, rng, T = self.s, self.rng, self.T
        h = self.h
        sf_off = off.filter(~pl.col("is_hs"))
        # nurture: every SF lead is sent the nurture of its product line
        nur = s.camps.filter(pl.col("type") == "Email").select(
            pl.col("product_line"), pl.col("campaign_id").alias("nurture_id")
        )
        sent = (
            h.filter(pl.col("known") & ~pl.col("is_hs") & (pl.col("lead_t") + 1 < T))
            .join(nur, on="product_line")
            .select(
                _lookup(pl.col("h"), self.lead_id, pl.String).alias("person_id"),
                pl.col("nurture_id").alias("campaign_id"),
                (pl.col("lead_t") + 1).alias("t"),
            )
        )
        resp = sf_off.select(
            "person_id", "campaign_id", "t", "channel", pl.lit(True).alias("has_responded")
        )
        mem = pl.concat(
            [
                resp,
                sent.join(
                    resp.select("person_id", "campaign_id"),
                    on=["person_id", "campaign_id"],
                    how="anti",
                ).with_columns(
                    pl.lit("Email").alias("channel"), pl.lit(False).alias("has_responded")
                ),
            ],
            how="diagonal_relaxed",
        ).sort("t", "person_id", "campaign_id", maintain_order=True)
        mids = co.sf_ids(rng, "00v", mem.height)
        mem = mem.with_columns(pl.Series("member_id", mids, dtype=pl.String))
        members = mem.select(
            "campaign_id",
            "person_id",
            pl.when(pl.col("has_responded"))
            .then(pl.col("channel").replace_strict(_MEMBER_STATUS, return_dtype=pl.String))
            .otherwise(pl.lit("Sent"))
            .alias("status"),
            "has_responded",
            pl.when(pl.col("has_responded"))
            .then(self.ts("t").dt.date())
            .alias("first_responded_date"),
            self.ts("t").alias("created_at"),
            *_lin("salesforce", "salesforce/CampaignMember.csv", pl.col("member_id")),
        )
        sf_touch = (
            mem.filter(pl.col("has_responded") & (pl.col("channel") != "Email"))
            .join(
                s.camps.select("campaign_id", pl.col("name").alias("campaign_name")),
                on="campaign_id",
            )
            .select(
                pl.concat_str(pl.lit("sf:"), "member_id").alias("touchpoint_id"),
                "person_id",
                self.ts("t").alias("occurred_at"),
                pl.col("channel")
                .replace_strict(_TOUCH_TYPE, return_dtype=pl.String)
                .alias("touch_type"),
                pl.lit(True).alias("is_marketing"),
                "channel",
                "campaign_name",
                "campaign_id",
                pl.lit("salesforce").alias("source_system"),
                pl.col("member_id").alias("source_id"),
                pl.lit("salesforce/CampaignMember.csv").alias("source_file"),
            )
        )
        return members, sf_touch

    def _hubspot_events(self, off: pl.DataFrame) -> pl.DataFrame:
        """Touchpoints of HubSpot people's offline responses (marketing events)."""
        rng = self.rng
        hs_off = off.filter(pl.col("is_hs") & (pl.col("channel") != "Email"))
        hs_ids = co.numeric_ids(rng, hs_off.height, 70_000_000, 50)
        return hs_off.with_columns(
            pl.Series("__id", hs_ids, dtype=pl.Int64).cast(pl.String)
        ).select(
            pl.concat_str(pl.lit("hs:"), "__id").alias("touchpoint_id"),
            "person_id",
            self.ts("t").alias("occurred_at"),
            pl.col("channel")
            .replace_strict(_TOUCH_TYPE, return_dtype=pl.String)
            .alias("touch_type"),
            pl.lit(True).alias("is_marketing"),
            "channel",
            pl.col("camp_name").alias("campaign_name"),
            pl.lit("hubspot").alias("source_system"),
            pl.col("__id").alias("source_id"),
            pl.lit(HS_EVENTS_FILE).alias("source_file"),
        )

    def _sales_calls(self) -> pl.DataFrame:
        """SDR/AE calls on sales-created Salesforce leads (not marketing)."""
        rng, T = self.rng, self.T
        h = self.h
        sales = h.filter((pl.col("origin") == 1) & pl.col("known") & ~pl.col("is_hs"))
        kc = 1 + rng.poisson(1.0, sales.height)
        calls = (
            pl.DataFrame(
                {
                    "h": np.repeat(sales["h"].to_numpy(), kc),
                    "t": np.repeat(sales["lead_t"].to_numpy(), kc)
                    + np.concatenate([np.cumsum(rng.exponential(4.0, k)) for k in kc])
                    if len(kc)
                    else np.array([]),
                },
                schema={"h": pl.Int64, "t": pl.Float64},
            )
            .filter(pl.col("t") < T)
            .sort("t", "h", maintain_order=True)
        )
        tids = co.sf_ids(rng, "00T", calls.height)
        return calls.with_columns(
            pl.Series("__id", tids, dtype=pl.String),
            pl.Series(
                "person_id",
                [self._crm_id(x, t) for x, t in zip(calls["h"], calls["t"], strict=True)],
                dtype=pl.String,
            ),
        ).select(
            pl.concat_str(pl.lit("sf:"), "__id").alias("touchpoint_id"),
            "person_id",
            self.ts("t").alias("occurred_at"),
            pl.lit("sales_activity").alias("touch_type"),
            pl.lit(False).alias("is_marketing"),
            pl.lit("Call").alias("channel"),
            pl.lit("salesforce").alias("source_system"),
            pl.col("__id").alias("source_id"),
            pl.lit("salesforce/Task.csv").alias("source_file"),
        )

    def _crm_id(self, hh: int, t: float) -> str | None:
        """The CRM record a person had at day ``t`` (lead, else contact, else HubSpot)."""
        if hh in self.hs_id:
            return self.hs_id[hh] if self.hs_t[hh] <= t + 1e-9 else None
        if hh in self.lead_id:
            return str(self.lead_id[hh])
        found = self.contact_id.get(hh)
        return None if found is None else str(found)

    # ---------------------------------------------------------------- spend, fx
    def spend(self) -> pl.DataFrame:
        s = self.s
        c = s.camps.with_columns(
            pl.col("channel").replace_strict(co.PAID_CHANNELS, default=None).alias("platform")
        )
        ad_ids = {
            x: f"{9_000_000_000 + 1_337 * (i + 1)}" for i, x in enumerate(c["camp"].to_list())
        }
        sp = s.spend_raw.join(c, on="camp").with_columns(
            _lookup(pl.col("camp"), ad_ids, pl.String).alias("__ad"),
            (pl.lit(self.cal.start) + pl.duration(days=pl.col("day"))).alias("date"),
            pl.when(pl.col("platform") == "linkedin_ads")
            .then(pl.lit("EUR"))
            .otherwise(pl.lit("USD"))
            .alias("cur"),
        )
        sp = sp.with_columns(self._rate(pl.col("date"), s.fx).alias("__rate"))
        out = sp.select(
            "date",
            "platform",
            pl.when(pl.col("platform") == "google_ads")
            .then(pl.lit("gads:4815162342"))
            .otherwise(pl.lit("li:508123456"))
            .alias("ad_account_id"),
            pl.when(pl.col("platform") == "google_ads")
            .then(pl.concat_str(pl.lit("gads:"), "__ad"))
            .otherwise(
                pl.concat_str(
                    pl.lit("li:"),
                    (pl.col("__ad").str.slice(4).cast(pl.Int64) + 180_000_000).cast(pl.String),
                )
            )
            .alias("ad_campaign_id"),
            pl.col("ad_name").alias("ad_campaign_name"),
            "campaign_id",
            "channel",
            pl.col("cur").alias("currency"),
            "cost",
            # converted at full precision, as closedloop_kit converts (rounded only in the
            # truth's segment totals)
            pl.when(pl.col("cur") == "EUR")
            .then(pl.col("cost") * pl.col("__rate"))
            .otherwise(pl.col("cost"))
            .alias("cost_corporate"),
            "impressions",
            "clicks",
            "sales_division",
            "product_line",
            pl.col("platform").alias("source_system"),
            pl.concat_str(pl.col("date").cast(pl.String), pl.lit(":"), pl.col("__ad")).alias(
                "source_id"
            ),
            pl.when(pl.col("platform") == "google_ads")
            .then(pl.lit("ads/google_ads_campaigns.csv"))
            .otherwise(pl.lit("ads/linkedin_campaign_performance.csv"))
            .alias("source_file"),
        )
        return out.sort("date", "platform", "ad_campaign_name", maintain_order=True).with_columns(
            (pl.int_range(pl.len()).over("source_file") + 1).cast(pl.Int64).alias("source_row")
        )

    def fx_rates(self) -> pl.DataFrame:
        fx = self.s.fx
        ids = co.sf_ids(self.rng, "04w", fx.height)
        return fx.select(
            pl.lit("EUR").alias("currency"),
            pl.lit("USD").alias("corporate_currency"),
            "valid_from",
            # the latest rate stays in force (Salesforce: NextStartDate 9999-12-31)
            pl.when(pl.int_range(pl.len()) < pl.len() - 1)
            .then(pl.col("valid_to"))
            .alias("valid_to"),
            pl.col("rate").alias("rate_to_corporate"),
            pl.lit("salesforce").alias("source_system"),
            pl.Series("source_id", ids, dtype=pl.String),
            pl.lit("salesforce/DatedConversionRate.csv").alias("source_file"),
            (pl.int_range(pl.len()) + 2).cast(pl.Int64).alias("source_row"),
        )

    def accounts(self) -> pl.DataFrame:
        a = self.s.acc
        owners = self.s.users.filter(pl.col("role") == "AE")
        pick = self.rng.integers(0, 3, a.height)
        own = []
        for d, k in zip(a["sales_division"], pick, strict=True):
            u = owners.filter(pl.col("division") == d)
            own.append(u["hs_owner_id" if d == "APAC" else "sf_user_id"][int(k)])
        rev = np.round(
            a["employee_count"].to_numpy() * self.rng.uniform(80_000, 250_000, a.height), -3
        )
        is_hs = pl.col("sales_division") == "APAC"
        return a.select(
            "account_id",
            "name",
            "domain",
            "industry",
            "employee_count",
            pl.Series("annual_revenue", rev),
            pl.when(pl.col("sales_division") == "EMEA")
            .then(pl.lit("EUR"))
            .otherwise(pl.lit("USD"))
            .alias("currency"),
            "country",
            pl.col("sales_division").replace_strict(co.DIVISION_REGION).alias("region"),
            "sales_division",
            pl.Series("owner_id", own, dtype=pl.String),
            self.ts("created_days").alias("created_at"),
            pl.lit(False).alias("is_deleted"),
            pl.when(is_hs)
            .then(pl.lit("hubspot"))
            .otherwise(pl.lit("salesforce"))
            .alias("source_system"),
            pl.col("account_id").str.split(":").list.get(1).alias("source_id"),
            pl.when(is_hs)
            .then(pl.lit("hubspot/companies.csv"))
            .otherwise(pl.lit("salesforce/Account.csv"))
            .alias("source_file"),
        ).with_columns(
            (pl.col("source_id").rank("ordinal").over("source_file").cast(pl.Int64) + 1).alias(
                "source_row"
            )
        )

    # ---------------------------------------------------------------- truth
    def truth(self, spend: pl.DataFrame, campaigns: pl.DataFrame) -> B2BTruth:
        """The simulation's :class:`B2BTruth` (identity is filled in by :func:`assemble`)."""
        s = self.s
        o = self.opp_frame
        reached = self._reached()
        counts = _stage_count_rows(reached, o)
        eff = s.truth.effects
        effects = pl.DataFrame(
            {"channel": list(eff), "effect": [float(v) for v in eff.values()]}
        ).sort("channel", maintain_order=True)
        return B2BTruth(
            identity=pl.DataFrame(),
            visitors=self.visitors,
            conversion=s.truth,
            channel_effects=effects,
            journeys=s.journeys,
            humans=self._humans(reached, o),
            stage_counts=_stage_counts(counts),
            stage_conversion=_stage_conversion(counts, o),
            cycle=self._cycle(o),
            segments=self._segments(spend, campaigns, reached),
        )

    def _observed(self, c: str) -> pl.Expr:
        """``c`` (a day) happened within the simulated period."""
        return pl.col(c).is_not_null() & pl.col(c).is_not_nan() & (pl.col(c) < self.T)

    def _late_lead(self) -> pl.Expr:
        """True where no CRM records the lead moment.

        A HubSpot contact that sales typed in (for a deal) before the person's lead
        moment has no lead record: HubSpot keeps the one contact, whose Original Source
        says nothing ("Offline Sources") and whose lifecycle cannot move back to Lead.
        Unless the person gives their details through a recorded touch (a form fill, an
        event or webinar response) or has a lead record in Salesforce as well
        (``lead_recorded``, filled by :meth:`touches` and :meth:`_duplicates`), no CRM
        records the moment, so the truth does not count it (as a late MQL,
        :meth:`_late_mql`).
        """
        lead_t = pl.col("lead_t").fill_nan(None)
        return (
            pl.col("is_hs")
            & (pl.col("contact_t").fill_nan(None) < lead_t).fill_null(False)
            & (_hs_original_source() == _OFFLINE)
            & pl.col("h").is_in(sorted(self.lead_recorded)).not_()
        )

    def _late_mql(self) -> pl.Expr:
        """True where no CRM records the MQL moment (needs ``_deal_t``, the first deal day).

        A HubSpot contact already put on a deal (lifecycle "Opportunity") cannot become an
        MQL afterwards: HubSpot's lifecycle only moves forward, so no CRM records it and
        the truth does not count it (a meeting still makes them sales-ready, and so MQL).
        """
        mql_t = pl.col("mql_t").fill_nan(None)
        return (
            pl.col("is_hs")
            & pl.col("_deal_t").is_not_null()
            & (mql_t > pl.col("_deal_t")).fill_null(False)
        ) | (
            # nor is a Salesforce lead disqualified or converted (put on a deal) before its
            # MQL moment: its status history ends at "Closed - Not Converted" / "Closed -
            # Converted" and never records the MQL. HubSpot's lifecycle stage still moves
            # to MQL after a disqualification (the lead status is separate), so it counts.
            pl.col("is_hs").not_()
            & (
                (mql_t > pl.col("dq_t").fill_nan(None)).fill_null(False)
                | (mql_t > pl.col("conv_t").fill_nan(None)).fill_null(False)
            )
        )

    def _reached(self) -> pl.DataFrame:
        """Humans with whether they reached ``lead``, ``mql`` and ``sales_ready`` in time."""
        h = self.h
        late_mql = self._late_mql()
        on_deal = self.s.committee.group_by("h").agg(pl.col("t").min().alias("_deal_t"))
        hx = h.join(on_deal, on="h", how="left", maintain_order="left")
        late_lead = self._late_lead()
        # a sales-ready person was an MQL no later than that, unless no CRM records their
        # lead moment (a contact sales typed in for a deal): they enter the funnel at the
        # first stage a record shows, and no stage before it is theirs
        return hx.with_columns(
            (self._observed("lead_t") & late_lead.not_()).alias("lead"),
            (
                (self._observed("mql_t") & late_mql.not_())
                | (self._observed("sr_t") & late_lead.not_())
            ).alias("mql"),
            self._observed("sr_t").alias("sales_ready"),
        )

    def _cycle(self, o: pl.DataFrame) -> pl.DataFrame:
        """Median days lead → close and opportunity → close (uncensored), open deals at end."""
        h = self.h
        lt = o.join(h.select("h", "lead_t"), on="h")
        lead_to_close = (lt["close"] - lt["lead_t"]).to_numpy()
        opp_to_close = (o["close"] - o["created"]).to_numpy()
        return pl.DataFrame(
            {
                "n_opportunities": [o.height],
                "median_days_lead_to_close": [
                    float(np.median(lead_to_close)) if o.height else None
                ],
                "median_days_opportunity_to_close": [
                    float(np.median(opp_to_close)) if o.height else None
                ],
                "open_at_end": [int((~o["is_closed"]).sum())],
            },
            schema={
                "n_opportunities": pl.Int64,
                "median_days_lead_to_close": pl.Float64,
                "median_days_opportunity_to_close": pl.Float64,
                "open_at_end": pl.Int64,
            },
        )

    def _segments(
        self, spend: pl.DataFrame, campaigns: pl.DataFrame, reached: pl.DataFrame
    ) -> pl.DataFrame:
        """Ad and program spend, sales-ready humans and cost per sales-ready by segment."""
        s = self.s
        seg_keys = pl.DataFrame(
            [(p, d) for p in co.PRODUCT_LINES for d in co.DIVISIONS],
            schema={"product_line": pl.String, "sales_division": pl.String},
            orient="row",
        )
        ad = spend.group_by("product_line", "sales_division").agg(
            pl.col("cost_corporate").sum().alias("ad_spend_corporate")
        )
        prog = (
            campaigns.filter(pl.col("actual_cost").is_not_null())
            .with_columns(self._rate(pl.col("start_date"), s.fx).alias("__r"))
            .with_columns(
                pl.when(pl.col("currency") == "EUR")
                .then(pl.col("actual_cost") * pl.col("__r"))
                .otherwise(pl.col("actual_cost"))
                .alias("c")
            )
            .group_by("product_line", "sales_division")
            .agg(pl.col("c").sum().alias("program_cost_corporate"))
        )
        srs = (
            reached.filter(pl.col("sales_ready"))
            .group_by("product_line", "sales_division")
            .agg(pl.len().cast(pl.Int64).alias("sales_ready"))
        )
        return (
            seg_keys.join(
                ad, on=["product_line", "sales_division"], how="left", maintain_order="left"
            )
            .join(prog, on=["product_line", "sales_division"], how="left", maintain_order="left")
            .join(srs, on=["product_line", "sales_division"], how="left", maintain_order="left")
            .with_columns(
                pl.col("ad_spend_corporate").fill_null(0.0),
                pl.col("program_cost_corporate").fill_null(0.0),
                pl.col("sales_ready").fill_null(0),
            )
            .with_columns(
                (pl.col("ad_spend_corporate") + pl.col("program_cost_corporate")).alias(
                    "spend_corporate"
                )
            )
            # every figure rounded once, to the cent, from the unrounded sums
            .with_columns(
                pl.when(pl.col("sales_ready") > 0)
                .then((pl.col("spend_corporate") / pl.col("sales_ready")).round(2))
                .alias("cost_per_sales_ready"),
                pl.col("ad_spend_corporate").round(2),
                pl.col("program_cost_corporate").round(2),
                pl.col("spend_corporate").round(2),
            )
        )

    def _humans(self, reached: pl.DataFrame, o: pl.DataFrame) -> pl.DataFrame:
        """One row per simulated human: attributes, ``p_true``, milestones, deal membership."""
        s, T = self.s, self.T
        h = self.h
        late_mql = self._late_mql()
        origin = {0: "marketing", 1: "sales", 2: "partner", 3: "none"}
        cm = s.committee.filter(pl.col("t") < T).join(
            o.select("o", "is_won", "close"), on="o", how="left", maintain_order="left"
        )
        on_opp = set(cm["h"].to_list())
        on_won = set(cm.filter(pl.col("is_won"))["h"].to_list())
        return reached.select(
            "true_person_key",
            "account_id",
            "sales_division",
            "product_line",
            pl.col("origin").replace_strict(origin, return_dtype=pl.String).alias("origin"),
            pl.col("known"),
            pl.col("p_true"),
            pl.col("decided"),
            pl.col("sales_ready"),
            pl.when(pl.col("lead")).then(self.ts("lead_t")).alias("lead_at"),
            pl.when(pl.col("mql") & self._observed("mql_t") & late_mql.not_())
            .then(self.ts("mql_t"))
            .when(pl.col("mql"))
            .then(self.ts("sr_t"))
            .alias("mql_at"),
            pl.when(self._observed("sr_t")).then(self.ts("sr_t")).alias("sales_ready_at"),
            pl.Series("person_id", [self.main_id.get(x) for x in h["h"]], dtype=pl.String),
            pl.col("h").is_in(list(on_opp)).alias("on_opportunity"),
            pl.col("h").is_in(list(on_won)).alias("on_won_opportunity"),
        )


def _stage_count_rows(reached: pl.DataFrame, o: pl.DataFrame) -> list[tuple[str, int]]:
    """``(stage, count)`` from lead to won: humans, then opportunities."""
    return [
        ("lead", int(reached["lead"].sum())),
        ("mql", int(reached["mql"].sum())),
        ("sales_ready", int(reached["sales_ready"].sum())),
        ("opportunity", o.height),
        ("won", int(o["is_won"].sum())),
    ]


def _stage_counts(counts: list[tuple[str, int]]) -> pl.DataFrame:
    """``stage``, ``count`` and ``grain`` (human or opportunity)."""
    return pl.DataFrame(
        counts, schema={"stage": pl.String, "count": pl.Int64}, orient="row"
    ).with_columns(
        pl.when(pl.col("stage").is_in(["opportunity", "won"]))
        .then(pl.lit("opportunity"))
        .otherwise(pl.lit("human"))
        .alias("grain")
    )


def _stage_conversion(counts: list[tuple[str, int]], o: pl.DataFrame) -> pl.DataFrame:
    """Rate between consecutive stages, and won among closed opportunities."""
    conv_rows = [
        (a, b, (nb / na) if na else None) for (a, na), (b, nb) in itertools.pairwise(counts)
    ]
    closed = o.filter(pl.col("is_closed"))
    conv_rows.append(
        ("opportunity_closed", "won", float(closed["is_won"].mean()) if closed.height else None)  # type: ignore[arg-type]
    )
    return pl.DataFrame(
        conv_rows,
        schema={"from_stage": pl.String, "to_stage": pl.String, "rate": pl.Float64},
        orient="row",
    )


def assemble(sim: _Sim) -> tuple[ClosedLoopData, B2BTruth, dict[str, pl.DataFrame]]:
    """Canonical tables and truth of a finished simulation."""
    from dataclasses import replace

    from closedloop_kit.store import ClosedLoopData

    a = _Asm(sim)
    a.people()
    opp, oc, sh_opp = a.opportunities()
    people, sh_people, identity = a.people_table()
    touches, members, links = a.touches()
    campaigns = a.campaigns()
    spend = a.spend()
    tables = {
        "accounts": a.accounts(),
        "people": people,
        "campaigns": campaigns,
        "campaign_members": members,
        "touchpoints": touches,
        "opportunities": opp,
        "opportunity_contacts": oc,
        "stage_history": pl.concat([sh_people, sh_opp], how="diagonal_relaxed"),
        "spend": spend,
        "fx_rates": a.fx_rates(),
        "identity_links": links,
    }
    crm, sales_ready = crm_tables(a, tables)
    tables.update(crm)
    truth = a.truth(spend, campaigns)
    truth = replace(truth, identity=identity, sales_ready=sales_ready)
    canon = {}
    for name, df in tables.items():
        if name == "stage_history":
            df = df.with_columns(
                pl.concat_str(
                    "entity_id", pl.lit(":"), pl.col("changed_at").dt.epoch("us").cast(pl.String)
                )
                .str.split(":")
                .list.slice(1)
                .list.join(":")
                .alias("source_id")
            ).with_columns(
                (pl.col("source_id").rank("ordinal").over("source_file").cast(pl.Int64) + 1).alias(
                    "source_row"
                )
            )
        key = list(TABLES[name].key)
        canon[name] = _canon(name, df).sort(key, nulls_last=True, maintain_order=True)
    internals = {"ga4_events": a.ga4_events, "users": a.users}
    return ClosedLoopData(tables=canon, corporate_currency="USD"), truth, internals
