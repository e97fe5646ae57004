"""``build``: one row per entity with the time each funnel stage was reached."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit._core.result import Result
from closedloop_kit._core.types import AnyFrame
from closedloop_kit.config import FiscalCalendar, Taxonomy
from closedloop_kit.errors import DataContractError
from closedloop_kit.prepared._evidence import StageEvidence, map_values
from closedloop_kit.schema import UTC_DATETIME

__all__ = ["FunnelBuildResult", "build_from_evidence", "sourced_by_exprs", "stage_columns"]

CREATION_TOUCH_WINDOW = dt.timedelta(days=1)
"""A marketing touch this close to lead creation (either side) counts as "at creation"."""

OnBackwards = Literal["reject", "clamp"]
ContactRoles = Literal["primary", "all"]
_GRAINS = ("person", "account", "opportunity")


@dataclass(frozen=True)
class FunnelBuildResult(Result):
    """The funnel frame and the entities rejected by its data-level checks.

    Attributes
    ----------
    funnel
        Valid entities, validated by :func:`closedloop_kit.funnel.funnel_schema`
        (eager or lazy like the input tables).
    rejected
        Entities that failed a check: the same columns plus ``reason``.
    grain, taxonomy, period
        The parameters used.
    issues
        Data-quality messages (also issued as :class:`DataQualityWarning`).
    """

    funnel: AnyFrame
    rejected: pl.DataFrame
    grain: str
    taxonomy: Taxonomy
    period: str
    issues: tuple[str, ...] = field(default=())

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: the funnel frame (eager)."""
        return collect(self.funnel)

    def summary(self) -> pl.DataFrame:
        """Entities reaching each stage (valid rows) and rejected rows by reason."""
        f = self.funnel.collect() if isinstance(self.funnel, pl.LazyFrame) else self.funnel
        rows: list[dict[str, object]] = [
            {
                "item": f"stage {s}",
                "rows": int(
                    f.select(
                        (pl.col(f"{s}_at").is_not_null() | pl.col(f"{s}_backfilled")).sum()
                    ).item()
                ),
            }
            for s in self.taxonomy.stages
        ]
        if self.rejected.height:
            by_reason = (
                self.rejected.select(pl.col("reason").str.split("; "))
                .explode("reason")
                .group_by("reason")
                .len()
                .sort("reason")
            )
            rows += [{"item": f"rejected: {r}", "rows": int(n)} for r, n in by_reason.iter_rows()]
        return pl.DataFrame(rows, schema={"item": pl.String, "rows": pl.Int64})

    def _repr_html_(self) -> str:
        n = (
            self.funnel.select(pl.len()).collect().item()
            if isinstance(self.funnel, pl.LazyFrame)
            else self.funnel.height
        )
        head = (
            f"<b>funnel</b> ({html.escape(self.grain)} grain): {n:,} entities, "
            f"{self.rejected.height:,} rejected"
        )
        issues = "".join(f"<li>{html.escape(i)}</li>" for i in self.issues)
        return f"<div>{head}<ul>{issues}</ul>{self.summary()._repr_html_()}</div>"


# -- implementation ----------------------------------------------------------------------
def _rollup(prep: StageEvidence, grain: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Evidence, entity↔person and entity↔opportunity frames at ``grain``."""
    tax = prep.tax
    people, opps, links = prep.people, prep.opps, prep.links
    if grain == "person":
        ep = people.select(pl.col("key").alias("entity_id"), "person_id")
        eo = links.join(people.select("person_id", "key"), on="person_id").select(
            pl.col("key").alias("entity_id"), "opportunity_id"
        )
        pe = prep.person_evidence.join(
            people.select(pl.col("person_id").alias("unit_id"), "key"), on="unit_id"
        ).select(pl.col("key").alias("entity_id"), "stage", "at", "is_response")
        oe = (
            prep.opp_evidence.join(
                links.join(people.select("person_id", "key"), on="person_id").select(
                    "key", pl.col("opportunity_id").alias("unit_id"), "created_at"
                ),
                on="unit_id",
            )
            .with_columns(
                pl.when(pl.col("at").is_null())
                .then(None)
                .otherwise(pl.max_horizontal("at", "created_at"))
                .alias("at")
            )
            .select(pl.col("key").alias("entity_id"), "stage", "at", "is_response")
        )
    elif grain == "account":
        ep = people.filter(pl.col("account_key").is_not_null()).select(
            pl.col("account_key").alias("entity_id"), "person_id"
        )
        eo = opps.filter(pl.col("account_id").is_not_null()).select(
            pl.col("account_id").alias("entity_id"), "opportunity_id"
        )
        pe = prep.person_evidence.join(ep.rename({"person_id": "unit_id"}), on="unit_id").select(
            "entity_id", "stage", "at", "is_response"
        )
        oe = prep.opp_evidence.join(eo.rename({"opportunity_id": "unit_id"}), on="unit_id").select(
            "entity_id", "stage", "at", "is_response"
        )
    else:
        eo = opps.select(pl.col("opportunity_id").alias("entity_id"), "opportunity_id")
        ep = prep.links.select(pl.col("opportunity_id").alias("entity_id"), "person_id")
        before = list(tax.stages[: tax.stage_index(tax.opportunity_stage)])
        pe = (
            prep.person_evidence.filter(pl.col("stage").is_in(before) & pl.col("at").is_not_null())
            .join(ep.rename({"person_id": "unit_id"}), on="unit_id")
            .join(
                opps.select(pl.col("opportunity_id").alias("entity_id"), "opp_at"), on="entity_id"
            )
            .filter(pl.col("opp_at").is_null() | (pl.col("at") <= pl.col("opp_at")))
            .select("entity_id", "stage", "at", "is_response")
        )
        oe = prep.opp_evidence.select(
            pl.col("unit_id").alias("entity_id"), "stage", "at", "is_response"
        )
    evidence = pl.concat([pe, oe])
    return evidence, ep.unique(), eo.unique()


def _stages_frame(
    evidence: pl.DataFrame,
    tax: Taxonomy,
    on_backwards: str,
    cap: int | None,
    created: pl.DataFrame,
) -> pl.DataFrame:
    """Stage times per entity from its evidence (see :func:`build_from_evidence`).

    ``cap`` is the index of a stage decided by meetings: stages up to it are back-filled
    only from evidence up to it, never from later stages. ``created`` (``entity_id``,
    ``_created``): when the earliest record of each entity's people was created,
    whatever its kind (a contact typed in by sales too).
    """
    stages = tax.stages
    n = len(stages)
    record = pl.col("is_response").not_()
    agg = evidence.group_by("entity_id").agg(
        *[pl.col("at").filter(pl.col("stage") == s).min().alias(f"_obs_{s}") for s in stages],
        *[(pl.col("stage") == s).any().alias(f"_ev_{s}") for s in stages],
        pl.col("at").filter((pl.col("stage") == stages[0]) & record).min().alias("_rec_first"),
    )
    top = pl.max_horizontal(
        [
            pl.when(pl.col(f"_ev_{s}")).then(pl.lit(i)).otherwise(pl.lit(-1))
            for i, s in enumerate(stages)
        ]
    )
    # the entity enters the funnel at its earliest stage with any evidence: a contact
    # that sales typed in and put on a deal enters at the deal, and the lead stages
    # before its entry are not reached (no back-fill below the entry)
    entry = pl.min_horizontal(
        [
            pl.when(pl.col(f"_ev_{s}")).then(pl.lit(i)).otherwise(pl.lit(n))
            for i, s in enumerate(stages)
        ]
    )
    top_low = (
        pl.max_horizontal(
            [
                pl.when(pl.col(f"_ev_{s}")).then(pl.lit(i)).otherwise(pl.lit(-1))
                for i, s in enumerate(stages[: cap + 1])
            ]
        )
        if cap is not None
        else top
    )
    agg = agg.with_columns(top.alias("_top"), entry.alias("_entry"), top_low.alias("_top_low"))
    agg = agg.join(created, on="entity_id", how="left")
    obs = [pl.col(f"_obs_{s}") for s in stages]
    # a milestone observed before the entity existed contradicts it: the row goes
    # backwards. The entity exists from its earliest record (a contact sales typed in
    # counts, although its creation is no lead evidence) or its first-stage record
    # evidence. Evidence for an earlier stage dated after a later stage's (a status moved
    # back, a contact marked MQL after joining a deal, a lead record created for a person
    # already on a deal) is a regression: the stage was reached no later than the later
    # one, so its time is clamped to it and flagged back-filled. (A response — a form
    # fill — after later milestones is not a contradiction either.)
    existed = pl.min_horizontal("_rec_first", "_created")
    back = [
        pl.when((obs[i] < existed).fill_null(False)).then(pl.lit(s)).otherwise(None)
        for i, s in enumerate(stages)
        if i > 0
    ]
    agg = agg.with_columns(pl.concat_list(back).list.drop_nulls().alias("_backwards"))
    if on_backwards == "clamp":
        agg = agg.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("_backwards"))
    clamped = [pl.min_horizontal(obs[i:]).alias(f"_cl_{s}") for i, s in enumerate(stages)]
    agg = agg.with_columns(
        clamped + [pl.col(f"_obs_{s}").is_not_null().alias(f"_had_{s}") for s in stages]
    )
    agg = agg.with_columns(
        [
            (pl.col(f"_cl_{s}") != pl.col(f"_obs_{s}")).fill_null(False).alias(f"_moved_{s}")
            for s in stages
        ]
    ).with_columns([pl.col(f"_cl_{s}").alias(f"_obs_{s}") for s in stages])
    obs = [pl.col(f"_obs_{s}") for s in stages]
    latest = pl.max_horizontal(obs)
    cols = []
    flags = []
    for i, s in enumerate(stages):
        upper = pl.col("_top_low") if cap is not None and i <= cap else pl.col("_top")
        reached = (upper >= i) & (pl.col("_entry") <= i)
        cols.append(
            pl.when(reached).then(pl.coalesce([*obs[i:], latest])).otherwise(None).alias(f"{s}_at")
        )
        flag = (reached & pl.col(f"_had_{s}").not_()) | pl.col(f"_moved_{s}")
        flags.append(flag.alias(f"{s}_backfilled"))
    out = agg.with_columns(cols + flags)
    out = out.with_columns(
        pl.when(pl.col("_top") >= 0)
        .then(pl.col("_top").replace_strict(list(range(n)), list(stages), return_dtype=pl.String))
        .otherwise(None)
        .alias("reached_stage")
    )
    return out.select(
        "entity_id",
        *[f"{s}_at" for s in stages],
        *[f"{s}_backfilled" for s in stages],
        *[f"_ev_{s}" for s in stages],
        "_top",
        "_backwards",
        "reached_stage",
    )


def _first_non_null(name: str) -> pl.Expr:
    return pl.col(name).drop_nulls().first().alias(name)


def _people_dims(prep: StageEvidence, ep: pl.DataFrame) -> pl.DataFrame:
    people = prep.people.join(prep.campaign_dims, on="person_id", how="left").join(
        prep.owner_divisions, on="person_id", how="left"
    )
    return (
        ep.join(people, on="person_id")
        .sort(["created_at", "person_id"], nulls_last=True)
        .group_by("entity_id")
        .agg(
            pl.len().alias("_n_people"),
            pl.col("disqualified").sum().alias("_n_disq"),
            pl.col("disqualified_at").max().alias("_disq_at"),
            _first_non_null("account_key"),
            _first_non_null("lead_source"),
            _first_non_null("sourced_by"),
            _first_non_null("product_line"),
            _first_non_null("sales_division"),
            _first_non_null("region"),
            _first_non_null("_c_product_line"),
            _first_non_null("_c_sales_division"),
            _first_non_null("_u_sales_division"),
            _first_non_null("_u_role"),
        )
        .rename(
            {
                "lead_source": "_p_lead_source",
                "sourced_by": "_p_sourced_by",
                "product_line": "_p_product_line",
                "sales_division": "_p_sales_division",
                "region": "_p_region",
            }
        )
    )


def _opp_dims(prep: StageEvidence, eo: pl.DataFrame) -> pl.DataFrame:
    has_corp = pl.col("amount_corporate").is_not_null()
    return (
        eo.join(prep.opps, on="opportunity_id")
        .sort(["opp_at", "opportunity_id"], nulls_last=True)
        .group_by("entity_id")
        .agg(
            pl.len().cast(pl.Int64).alias("n_opportunities"),
            pl.col("is_open").sum().alias("_n_open"),
            pl.col("won").sum().alias("_n_won"),
            pl.col("lost").sum().alias("_n_lost"),
            pl.col("lost_at").max().alias("_lost_at"),
            pl.col("bad_money").sum().alias("_n_bad_money"),
            pl.col("currency").drop_nulls().n_unique().alias("_n_cur"),
            pl.col("currency").drop_nulls().first().alias("_cur"),
            pl.col("amount").sum().alias("_amount"),
            pl.col("amount").is_not_null().any().alias("_has_amount"),
            pl.when(has_corp.any())
            .then(pl.col("amount_corporate").sum())
            .alias("amount_corporate"),
            pl.when(has_corp.any())
            .then(pl.col("amount_corporate").filter(pl.col("won")).sum())
            .alias("won_amount_corporate"),
            _first_non_null("account_id").alias("_o_account_id"),
            _first_non_null("lead_source").alias("_o_lead_source"),
            pl.col("sourced_by")
            .filter(pl.col("sourced_by") != "unknown")
            .drop_nulls()
            .first()
            .alias("_o_sourced_by"),
            _first_non_null("product_line").alias("_o_product_line"),
            _first_non_null("sales_division").alias("_o_sales_division"),
            pl.col("opportunity_id").filter(pl.col("bad_money")).first().alias("_bad_example"),
        )
    )


def _touch_dims(
    prep: StageEvidence, ep: pl.DataFrame, frame: pl.DataFrame, grain: str, first: str
) -> pl.DataFrame:
    t = prep.touches
    cols = ["occurred_at", "channel", "campaign_id"]
    per_entity = [t.join(ep, on="person_id").select("entity_id", *cols)]
    if grain == "account":
        per_entity.append(
            t.filter(pl.col("account_id").is_not_null()).select(
                pl.col("account_id").alias("entity_id"), *cols
            )
        )
    touches = (
        pl.concat(per_entity)
        .unique()
        .join(frame.select("entity_id", f"{first}_at", "_opp_at"), on="entity_id")
    )
    if grain == "opportunity":
        touches = touches.filter(
            pl.col("_opp_at").is_null() | (pl.col("occurred_at") <= pl.col("_opp_at"))
        )
    touches = touches.sort(["occurred_at", "channel"], nulls_last=True)
    first_touch = touches.group_by("entity_id").agg(
        pl.col("channel").first().alias("first_touch_channel"),
        pl.col("occurred_at").first().alias("first_touch_at"),
        pl.col("campaign_id").drop_nulls().first().alias("first_touch_campaign_id"),
    )
    w = CREATION_TOUCH_WINDOW
    creation = (
        touches.filter(
            (pl.col("occurred_at") >= pl.col(f"{first}_at") - w)
            & (pl.col("occurred_at") <= pl.col(f"{first}_at") + w)
        )
        .group_by("entity_id")
        .agg(
            pl.col("channel").first().fill_null("Unassigned").alias("creation_touch_channel"),
            pl.lit(True).alias("_creation_touch"),
        )
    )
    return first_touch.join(creation, on="entity_id", how="full", coalesce=True)


def sourced_by_exprs(tax: Taxonomy) -> tuple[pl.Expr, pl.Expr]:
    """``(sourced_by, sourced_by_rule)`` from the explicit field, lead source, owner, touch.

    Rules, first match wins: 1. ``sourced_by_explicit`` (``"explicit"``); 2. the lead
    source through :attr:`Taxonomy.lead_source_map` (``"lead_source"``); 3. where the lead
    source says nothing (missing, or a value the map does not know, such as HubSpot's
    "Offline Sources"), the role of the person record's owner through
    :attr:`Taxonomy.owner_role_map` (``"owner_role"``: a partner manager's record is
    partner-sourced, an account executive's sales-sourced; an SDR works both inbound
    and outbound leads and says nothing); 4. a marketing touch within a day of lead
    creation → ``"web_direct"`` when its channel is Direct, else ``"marketing"``
    (``"touch_at_creation"``); otherwise ``"unknown"`` (``"none"``).
    """
    by_source = map_values(pl.col("lead_source"), tax.lead_source_lookup())
    by_owner = owner_role_expr(pl.col("owner_role"), tax)
    is_direct = pl.col("creation_touch_channel").fill_null("").str.to_lowercase().str.strip_chars()
    by_touch = (
        pl.when(pl.col("_creation_touch").fill_null(False))
        .then(
            pl.when(is_direct == "direct").then(pl.lit("web_direct")).otherwise(pl.lit("marketing"))
        )
        .otherwise(None)
    )
    sourced = pl.coalesce(
        pl.col("sourced_by_explicit"), by_source, by_touch, by_owner, pl.lit("unknown")
    )
    rule = (
        pl.when(pl.col("sourced_by_explicit").is_not_null())
        .then(pl.lit("explicit"))
        .when(by_source.is_not_null())
        .then(pl.lit("lead_source"))
        .when(by_touch.is_not_null())
        .then(pl.lit("touch_at_creation"))
        .when(by_owner.is_not_null())
        .then(pl.lit("owner_role"))
        .otherwise(pl.lit("none"))
    )
    return sourced, rule


def owner_role_expr(role: pl.Expr, tax: Taxonomy) -> pl.Expr:
    """The source an owner's role names (first key of the map found as whole words), else null.

    >>> import polars as pl
    >>> from closedloop_kit.config import Taxonomy
    >>> roles = pl.DataFrame({"r": ["EMEA Partner Manager", "North America AE", "APAC SDR",
    ...     "Marketing", "Sales Development Representative", None]})
    >>> roles.select(owner_role_expr(pl.col("r"), Taxonomy.default()).alias("s"))["s"].to_list()
    ['partner', 'sales', None, 'marketing', None, None]
    """
    words = pl.concat_str(
        pl.lit(" "),
        role.cast(pl.String).str.to_lowercase().str.replace_all(r"[^a-z0-9]+", " "),
        pl.lit(" "),
    )
    out: pl.Expr = pl.lit(None, dtype=pl.String)
    for key, source in reversed(list(tax.owner_role_lookup().items())):
        hit = words.str.contains(f" {key} ", literal=True)
        out = pl.when(hit).then(pl.lit(source, dtype=pl.String)).otherwise(out)
    return out


_EXPLICIT_OK = ["marketing", "sales", "partner", "web_direct"]

PRODUCT_LINE_RULES: tuple[tuple[str, str], ...] = (
    ("_p_product_line", "person"),
    ("_o_product_line", "opportunity"),
    ("_c_product_line", "campaign"),
)
"""Where a product line comes from, best evidence first: the product interest recorded on
the lead/contact (what the person asked about), the entity's own deal, the first campaign
with a product line that reached the person. The person's field comes first because a
deal can be another buyer's: a contact put on a colleague's open deal for another
product keeps the product they came for. At opportunity and account grain the deal's
product line comes first (:data:`DEAL_PRODUCT_LINE_RULES`)."""

DEAL_PRODUCT_LINE_RULES: tuple[tuple[str, str], ...] = (
    ("_o_product_line", "opportunity"),
    ("_p_product_line", "person"),
    ("_c_product_line", "campaign"),
)
"""Product line of a deal or an account: the deal's own, then its people's, then the
sourcing campaign's."""

SALES_DIVISION_RULES: tuple[tuple[str, str], ...] = (
    ("_o_sales_division", "opportunity"),
    ("_p_sales_division", "person"),
    ("_a_sales_division", "account"),
    ("_u_sales_division", "owner"),
    ("_c_sales_division", "campaign"),
)
"""Where a sales division comes from, best evidence first: the deal, the person's own
field, the account's division, the record owner's division, the sourcing campaign."""


def dimension_exprs(name: str, rules: tuple[tuple[str, str], ...]) -> list[pl.Expr]:
    """``name`` from the first non-null source column and ``<name>_rule`` naming it."""
    value = pl.coalesce([pl.col(c) for c, _ in rules]).alias(name)
    rule = pl.lit("none")
    for col, label in reversed(rules):
        rule = pl.when(pl.col(col).is_not_null()).then(pl.lit(label)).otherwise(rule)
    return [value, rule.alias(f"{name}_rule")]


def build_from_evidence(
    prep: StageEvidence,
    *,
    grain: str = "person",
    period: str = "month",
    fiscal: FiscalCalendar | None = None,
    on_backwards: str = "reject",
) -> FunnelBuildResult:
    """The funnel frame: one row per entity with the time each stage was reached.

    :class:`closedloop_kit.Prepared` gathers the stage evidence once
    (:class:`StageEvidence`) and builds every grain from it with this function
    (``prepared.funnel(grain)``), so each stage is decided by one rule everywhere.

    Each stage is reached at the *earliest* evidence for it (see
    :class:`closedloop_kit.Taxonomy`). A stage the entity skipped — a later stage was
    reached but this one has no evidence, or only undated evidence (a current status
    without history) — is **back-filled**: it gets the timestamp of the next reached
    stage that has one (or, when no later stage has one, the entity's latest known
    stage timestamp) and ``<stage>_backfilled`` is True. ``<stage>_at`` null with
    ``<stage>_backfilled`` True means reached, but the data has no timestamp at all.

    Grains:

    - ``"person"``: leads, contacts and prospects; a contact made by converting a lead
      joins the lead's row; ``golden_person_id`` (added by identity resolution) is used
      when present, else ``merged_into_id``, else ``person_id``. Deals reach a person
      through contact roles and lead conversion, at ``max(deal time, person created)``;
      a person created after a deal closed is not linked to it.
    - ``"opportunity"``: stages from the deal's own timestamps and history, plus the
      earliest lead milestones (stages before ``opportunity``) of the lead that
      converted into it and its primary contact (every contact role with
      ``contact_roles="all"`` or when none is primary) that happened before the deal
      was created.
    - ``"account"``: the earliest milestone across the account's people and deals
      (people without an account are left out at this grain).

    Exits: ``lost`` when every linked deal is closed and none won; ``disqualified``
    when the entity has no deal and every person record's current (else latest
    recorded) status maps to the disqualified exit.

    Regressions are not errors: evidence for a stage dated after a later stage's (a
    status moved back, a contact marked MQL after joining a deal) means the stage was
    reached no later than the later one, so its time is clamped to it and flagged
    back-filled; history rows that move back are ignored.

    Checks (rows that fail go to :meth:`Prepared.funnel_result`'s ``.rejected`` with a
    ``reason``, never silently dropped; ``build`` warns with the count): stage
    timestamps never go backwards — no milestone before the entity existed (the
    earliest record of its people, of any kind — of a deal, its contacts — or its
    first-stage evidence);
    ``on_backwards="clamp"`` instead moves the first stage back to the earliest
    milestone and flags it back-filled; won implies an observed opportunity;
    deal amounts are ≥ 0 and have a currency.

    Parameters
    ----------
    prep
        The stage evidence of the canonical tables under a taxonomy (people,
        opportunities, opportunity_contacts, stage_history, activities, touchpoints,
        accounts, campaigns and users are read), with the contact-role rule
        ``contact_roles`` (below).
    grain
        ``"person"``, ``"account"`` or ``"opportunity"``.
    period
        Period of the ``cohort`` label (first-stage time): ``"month"``, ``"quarter"``...
    fiscal
        Fiscal calendar for quarter/year labels.
    on_backwards
        ``"reject"`` (default) or ``"clamp"``.
    contact_roles (of the evidence)
        Which person↔deal links count (person grain: a person's own deals; opportunity
        grain: whose lead milestones start the deal): ``"primary"`` (default:
        the deal the lead converted into and deals where the person is the primary
        contact — every contact of a deal that marks none as primary) or ``"all"``
        (every contact role, so the whole buying committee reaches the opportunity stage
        and earlier stages are back-filled for them).

    Returns
    -------
    polars frame
        Validated by :func:`closedloop_kit.prepared.funnel_schema`; lazy if the people
        table is lazy. Columns: ``entity_id, grain, account_id, <stage>_at…,
        <stage>_backfilled…, exit_stage, exit_at, is_open, reached_stage, cohort,
        first_touch_channel, first_touch_at, first_touch_campaign_id, lead_source,
        sourced_by, sourced_by_rule, sourced_by_explicit, creation_touch_channel,
        product_line, product_line_rule, sales_division, sales_division_rule, region,
        n_opportunities, amount, currency, amount_corporate, won_amount_corporate,
        observed_until``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> import closedloop_kit as clk
    >>> t = lambda d: dt.datetime(2026, 1, d, tzinfo=dt.timezone.utc)
    >>> people = pl.DataFrame({"person_id": ["sf:1", "sf:2"], "person_type": ["lead"] * 2,
    ...     "created_at": [t(1), t(2)], "status_raw": ["Qualified", "Open - Not Contacted"]})
    >>> history = pl.DataFrame({"entity_type": ["person"], "entity_id": ["sf:1"],
    ...     "field": ["status"], "new_value": ["Qualified"], "changed_at": [t(9)]})
    >>> data = clk.ClosedLoopData({"people": clk.validate(people, "people").valid,
    ...     "stage_history": clk.validate(history, "stage_history").valid})
    >>> f = clk.prepare(data, identity=False).funnel("person")
    >>> f.select("entity_id", "reached_stage", pl.col("mql_at").dt.day(), "mql_backfilled")
    shape: (2, 4)
    ┌───────────┬───────────────┬────────┬────────────────┐
    │ entity_id ┆ reached_stage ┆ mql_at ┆ mql_backfilled │
    │ ---       ┆ ---           ┆ ---    ┆ ---            │
    │ str       ┆ str           ┆ i8     ┆ bool           │
    ╞═══════════╪═══════════════╪════════╪════════════════╡
    │ sf:1      ┆ sales_ready   ┆ 9      ┆ true           │
    │ sf:2      ┆ raw_lead      ┆ null   ┆ false          │
    └───────────┴───────────────┴────────┴────────────────┘

    ``sf:1`` skipped ``mql``: it is back-filled to the ``sales_ready`` time (9 Jan).
    """
    if grain not in _GRAINS:
        msg = f"`grain` must be one of {_GRAINS}, got {grain!r}"
        raise ValueError(msg)
    if on_backwards not in ("reject", "clamp"):
        msg = f"`on_backwards` must be one of ('reject', 'clamp'), got {on_backwards!r}"
        raise ValueError(msg)
    tax = prep.tax
    cal = fiscal or FiscalCalendar()
    data = prep.data
    stages = tax.stages
    first = stages[0]
    evidence, ep, eo = _rollup(prep, grain)
    cap = (
        tax.stage_index(tax.meeting_stage)
        if prep.meetings_decide and tax.meeting_stage is not None
        else None
    )
    # the entity exists from the earliest record of its people (of a deal: its contacts)
    created = (
        ep.join(prep.people.select("person_id", "created_at"), on="person_id")
        .group_by("entity_id")
        .agg(pl.col("created_at").min().cast(UTC_DATETIME).alias("_created"))
    )
    frame = _stages_frame(evidence, tax, on_backwards, cap, created)

    pdims = _people_dims(prep, ep)
    odims = _opp_dims(prep, eo)
    frame = frame.join(pdims, on="entity_id", how="left").join(odims, on="entity_id", how="left")
    frame = frame.with_columns(pl.col(f"{tax.opportunity_stage}_at").alias("_opp_at"))
    tdims = _touch_dims(prep, ep, frame, grain, first)
    frame = frame.join(tdims, on="entity_id", how="left")

    if grain == "account":
        account_id = pl.col("entity_id")
    elif grain == "opportunity":
        account_id = pl.coalesce("_o_account_id", "account_key")
    else:
        account_id = pl.coalesce("account_key", "_o_account_id")
    frame = frame.with_columns(account_id.alias("account_id"))
    acc = prep.accounts.select(
        pl.col("account_id").alias("_acc"),
        pl.col("region").alias("_a_region"),
        pl.col("sales_division").alias("_a_sales_division"),
    )
    frame = frame.join(acc, left_on="account_id", right_on="_acc", how="left")

    if grain == "opportunity":
        lead_source = pl.coalesce("_o_lead_source", "_p_lead_source")
        explicit = pl.coalesce("_o_sourced_by", "_p_sourced_by")
    else:
        lead_source = pl.coalesce("_p_lead_source", "_o_lead_source")
        explicit = pl.coalesce("_p_sourced_by", "_o_sourced_by")
    explicit = pl.when(explicit.is_in(_EXPLICIT_OK)).then(explicit).otherwise(None)
    won_idx = tax.stage_index(tax.won_stage)
    won_reached = pl.col("_top") >= won_idx
    n_opps = pl.col("n_opportunities").fill_null(0)
    exit_stage = (
        pl.when(won_reached)
        .then(None)
        .when((n_opps > 0) & (pl.col("_n_open") == 0) & (pl.col("_n_lost") > 0))
        .then(pl.lit(tax.lost_exit))
        .when(
            (n_opps == 0) & (pl.col("_n_people") > 0) & (pl.col("_n_disq") == pl.col("_n_people"))
        )
        .then(pl.lit(tax.disqualified_exit))
        .otherwise(None)
    )
    frame = frame.with_columns(
        lead_source.alias("lead_source"),
        explicit.alias("sourced_by_explicit"),
        *dimension_exprs(
            "product_line", PRODUCT_LINE_RULES if grain == "person" else DEAL_PRODUCT_LINE_RULES
        ),
        *dimension_exprs("sales_division", SALES_DIVISION_RULES),
        pl.coalesce("_a_region", "_p_region").alias("region"),
        n_opps.cast(pl.Int64).alias("n_opportunities"),
        pl.when(pl.col("_n_cur") == 1).then(pl.col("_amount")).alias("amount"),
        pl.when(pl.col("_n_cur") == 1).then(pl.col("_cur")).alias("currency"),
        exit_stage.alias("exit_stage"),
        pl.lit(grain).alias("grain"),
        pl.lit(prep.observed_until, dtype=UTC_DATETIME).alias("observed_until"),
        cal.period_expr(pl.col(f"{first}_at"), period).alias("cohort"),
    )
    # amounts without any currency at all: keep the (invalid) amount so the check sees it
    frame = frame.with_columns(
        pl.when((pl.col("_n_cur").fill_null(0) == 0) & pl.col("_has_amount").fill_null(False))
        .then(pl.col("_amount"))
        .otherwise(pl.col("amount"))
        .alias("amount")
    )
    frame = frame.with_columns(
        pl.when(pl.col("exit_stage") == tax.lost_exit)
        .then(pl.col("_lost_at"))
        .when(pl.col("exit_stage") == tax.disqualified_exit)
        .then(pl.col("_disq_at"))
        .otherwise(None)
        .cast(UTC_DATETIME)
        .alias("exit_at"),
        (won_reached.not_() & pl.col("exit_stage").is_null()).alias("is_open"),
    )
    frame = frame.with_columns(pl.col("_u_role").alias("owner_role"))
    sourced, rule = sourced_by_exprs(tax)
    frame = frame.with_columns(sourced.alias("sourced_by"), rule.alias("sourced_by_rule"))

    opp = tax.opportunity_stage
    reasons = pl.concat_list(
        pl.when(pl.col("_backwards").list.len() > 0)
        .then(
            pl.format(
                "stage timestamps go backwards ({} before the first stage)",
                pl.col("_backwards").list.join(", "),
            )
        )
        .otherwise(None),
        pl.when(won_reached & (pl.col(f"{opp}_backfilled") | pl.col(f"_ev_{opp}").not_()))
        .then(pl.lit(f"`{tax.won_stage}` without an observed `{opp}`"))
        .otherwise(None),
        pl.when(pl.col("_n_bad_money").fill_null(0) > 0)
        .then(
            pl.format(
                "deal amount negative or without a currency (e.g. {})", pl.col("_bad_example")
            )
        )
        .otherwise(None),
    ).list.drop_nulls()
    frame = frame.with_columns(
        pl.when(reasons.list.len() > 0)
        .then(reasons.list.join("; "))
        .otherwise(None)
        .alias("reason")
    )
    columns = [
        "entity_id",
        "grain",
        "account_id",
        *[f"{s}_at" for s in stages],
        *[f"{s}_backfilled" for s in stages],
        "exit_stage",
        "exit_at",
        "is_open",
        "reached_stage",
        "cohort",
        "first_touch_channel",
        "first_touch_at",
        "first_touch_campaign_id",
        "lead_source",
        "sourced_by",
        "sourced_by_rule",
        "sourced_by_explicit",
        "creation_touch_channel",
        "owner_role",
        "product_line",
        "product_line_rule",
        "sales_division",
        "sales_division_rule",
        "region",
        "n_opportunities",
        "amount",
        "currency",
        "amount_corporate",
        "won_amount_corporate",
        "observed_until",
    ]
    frame = frame.sort("entity_id")
    valid = frame.filter(pl.col("reason").is_null()).select(columns)
    rejected = frame.filter(pl.col("reason").is_not_null()).select([*columns, "reason"])
    _validate(valid, tax)

    issues: list[str] = []
    mismatch = prep.converted_status_mismatch
    if mismatch:
        values = ", ".join(repr(v) for v in tax.converted_statuses)
        issues.append(
            f"{len(mismatch)} people have a converted status ({values}) but `is_converted` "
            f"is false, e.g. {mismatch[:5]}; they count as reaching "
            f"{tax.stage_of(tax.converted_statuses[0]) or tax.converted_stage!r} from their "
            "status, with an imputed (back-filled) timestamp and no conversion"
        )
    if rejected.height:
        by = (
            rejected.select(pl.col("reason").str.split("; "))
            .explode("reason")
            .with_columns(pl.col("reason").str.replace(r" \(.*\)$", ""))
            .group_by("reason")
            .len()
            .sort("reason")
        )
        detail = "; ".join(f"{r}: {n}" for r, n in by.iter_rows())
        issues.append(
            f"{rejected.height} of {frame.height} {grain} rows rejected by the funnel checks "
            f"({detail}), e.g. {rejected['entity_id'].head(5).to_list()}; "
            "see `prepared.funnel_result(...).rejected`"
        )
    template = data["people"] if grain != "opportunity" else data["opportunities"]
    out: AnyFrame = valid.lazy() if isinstance(template, pl.LazyFrame) else valid
    return FunnelBuildResult(
        funnel=out,
        rejected=rejected,
        grain=grain,
        taxonomy=tax,
        period=period,
        issues=tuple(issues),
    )


def _validate(frame: pl.DataFrame, tax: Taxonomy) -> None:
    import pandera.errors

    from closedloop_kit.prepared._schema import funnel_schema

    try:
        funnel_schema(tax).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:  # pragma: no cover - a bug in build
        msg = f"internal error: the funnel frame fails FunnelSchema:\n{exc.failure_cases}"
        raise DataContractError(msg, schema_name="FunnelSchema") from None


def stage_columns(columns: list[str]) -> list[str]:
    """Stage names of a funnel frame, in order: ``<s>_at`` columns with ``<s>_backfilled``."""
    present = set(columns)
    return [c[:-3] for c in columns if c.endswith("_at") and f"{c[:-3]}_backfilled" in present]
