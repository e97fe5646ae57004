"""Stage evidence from the canonical tables: who reached which stage when.

Evidence is a long frame ``(unit_id, stage, at)``: one row per sign that a person record
or an opportunity reached a stage or exit, ``at`` null where the data says *that* but
not *when* (a current status without history). :mod:`closedloop_kit.prepared._funnel`
rolls the evidence up to the requested grain.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from closedloop_kit.config import Taxonomy, normalize_stage_value, normalized_value_expr
from closedloop_kit.schema import UTC_DATETIME
from closedloop_kit.store import ClosedLoopData

__all__ = ["StageEvidence", "col_or_null", "map_values"]

EVIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "unit_id": pl.String(),
    "stage": pl.String(),
    "at": UTC_DATETIME,
    "is_response": pl.Boolean(),
}
"""``is_response``: the evidence is the person's own response (a form fill), which may
come after later milestones without contradicting them."""


def col_or_null(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    """``pl.col(name)`` if ``frame`` has it, else a typed null literal."""
    if name in frame.columns:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype)


def deleted(frame: pl.DataFrame) -> pl.Expr:
    """Whether a row is marked deleted in the source (``is_deleted``; False when absent)."""
    return col_or_null(frame, "is_deleted", pl.Boolean()).fill_null(False)


def map_values(expr: pl.Expr, mapping: dict[str, str]) -> pl.Expr:
    """Map raw values through a normalised-key mapping; unmapped values become null."""
    if not mapping:
        return pl.lit(None, dtype=pl.String)
    keys = list(mapping)
    return normalized_value_expr(expr.cast(pl.String)).replace_strict(
        keys, [mapping[k] for k in keys], default=None, return_dtype=pl.String
    )


def _evidence(frame: pl.DataFrame, *, is_response: bool = False) -> pl.DataFrame:
    return frame.select(
        pl.col("unit_id").cast(pl.String),
        pl.col("stage").cast(pl.String),
        pl.col("at").cast(UTC_DATETIME),
        pl.lit(is_response).alias("is_response"),
    ).filter(pl.col("stage").is_not_null() & pl.col("unit_id").is_not_null())


def without_regressions(frame: pl.DataFrame, stages: tuple[str, ...]) -> pl.DataFrame:
    """Drop history rows that move an entity back to an earlier stage than it had reached.

    A lead set to "Qualified" and later back to "Working - Contacted" reached the MQL
    stage no later than it became sales-ready; its later "Working" row is a regression,
    not MQL evidence (which would make the stage times run backwards). Exit rows are
    kept.
    """
    idx = pl.col("stage").replace_strict(
        list(stages), list(range(len(stages))), default=None, return_dtype=pl.Int64
    )
    f = frame.with_columns(idx.alias("_idx")).sort(["entity_id", "changed_at", "_idx"])
    prev = pl.col("_idx").fill_null(-1).cum_max().shift(1).over("entity_id")
    keep = pl.col("_idx").is_null() | prev.is_null() | (pl.col("_idx") >= prev)
    return f.filter(keep).drop("_idx")


def without_skip_fills(frame: pl.DataFrame, stages: tuple[str, ...]) -> pl.DataFrame:
    """Drop lifecycle rows a CRM filled in for stages the record skipped.

    When a record jumps ahead (a contact created straight into "Opportunity"), HubSpot
    sets every skipped "Became a … date" to the time of the jump. Such a row says
    nothing about the skipped stage: a row whose timestamp equals the timestamp of a
    later stage of the same record and field is dropped. Rows of other fields and exits
    are kept.
    """
    if frame.height == 0:
        return frame
    idx = pl.col("stage").replace_strict(
        list(stages), list(range(len(stages))), default=None, return_dtype=pl.Int64
    )
    f = frame.with_columns(idx.alias("_idx"))
    top = pl.col("_idx").max().over("entity_id", "field", "changed_at")
    skipped = (pl.col("field") == "lifecycle_stage") & (pl.col("_idx") < top)
    return f.filter(skipped.fill_null(False).not_()).drop("_idx")


def gave_contact_expr(tax: Taxonomy) -> pl.Expr:
    """Whether a person record's creation is raw-lead evidence (it gave contact details).

    Leads and prospects did; a contact did when its lead source is one the taxonomy knows
    (:attr:`Taxonomy.lead_source_map`). A contact typed in by sales (no lead source, or
    an unknown one such as HubSpot's "Offline Sources") did not: it enters the funnel at
    its first other evidence (a lifecycle stage, a meeting, a deal).
    """
    known = list(tax.lead_source_lookup())
    source_known = normalized_value_expr(pl.col("lead_source").cast(pl.String)).is_in(known)
    return (pl.col("person_type").fill_null("lead") != "contact") | source_known.fill_null(False)


def contact_touch_evidence(
    data: ClosedLoopData, tax: Taxonomy, people: pl.DataFrame
) -> pl.DataFrame:
    """``(unit_id=person_id, stage=created_stage, at)`` for every form fill by a person.

    A person who fills a form gives their contact details: a raw lead from then on, even
    when sales had typed the contact in earlier (:attr:`Taxonomy.contact_touch_types`).
    """
    t = data.frame("touchpoints")
    if not tax.contact_touch_types or t.height == 0 or "touch_type" not in t.columns:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    is_contact_touch = pl.col("touch_type").is_in(list(tax.contact_touch_types))
    hits = t.filter(is_contact_touch & pl.col("person_id").is_not_null()).join(
        people.select("person_id"), on="person_id", how="semi"
    )
    return _evidence(
        hits.select(
            pl.col("person_id").alias("unit_id"),
            pl.lit(tax.created_stage).alias("stage"),
            pl.col("occurred_at").alias("at"),
        ),
        is_response=True,
    )


def line_item_families(data: ClosedLoopData) -> pl.DataFrame:
    """Per deal: the product family of its line items (``opportunity_id, _li_family``).

    The family carrying the largest share of the deal's line totals (corporate amounts
    where present), ties broken by name: a deal's product line when the deal itself does
    not name one. Line items the source marks deleted (removed from the deal) are not
    read.
    """
    schema = {"opportunity_id": pl.String, "_li_family": pl.String}
    if "opportunity_products" not in data.tables or "products" not in data.tables:
        return pl.DataFrame(schema=schema)
    li = data.frame("opportunity_products")
    li = li.filter(deleted(li).not_())
    prod = data.frame("products")
    if li.height == 0 or "family" not in prod.columns:
        return pl.DataFrame(schema=schema)
    amount = pl.coalesce(
        col_or_null(li, "total_amount_corporate", pl.Float64()),
        col_or_null(li, "total_amount", pl.Float64()),
        pl.lit(0.0),
    )
    per = (
        li.select("opportunity_id", "product_id", amount.alias("_amt"))
        .join(prod.select("product_id", pl.col("family").cast(pl.String)), on="product_id")
        .filter(pl.col("family").is_not_null() & pl.col("opportunity_id").is_not_null())
        .group_by("opportunity_id", "family")
        .agg(pl.col("_amt").sum())
        .sort(["opportunity_id", "_amt", "family"], descending=[False, True, False])
    )
    return per.group_by("opportunity_id", maintain_order=True).agg(
        pl.col("family").first().alias("_li_family")
    )


def meeting_evidence(data: ClosedLoopData, tax: Taxonomy, people: pl.DataFrame) -> pl.DataFrame:
    """``(unit_id=person_id, stage=meeting_stage, at)`` for every counted meeting.

    A meeting counts when its ``activity_type`` (or ``type``) is one of
    :attr:`Taxonomy.meeting_types`, it names a person of ``people`` and its
    status/outcome is not an excluded one (cancelled, no-show, ...). Empty when the
    taxonomy ignores meetings or the data has
    no ``activities`` table.
    """
    empty = pl.DataFrame(schema=EVIDENCE_SCHEMA)
    if tax.meeting_stage is None or "activities" not in data.tables:
        return empty
    act = data.frame("activities")
    kind = next((c for c in ("activity_type", "type") if c in act.columns), None)
    if kind is None or not {"person_id", "occurred_at"} <= set(act.columns) or not act.height:
        return empty
    types = [normalize_stage_value(t) for t in tax.meeting_types]
    excluded = [normalize_stage_value(t) for t in tax.meeting_excluded_statuses]
    bad = pl.lit(False)
    for c in ("status", "outcome"):
        if c in act.columns:
            bad = bad | normalized_value_expr(pl.col(c).cast(pl.String)).is_in(excluded).fill_null(
                False
            )
    bad = bad | deleted(act)
    m = act.filter(
        normalized_value_expr(pl.col(kind).cast(pl.String)).is_in(types)
        & pl.col("person_id").is_not_null()
        & bad.not_()
    ).join(people.select("person_id"), on="person_id", how="semi")
    # the stage is reached when the meeting is set up (logged), not when it is held
    set_up = pl.coalesce("created_at", "occurred_at") if "created_at" in m.columns else None
    return _evidence(
        m.select(
            pl.col("person_id").alias("unit_id"),
            pl.lit(tax.meeting_stage).alias("stage"),
            (set_up if set_up is not None else pl.col("occurred_at")).alias("at"),
        )
    )


class StageEvidence:
    """Person records, opportunities, their links and stage evidence, eagerly prepared.

    Attributes
    ----------
    people
        One row per kept person record: ``person_id``, ``key`` (funnel person entity),
        ``account_key``, ``created_at``, ``lead_source``, ``disqualified``,
        ``disqualified_at`` and optional dimension columns.
    person_evidence
        ``(unit_id=person_id, stage, at)``.
    opps
        One row per kept opportunity with ``opp_at``, ``won``, ``won_at``, ``lost``,
        ``lost_at``, ``close_at``, ``is_open``, money and dimensions.
    opp_evidence
        ``(unit_id=opportunity_id, stage, at)``.
    links, all_links
        ``(person_id, opportunity_id, created_at)``: lead conversions and primary
        contact roles (``links``; every role with ``contact_roles="all"``) or every
        role (``all_links``), limited to people who existed before the deal closed.
    converted_status_mismatch
        Person ids whose status says converted while ``is_converted`` is false.
    observed_until
        Latest timestamp anywhere in the data (the censoring time).
    """

    def __init__(self, data: ClosedLoopData, tax: Taxonomy, contact_roles: str = "primary") -> None:
        self.data = data
        self.tax = tax
        self.contact_roles = contact_roles
        self.corporate_currency = data.corporate_currency
        self._people(data)
        self._opportunities(data)
        self._links(data)
        self.touches = self._touches(data)
        self.campaign_dims = self._campaign_dims(data)
        self.owner_divisions = self._owner_divisions(data)
        self.accounts = data.frame("accounts")
        self.observed_until = self._observed_until(data)

    # -- people ------------------------------------------------------------------------
    def _people(self, data: ClosedLoopData) -> None:
        tax = self.tax
        p = data.frame("people")
        p = p.filter(deleted(p).not_() & (pl.col("person_type").fill_null("lead") != "visitor"))
        base = pl.coalesce(
            col_or_null(p, "golden_person_id", pl.String()),
            col_or_null(p, "merged_into_id", pl.String()),
            pl.col("person_id"),
        )
        p = p.with_columns(base.alias("_base"))
        # a contact created by converting a lead belongs to the lead's funnel entity
        conv = (
            p.filter(pl.col("converted_contact_id").is_not_null())
            .sort(["created_at", "person_id"], nulls_last=True)
            .group_by("converted_contact_id", maintain_order=True)
            .agg(pl.col("_base").first().alias("_lead_key"))
        )
        p = p.join(conv, left_on="person_id", right_on="converted_contact_id", how="left")
        p = p.with_columns(
            pl.coalesce("_lead_key", "_base").alias("key"),
            pl.coalesce("account_id", "converted_account_id").alias("account_key"),
        )
        status_map = tax.value_map("status")
        life_map = tax.value_map("lifecycle_stage")
        stage_set = set(tax.stages)

        sh = data.frame("stage_history").filter(
            (pl.col("entity_type") == "person")
            & pl.col("field").is_in(["status", "lifecycle_stage"])
        )
        sh = sh.with_columns(
            pl.when(pl.col("field") == "status")
            .then(map_values(pl.col("new_value"), status_map))
            .otherwise(map_values(pl.col("new_value"), life_map))
            .alias("stage")
        ).join(p.select("person_id"), left_on="entity_id", right_on="person_id", how="semi")
        sh = without_skip_fills(sh, tax.stages)
        meetings = meeting_evidence(data, tax, p)
        self.meetings_decide = (
            bool(meetings.height)
            if tax.meetings_decide == "auto"
            else (tax.meetings_decide == "always")
        )
        decided_by_meeting = tax.meeting_stage if self.meetings_decide else None

        ev = [
            _evidence(
                p.filter(gave_contact_expr(tax)).select(
                    pl.col("person_id").alias("unit_id"),
                    pl.lit(tax.created_stage).alias("stage"),
                    pl.col("created_at").alias("at"),
                )
            ),
            _evidence(
                without_regressions(sh, tax.stages)
                .filter(
                    pl.col("stage").is_in(list(stage_set))
                    & (pl.col("stage") != pl.lit(decided_by_meeting, dtype=pl.String)).fill_null(
                        True
                    )
                )
                .select(
                    pl.col("entity_id").alias("unit_id"),
                    "stage",
                    pl.col("changed_at").alias("at"),
                )
            ),
            meetings if self.meetings_decide else meetings.clear(),
            contact_touch_evidence(data, tax, p),
        ]
        if tax.converted_stage != decided_by_meeting:
            ev.append(
                _evidence(
                    p.filter(pl.col("is_converted").fill_null(False)).select(
                        pl.col("person_id").alias("unit_id"),
                        pl.lit(tax.converted_stage).alias("stage"),
                        pl.col("converted_at").alias("at"),
                    )
                )
            )
        for column, stage in tax.date_fields.items():
            if column in p.columns and stage in stage_set and stage != decided_by_meeting:
                ev.append(
                    _evidence(
                        p.filter(pl.col(column).is_not_null()).select(
                            pl.col("person_id").alias("unit_id"),
                            pl.lit(stage).alias("stage"),
                            pl.col(column).cast(UTC_DATETIME).alias("at"),
                        )
                    )
                )
        current = p.select(
            "person_id",
            map_values(pl.col("status_raw"), status_map).alias("_status_stage"),
            map_values(pl.col("lifecycle_stage_raw"), life_map).alias("_life_stage"),
        )
        for c in ("_status_stage", "_life_stage"):
            ev.append(
                _evidence(
                    current.filter(
                        pl.col(c).is_in([s for s in stage_set if s != decided_by_meeting])
                    ).select(
                        pl.col("person_id").alias("unit_id"),
                        pl.col(c).alias("stage"),
                        pl.lit(None, dtype=UTC_DATETIME).alias("at"),
                    )
                )
            )
        self.person_evidence = pl.concat(ev)

        # disqualification: the current (else latest recorded) status is the exit
        latest = (
            sh.filter(pl.col("stage").is_not_null())
            .sort(["changed_at", "stage"], nulls_last=True)
            .group_by("entity_id")
            .agg(pl.col("stage").last().alias("_latest_stage"))
        )
        dq_at = (
            sh.filter(pl.col("stage") == tax.disqualified_exit)
            .group_by("entity_id")
            .agg(pl.col("changed_at").max().alias("disqualified_at"))
        )
        p = (
            p.join(current, on="person_id", how="left")
            .join(latest, left_on="person_id", right_on="entity_id", how="left")
            .join(dq_at, left_on="person_id", right_on="entity_id", how="left")
        )
        now = pl.coalesce("_status_stage", "_life_stage", "_latest_stage")
        p = p.with_columns((now == tax.disqualified_exit).fill_null(False).alias("disqualified"))

        converted = [v.lower() for v in tax.converted_statuses]
        mismatch = p.filter(
            pl.col("status_raw").str.to_lowercase().str.strip_chars().is_in(converted)
            & pl.col("is_converted").fill_null(False).not_()
        )
        self.converted_status_mismatch: list[str] = mismatch["person_id"].to_list()
        self.people = p.select(
            "person_id",
            "key",
            "account_key",
            "created_at",
            "lead_source",
            "disqualified",
            "disqualified_at",
            col_or_null(p, "sourced_by", pl.String()).alias("sourced_by"),
            col_or_null(p, "product_line", pl.String()).alias("product_line"),
            col_or_null(p, "sales_division", pl.String()).alias("sales_division"),
            col_or_null(p, "region", pl.String()).alias("region"),
            "converted_opportunity_id",
        )

    # -- opportunities -----------------------------------------------------------------
    def _opportunities(self, data: ClosedLoopData) -> None:
        tax = self.tax
        o = data.frame("opportunities")
        o = o.filter(deleted(o).not_())
        omap = tax.value_map("stage")
        sh = (
            data.frame("stage_history")
            .filter((pl.col("entity_type") == "opportunity") & (pl.col("field") == "stage"))
            .with_columns(map_values(pl.col("new_value"), omap).alias("stage"))
            .filter(pl.col("stage").is_not_null())
            .join(o.select("opportunity_id"), left_on="entity_id", right_on="opportunity_id")
        )
        hist = sh.group_by("entity_id").agg(
            pl.col("changed_at")
            .filter(pl.col("stage") == tax.opportunity_stage)
            .min()
            .alias("_h_opp"),
            pl.col("changed_at").filter(pl.col("stage") == tax.won_stage).min().alias("_h_won"),
            pl.col("changed_at").filter(pl.col("stage") == tax.lost_exit).max().alias("_h_lost"),
        )
        o = o.join(hist, left_on="opportunity_id", right_on="entity_id", how="left")
        now = map_values(pl.col("stage_raw"), omap)
        close_dt = pl.col("close_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        won = pl.col("is_won").fill_null(False) | (now == tax.won_stage).fill_null(False)
        lost = won.not_() & (
            pl.col("is_closed").fill_null(False) | (now == tax.lost_exit).fill_null(False)
        )
        corp = self.corporate_currency
        amount_corp = pl.coalesce(
            pl.col("amount_corporate"),
            pl.when(pl.col("currency") == corp).then(pl.col("amount")),
        )
        o = o.with_columns(
            pl.min_horizontal("created_at", "_h_opp").alias("opp_at"),
            won.alias("won"),
            lost.alias("lost"),
            amount_corp.alias("amount_corporate"),
        ).with_columns(
            pl.when("won").then(pl.coalesce("closed_at", "_h_won", close_dt)).alias("won_at"),
            pl.when("lost").then(pl.coalesce("closed_at", "_h_lost", close_dt)).alias("lost_at"),
            (pl.col("won") | pl.col("lost")).not_().alias("is_open"),
            (
                (pl.col("amount") < 0).fill_null(False)
                | (pl.col("amount").is_not_null() & pl.col("currency").is_null())
                | (pl.col("amount_corporate") < 0).fill_null(False)
            ).alias("bad_money"),
        )
        o = o.with_columns(pl.coalesce("won_at", "lost_at").alias("close_at"))
        stage_set = set(tax.stages)
        other = without_regressions(sh, tax.stages).filter(
            pl.col("stage").is_in([s for s in stage_set if s not in (tax.won_stage,)])
            & (pl.col("stage") != tax.opportunity_stage)
        )
        ev = [
            _evidence(
                o.select(
                    pl.col("opportunity_id").alias("unit_id"),
                    pl.lit(tax.opportunity_stage).alias("stage"),
                    pl.col("opp_at").alias("at"),
                )
            ),
            _evidence(
                o.filter("won").select(
                    pl.col("opportunity_id").alias("unit_id"),
                    pl.lit(tax.won_stage).alias("stage"),
                    pl.col("won_at").alias("at"),
                )
            ),
            _evidence(
                other.select(
                    pl.col("entity_id").alias("unit_id"), "stage", pl.col("changed_at").alias("at")
                )
            ),
            _evidence(
                o.with_columns(now.alias("_now"))
                .filter(
                    pl.col("_now").is_in(list(stage_set))
                    & (pl.col("_now") != tax.won_stage)
                    & (pl.col("_now") != tax.opportunity_stage)
                )
                .select(
                    pl.col("opportunity_id").alias("unit_id"),
                    pl.col("_now").alias("stage"),
                    pl.lit(None, dtype=UTC_DATETIME).alias("at"),
                )
            ),
        ]
        self.opp_evidence = pl.concat(ev)
        o = o.join(line_item_families(data), on="opportunity_id", how="left").with_columns(
            pl.coalesce(col_or_null(o, "product_line", pl.String()), "_li_family").alias(
                "product_line"
            )
        )
        self.opps = o.select(
            "opportunity_id",
            "account_id",
            "opp_at",
            "won",
            "won_at",
            "lost",
            "lost_at",
            "close_at",
            "is_open",
            "amount",
            "currency",
            "amount_corporate",
            "bad_money",
            "lead_source",
            "sourced_by",
            "product_line",
            "sales_division",
        )

    # -- links -------------------------------------------------------------------------
    def _links(self, data: ClosedLoopData) -> None:
        roles = data.frame("opportunity_contacts").select(
            "person_id", "opportunity_id", pl.col("is_primary").fill_null(False)
        )
        # a deal that marks no primary contact (many orgs never set it): every role counts
        roles = roles.with_columns(
            (pl.col("is_primary") | pl.col("is_primary").any().over("opportunity_id").not_()).alias(
                "is_primary"
            )
        )
        conv = self.people.filter(pl.col("converted_opportunity_id").is_not_null()).select(
            "person_id",
            pl.col("converted_opportunity_id").alias("opportunity_id"),
            pl.lit(True).alias("is_primary"),
        )
        links = (
            pl.concat([roles, conv])
            .group_by("person_id", "opportunity_id")
            .agg(pl.col("is_primary").any())
        )
        links = links.join(
            self.people.select("person_id", "created_at"), on="person_id", how="inner"
        ).join(self.opps.select("opportunity_id", "close_at"), on="opportunity_id", how="inner")
        # a person created after the deal closed did not take part in it
        keep = (
            pl.col("created_at").is_null()
            | pl.col("close_at").is_null()
            | (pl.col("created_at") <= pl.col("close_at"))
        )
        cols = ["person_id", "opportunity_id", "created_at"]
        self.all_links = links.filter(keep).select(cols)
        """Every contact role and lead conversion (the opportunity grain's lead milestones)."""
        primary = pl.col("is_primary") if self.contact_roles == "primary" else pl.lit(True)
        self.links = links.filter(keep & primary).select(cols)
        """Deals that count as a person's own: lead conversion, primary contact role (every
        role of a deal without a primary one; all roles with ``contact_roles="all"``)."""

    # -- touches -----------------------------------------------------------------------
    @staticmethod
    def _touches(data: ClosedLoopData) -> pl.DataFrame:
        t = data.frame("touchpoints")
        cid = pl.col("campaign_id") if "campaign_id" in t.columns else pl.lit(None, pl.String)
        return t.filter(pl.col("is_marketing").fill_null(False)).select(
            "person_id", "account_id", "occurred_at", "channel", cid.alias("campaign_id")
        )

    @staticmethod
    def _campaign_dims(data: ClosedLoopData) -> pl.DataFrame:
        """Per person record: product line and division of the first campaign that reached them.

        The campaign of the earliest touch (``touchpoints.campaign_id``) or membership
        (``campaign_members.created_at``) whose campaign names a product line (division):
        the program that sourced the person. ``person_id, _c_product_line,
        _c_sales_division``.
        """
        camp = data.frame("campaigns")
        dims = [c for c in ("product_line", "sales_division") if c in camp.columns]
        out_schema = {
            "person_id": pl.String,
            "_c_product_line": pl.String,
            "_c_sales_division": pl.String,
        }
        if not dims or camp.height == 0:
            return pl.DataFrame(schema=out_schema)
        t = data.frame("touchpoints").filter(
            pl.col("campaign_id").is_not_null() & pl.col("person_id").is_not_null()
        )
        m = data.frame("campaign_members")
        hits = pl.concat(
            [
                t.select("person_id", "campaign_id", pl.col("occurred_at").alias("at")),
                m.select("person_id", "campaign_id", pl.col("created_at").alias("at")),
            ],
            how="vertical_relaxed",
        ).join(camp.select("campaign_id", *dims), on="campaign_id", how="inner")
        hits = hits.sort(["at", "campaign_id"], nulls_last=True)
        aggs = [
            pl.col(c).drop_nulls().first().cast(pl.String).alias(f"_c_{c}")
            for c in ("product_line", "sales_division")
            if c in dims
        ]
        out = hits.group_by("person_id").agg(aggs)
        for c in out_schema:
            if c not in out.columns:
                out = out.with_columns(pl.lit(None, dtype=pl.String).alias(c))
        return out.select(list(out_schema))

    @staticmethod
    def _owner_divisions(data: ClosedLoopData) -> pl.DataFrame:
        """Per person record: its owner's sales division and role (``users``).

        ``person_id, _u_sales_division, _u_role``: the division places a person without
        a deal or account; the role says who sourced a lead whose lead source does not
        (:attr:`Taxonomy.owner_role_map`).
        """
        schema = {"person_id": pl.String, "_u_sales_division": pl.String, "_u_role": pl.String}
        if "users" not in data.tables:
            return pl.DataFrame(schema=schema)
        users = data.frame("users")
        people = data.frame("people")
        if "owner_id" not in people.columns:
            return pl.DataFrame(schema=schema)
        return (
            people.select("person_id", "owner_id")
            .join(
                users.select(
                    pl.col("user_id").alias("owner_id"),
                    col_or_null(users, "sales_division", pl.String()).alias("_u_sales_division"),
                    col_or_null(users, "role", pl.String()).alias("_u_role"),
                ),
                on="owner_id",
                how="inner",
            )
            .select(list(schema))
        )

    @staticmethod
    def _observed_until(data: ClosedLoopData) -> dt.datetime | None:
        cols = {
            "people": ["created_at", "converted_at"],
            "opportunities": ["created_at", "closed_at", "close_date"],
            "stage_history": ["changed_at"],
            "touchpoints": ["occurred_at"],
        }
        values = []
        for table, names in cols.items():
            f = data.lazy(table)
            values.append(
                f.select(
                    pl.max_horizontal(
                        [
                            pl.col(n).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").max()
                            if n == "close_date"
                            else pl.col(n).max()
                            for n in names
                        ]
                    ).alias("m")
                )
            )
        out = pl.concat(pl.collect_all(values)).select(pl.col("m").max()).item()
        return out if isinstance(out, dt.datetime) else None
