"""``clk.prepare``: the one model of the business that every analysis reads.

Loading gives canonical tables; :func:`prepare` turns them into a :class:`Prepared`
model, once, with the settings given once:

1. identity resolution (de-duplicated people, visitors stitched to people);
2. touchpoints with one channel (the company's channel rules) and one campaign each;
3. the stage evidence of every person and deal under the company's taxonomy, from which
   the funnel at any grain, the milestones table, the stage counts and the journeys are
   built — so "sales-ready" or "won" mean the same thing in every analysis;
4. money in the corporate currency (dated FX rates, one rule).

Analyses take the prepared model (``roi.summary(credits, prepared)``,
``planning.cost_per_sales_ready(prepared)``) or its frames.
"""

from __future__ import annotations

import datetime as dt
import html
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from closedloop_kit._core.money import convert_to_corporate
from closedloop_kit.config import ChannelRules, FiscalCalendar, IdentityRules, Taxonomy
from closedloop_kit.errors import DataQualityWarning
from closedloop_kit.prepared._costs import cost_rows, match_costs, name_lookup
from closedloop_kit.prepared._evidence import StageEvidence
from closedloop_kit.prepared._funnel import FunnelBuildResult, build_from_evidence
from closedloop_kit.prepared._period import PeriodLike, period_bounds, within
from closedloop_kit.prepared._touches import prepare_touchpoints
from closedloop_kit.store import ClosedLoopData

if TYPE_CHECKING:
    from closedloop_kit.identity import ResolveResult

__all__ = ["Prepared", "prepare"]

Grain = Literal["person", "account", "opportunity"]
HUMAN_STAGES_GRAIN = "person"
"""Lead, MQL and sales-ready are counted per de-duplicated human (person grain);
opportunities and won deals per opportunity."""


@dataclass(frozen=True, eq=False)
class Prepared:
    """The prepared model of one company (build it with :func:`prepare`).

    Attributes
    ----------
    data
        The resolved canonical tables (eager): people with ``golden_person_id``,
        touchpoints with golden ``person_id``, one ``channel`` and a resolved
        ``campaign_id`` (``campaign_match`` says how it was found).
    taxonomy, channels, fiscal
        The settings every analysis uses.
    identity
        The identity-resolution result (its report), or ``None`` when skipped.
    """

    data: ClosedLoopData
    taxonomy: Taxonomy
    channels: ChannelRules
    fiscal: FiscalCalendar
    identity: ResolveResult | None = None
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    # -- settings ----------------------------------------------------------------------
    @property
    def currency(self) -> str:
        """The corporate currency every ``*_corporate`` amount is in."""
        return self.data.corporate_currency

    @property
    def touchpoints(self) -> pl.DataFrame:
        """Touchpoints with their channel and campaign decided (see :func:`prepare`)."""
        return self.data.frame("touchpoints")

    def bounds(self, period: PeriodLike) -> tuple[dt.datetime, dt.datetime] | None:
        """``[start, end)`` of ``period`` in UTC under the fiscal calendar (None = all time).

        ``period`` is a quarter (``"2025Q3"``, fiscal), a year (``"2025"``), a month
        (``"2025-07"``), a ``(start, end)`` pair of dates (end exclusive) or ``None``.
        """
        return period_bounds(period, self.fiscal)

    # -- stage evidence and funnels ----------------------------------------------------
    def evidence(self, contact_roles: str = "primary") -> StageEvidence:
        """The stage evidence of every person and deal, gathered once per role rule."""
        if contact_roles not in ("primary", "all"):
            msg = f"`contact_roles` must be one of ('primary', 'all'), got {contact_roles!r}"
            raise ValueError(msg)
        key = ("evidence", contact_roles)
        if key not in self._cache:
            self._cache[key] = StageEvidence(self.data, self.taxonomy, contact_roles)
        return self._cache[key]  # type: ignore[no-any-return]

    def funnel_result(
        self,
        grain: Grain = "person",
        *,
        cohort: str = "month",
        on_backwards: str = "reject",
        contact_roles: str = "primary",
    ) -> FunnelBuildResult:
        """The funnel at ``grain`` and the entities its checks rejected (cached)."""
        return self._built(grain, cohort, on_backwards, contact_roles)

    def _built(
        self, grain: Grain, cohort: str, on_backwards: str, contact_roles: str
    ) -> FunnelBuildResult:
        key = ("funnel", grain, cohort, on_backwards, contact_roles)
        if key not in self._cache:
            built = build_from_evidence(
                self.evidence(contact_roles),
                grain=grain,
                period=cohort,
                fiscal=self.fiscal,
                on_backwards=on_backwards,
            )
            for msg in built.issues:  # once per funnel, at the line that asked for it
                warnings.warn(msg, DataQualityWarning, stacklevel=3)
            self._cache[key] = built
        return self._cache[key]  # type: ignore[no-any-return]

    def funnel(
        self,
        grain: Grain = "person",
        *,
        period: PeriodLike = None,
        cohort: str = "month",
        on_backwards: str = "reject",
        contact_roles: str = "primary",
    ) -> pl.DataFrame:
        """One row per entity with the time each stage was reached (eager).

        See :func:`closedloop_kit.prepared.build_from_evidence` for the columns and rules. With
        ``period``, the cohort of entities that *entered* the funnel in the period (their
        first reached stage falls in it).
        """
        frame = self._built(grain, cohort, on_backwards, contact_roles).funnel
        out = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        span = self.bounds(period)
        if span is None:
            return out
        entry = pl.min_horizontal([pl.col(f"{s}_at") for s in self.taxonomy.stages])
        return out.filter(within(entry, span))

    @property
    def milestones(self) -> pl.DataFrame:
        """ONE table of milestones: ``grain, entity_id, stage, reached_at, backfilled``.

        Persons (de-duplicated humans) for every stage before the opportunity stage,
        opportunities for the opportunity stage and after; ``reached_at`` is null for a
        stage reached without any timestamp in the data, ``backfilled`` marks an imputed
        time (a skipped stage).
        """
        if "milestones" not in self._cache:
            tax = self.taxonomy
            opp_idx = tax.stage_index(tax.opportunity_stage)
            parts = []
            for grain, stages in (
                ("person", tax.stages[:opp_idx]),
                ("opportunity", tax.stages[opp_idx:]),
            ):
                f = self.funnel(grain)  # type: ignore[arg-type]
                for s in stages:
                    parts.append(
                        f.filter(
                            pl.col(f"{s}_at").is_not_null() | pl.col(f"{s}_backfilled")
                        ).select(
                            pl.lit(grain).alias("grain"),
                            "entity_id",
                            pl.lit(s).alias("stage"),
                            pl.col(f"{s}_at").alias("reached_at"),
                            pl.col(f"{s}_backfilled").alias("backfilled"),
                        )
                    )
            self._cache["milestones"] = pl.concat(parts)
        return self._cache["milestones"]  # type: ignore[no-any-return]

    def stage_counts(self, *, period: PeriodLike = None) -> pl.DataFrame:
        """Entities reaching each stage: humans for the lead stages, deals after.

        ``count`` = entities whose stage was reached (inside ``period`` when given: a
        stage reached without any timestamp then does not count); ``grain`` is
        ``"human"`` or ``"opportunity"``.

        Examples
        --------
        >>> import closedloop_kit as clk
        >>> p = clk.prepare(clk.datasets.load_sample())
        >>> p.stage_counts()["stage"].to_list()
        ['raw_lead', 'mql', 'sales_ready', 'opportunity', 'won']
        """
        m = self.milestones
        span = self.bounds(period)
        if span is not None:
            m = m.filter(within(pl.col("reached_at"), span))
        counts = m.group_by("stage").agg(pl.col("entity_id").n_unique().alias("count"))
        base = pl.DataFrame(
            {
                "stage": list(self.taxonomy.stages),
                "grain": [
                    "human"
                    if i < self.taxonomy.stage_index(self.taxonomy.opportunity_stage)
                    else "opportunity"
                    for i in range(len(self.taxonomy.stages))
                ],
            }
        )
        return (
            base.join(counts, on="stage", how="left", maintain_order="left")
            .with_columns(pl.col("count").fill_null(0).cast(pl.Int64))
            .select("stage", "count", "grain")
        )

    # -- money -------------------------------------------------------------------------
    def costs(self, *, include_campaign_cost: bool = True) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Every cost row in the corporate currency, placed on a campaign (cached).

        Returns ``(costs, unconverted)``: spend rows and campaign actual cost converted at
        the rate valid on their date, each with the ``campaign`` it was placed on,
        ``match_level`` (``campaign_id``, ``campaign_name``, ``channel``, ``unmatched``)
        and the campaign's dimensions (``product_line``, ``sales_division``, ...); rows
        in a currency without a rate are in ``unconverted`` with the reason, never
        summed. See :mod:`closedloop_kit.prepared._costs` for the rules.
        """
        key = ("costs", include_campaign_cost)
        if key not in self._cache:
            data = self.data
            camp = data.frame("campaigns")
            rows, unconverted = cost_rows(
                data.frame("spend"),
                camp,
                data.frame("fx_rates"),
                self.currency,
                include_campaign_cost=include_campaign_cost,
            )
            self._cache[key] = (match_costs(rows, camp, self.campaign_lookup()), unconverted)
        return self._cache[key]  # type: ignore[no-any-return]

    def campaign_lookup(self) -> pl.DataFrame:
        """Normalised campaign name → campaign key: CRM names first, then UTM names."""
        if "lookup" not in self._cache:
            tp = self.touchpoints
            names = (
                tp.select(
                    pl.col("campaign_id").cast(pl.String), pl.col("campaign_name").cast(pl.String)
                )
                .filter(pl.col("campaign_name").is_not_null())
                .unique()
                if {"campaign_id", "campaign_name"} <= set(tp.columns)
                else None
            )
            self._cache["lookup"] = name_lookup(self.data.frame("campaigns"), names)
        return self._cache["lookup"]  # type: ignore[no-any-return]

    def reached_by(self, campaign: str) -> pl.DataFrame:
        """The people (funnel person keys) a campaign reached, and how.

        A person was reached by a campaign when they are a member of it
        (``campaign_members``) or made a touch the prepared model placed on it (its
        ``campaign_id``, the UTM name of an ad campaign booked to it in the spend table,
        or its name). ``campaign`` is a campaign id or name. Returns ``person_id`` (the
        funnel's person key), ``via`` (``member``, or the touch's ``campaign_match``) and
        ``first_at``; empty when the campaign reached nobody.
        """
        camp = self.data.frame("campaigns")
        ids = {campaign}
        if camp.height and "name" in camp.columns:
            ids |= set(camp.filter(pl.col("name") == campaign)["campaign_id"].to_list())
        keys = self.evidence().people.select("person_id", pl.col("key").alias("_key"))
        touches = self.touchpoints.filter(
            pl.col("campaign_id").is_in(list(ids)) & pl.col("person_id").is_not_null()
        ).select(
            "person_id", pl.col("campaign_match").alias("via"), pl.col("occurred_at").alias("at")
        )
        members = (
            self.data.frame("campaign_members")
            .filter(pl.col("campaign_id").is_in(list(ids)))
            .select("person_id", pl.lit("member").alias("via"), pl.col("created_at").alias("at"))
        )
        both = pl.concat([touches, members], how="vertical_relaxed").join(keys, on="person_id")
        return (
            both.sort("at", nulls_last=True)
            .group_by("_key", maintain_order=True)
            .agg(pl.col("via").first(), pl.col("at").min().alias("first_at"))
            .rename({"_key": "person_id"})
            .sort("person_id")
        )

    # -- journeys ----------------------------------------------------------------------
    def journeys(
        self,
        *,
        conversion: str = "opportunity",
        level: Literal["person", "account"] = "person",
        lookback: str | int | dt.timedelta = "180d",
        touch_filter: pl.Expr | None = None,
        include_non_converting: bool = True,
        contacts: Literal["roles", "account"] = "roles",
        transform: str = "none",
        period: PeriodLike = None,
    ) -> pl.DataFrame:
        """Touch-level journeys to a conversion; see :func:`closedloop_kit.prepared.journeys`."""
        from closedloop_kit.prepared._journeys import journeys

        return journeys(
            self,
            conversion=conversion,
            level=level,
            lookback=lookback,
            touch_filter=touch_filter,
            include_non_converting=include_non_converting,
            contacts=contacts,
            transform=transform,
            period=period,
        )

    def conversions(
        self,
        *,
        conversion: str = "opportunity",
        level: Literal["person", "account"] = "person",
        contacts: Literal["roles", "account"] = "roles",
        period: PeriodLike = None,
    ) -> pl.DataFrame:
        """Every journey's conversion, touched or not (see :func:`prepared.conversions`)."""
        from closedloop_kit.prepared._journeys import conversions

        return conversions(
            self, conversion=conversion, level=level, contacts=contacts, period=period
        )

    # -- display -----------------------------------------------------------------------
    def summary(self) -> pl.DataFrame:
        """The stage counts (humans, then opportunities)."""
        return self.stage_counts()

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={n}" for s, n, _ in self.stage_counts().iter_rows())
        return f"Prepared({counts}; currency={self.currency!r})"

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Prepared</b> model (corporate currency {html.escape(self.currency)}, "
            f"{len(self.taxonomy.stages)} stages){self.stage_counts()._repr_html_()}</div>"
        )


def _in_currency(data: ClosedLoopData, currency: str) -> ClosedLoopData:
    """``data`` with its corporate amounts re-expressed in ``currency`` (dated rates).

    Amounts without a rate for their date become null (never converted with a guessed
    rate); :func:`closedloop_kit.load` has already put every reason in the rejects.
    """
    if currency == data.corporate_currency:
        return data
    fx = data.frame("fx_rates")
    tables: dict[str, pl.DataFrame | pl.LazyFrame] = {}
    for name, amount, out, date in (
        (
            "opportunities",
            "amount",
            "amount_corporate",
            pl.coalesce(pl.col("close_date"), pl.col("created_at").dt.date()),
        ),
        ("spend", "cost", "cost_corporate", pl.col("date")),
    ):
        frame = data.frame(name)
        if frame.height and amount in frame.columns:
            tables[name], _ = convert_to_corporate(
                frame, fx, amount=amount, out=out, date=date, corporate_currency=currency
            )
    return ClosedLoopData(
        tables={**data.tables, **tables},
        corporate_currency=currency,
        rejected=data.rejected,
        load_report=data.load_report,
        sources=data.sources,
    )


def prepare(
    data: ClosedLoopData,
    *,
    taxonomy: Taxonomy | None = None,
    channels: ChannelRules | None = None,
    identity: IdentityRules | bool | None = None,
    fiscal: FiscalCalendar | None = None,
    currency: str | None = None,
) -> Prepared:
    """Prepare a company's data once for every analysis (see the module docstring).

    Parameters
    ----------
    data
        Canonical tables (:func:`closedloop_kit.load`, a store, or the sample).
    taxonomy
        Funnel stages and how they are recognised; default :meth:`Taxonomy.default`.
    channels
        Channel rules; default GA4's default channel grouping.
    identity
        Identity rules, ``None`` for the default rules, or ``False`` to use the tables
        as they are (already resolved, or tiny examples without identities).
    fiscal
        Fiscal calendar for quarters and years; default calendar quarters.
    currency
        Corporate currency; default the one the data was loaded in.

    Returns
    -------
    Prepared

    Examples
    --------
    >>> import closedloop_kit as clk
    >>> prepared = clk.prepare(clk.datasets.load_sample())
    >>> prepared.funnel("opportunity").height == prepared.data.opportunities.height
    True
    """
    tax = taxonomy or Taxonomy.default()
    rules = channels or ChannelRules.ga4_default()
    cal = fiscal or FiscalCalendar()
    resolved: ResolveResult | None = None
    base = data.collect()
    if identity is not False:
        from closedloop_kit.identity import resolve

        id_rules = identity if isinstance(identity, IdentityRules) else None
        resolved = resolve(base, rules=id_rules)
        base = resolved.data
    if currency is not None:
        base = _in_currency(base, currency)
    touches = prepare_touchpoints(
        base.frame("touchpoints"),
        campaigns=base.frame("campaigns"),
        spend=base.frame("spend"),
        rules=rules,
    )
    base = base.with_tables(touchpoints=touches)
    return Prepared(data=base, taxonomy=tax, channels=rules, fiscal=cal, identity=resolved)
