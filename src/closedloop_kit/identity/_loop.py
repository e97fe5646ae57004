"""The loop-closure rate: how much won revenue can be traced back to marketing touches."""

from __future__ import annotations

import html
from dataclasses import dataclass

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit._core.result import Result

__all__ = ["LOOP_REASONS", "LoopClosureResult", "loop_closure"]

LOOP_REASONS: tuple[str, ...] = (
    "closed",
    "account_unmatched",
    "no_person_on_opportunity",
    "touches_only_after_close",
    "person_with_no_touches",
)
"""Status of a won opportunity, in the order they are decided."""

_REASON_SCHEMA = {
    "reason": pl.String,
    "opportunities": pl.Int64,
    "revenue": pl.Float64,
    "opportunity_share": pl.Float64,
    "revenue_share": pl.Float64,
}


@dataclass(frozen=True)
class LoopClosureResult(Result):
    """Share of won deals (and revenue) whose account had a marketing touch before close.

    Attributes
    ----------
    by_opportunity
        One row per won opportunity: ``opportunity_id``, ``account_id``, ``revenue``,
        ``closed_at`` (effective close time), ``touches_before_close``,
        ``first_touch_at``, ``reason`` (one of :data:`LOOP_REASONS`).
    by_reason
        ``reason``, ``opportunities``, ``revenue``, ``opportunity_share``,
        ``revenue_share`` (shares of all won opportunities / revenue).
    revenue_rate
        The headline loop-closure rate: closed revenue / won revenue.
    opportunity_rate
        Closed won opportunities / won opportunities.
    """

    by_opportunity: pl.DataFrame
    by_reason: pl.DataFrame
    revenue_rate: float
    opportunity_rate: float

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: one row per won opportunity with its loop status."""
        return self.by_opportunity

    @property
    def n_won(self) -> int:
        """Won opportunities considered."""
        return self.by_opportunity.height

    def summary(self) -> pl.DataFrame:
        """The breakdown by reason (``closed`` first)."""
        return self.by_reason

    def __repr__(self) -> str:
        return (
            f"LoopClosureResult(revenue_rate={self.revenue_rate:.3f}, "
            f"opportunity_rate={self.opportunity_rate:.3f}, won={self.n_won})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Loop-closure rate</b>: {self.revenue_rate:.1%} of won revenue, "
            f"{self.opportunity_rate:.1%} of {self.n_won:,} won opportunities "
            f"{html.escape('(account touched by marketing before close)')}"
            f"{self.by_reason._repr_html_()}</div>"
        )


def _opt(frame: pl.DataFrame | pl.LazyFrame, col: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(col) if col in frame.collect_schema().names() else pl.lit(None, dtype=dtype)


def loop_closure(
    opportunities: pl.DataFrame | pl.LazyFrame,
    touchpoints: pl.DataFrame | pl.LazyFrame,
    *,
    people: pl.DataFrame | pl.LazyFrame | None = None,
    opportunity_contacts: pl.DataFrame | pl.LazyFrame | None = None,
    accounts: pl.DataFrame | pl.LazyFrame | None = None,
) -> LoopClosureResult:
    r"""Loop-closure rate of won opportunities, with the rest broken down by reason.

    A won opportunity (``is_won``, not deleted, not merged away) is *closed* when at
    least one marketing touch (``is_marketing``; unknown counts as marketing) of its
    account (``touchpoints.account_id``) or of one of its contacts
    (``opportunity_contacts``, by golden person) happened at or before it closed
    (``closed_at``, else the end of ``close_date``). Its revenue is
    ``amount_corporate``, falling back to ``amount``.

    .. math::

        \text{loop-closure rate} = \frac{\sum_{o \in \text{won, closed}} r_o}
        {\sum_{o \in \text{won}} r_o}

    The others get the first reason that applies: ``account_unmatched`` (no account,
    or an account not in ``accounts``, and no contacts), ``touches_only_after_close``
    (marketing touches exist, all after the close), ``no_person_on_opportunity`` (no
    contact roles and no people at the account) and ``person_with_no_touches``.

    Parameters
    ----------
    opportunities, touchpoints
        Canonical tables (touchpoints after :func:`resolve`, so they carry the
        golden ``person_id`` and ``account_id``).
    people, opportunity_contacts, accounts
        Optional canonical tables; people map contacts to golden persons and accounts.

    Examples
    --------
    >>> import datetime as dt
    >>> opps = pl.DataFrame({
    ...     "opportunity_id": ["o1", "o2", "o3"], "account_id": ["a1", "a2", None],
    ...     "is_won": [True, True, True], "amount": [100.0, 300.0, 600.0],
    ...     "close_date": [dt.date(2025, 3, 1)] * 3,
    ... })
    >>> touches = pl.DataFrame({
    ...     "account_id": ["a1", "a2"], "person_id": ["p1", "p2"],
    ...     "occurred_at": [dt.datetime(2025, 1, 5, tzinfo=dt.UTC),
    ...                     dt.datetime(2025, 4, 1, tzinfo=dt.UTC)],
    ...     "is_marketing": [True, True],
    ... })
    >>> res = loop_closure(opps, touches)
    >>> res.revenue_rate, round(res.opportunity_rate, 4)   # 100 / 1000, 1 of 3
    (0.1, 0.3333)
    >>> res.by_opportunity["reason"].to_list()
    ['closed', 'touches_only_after_close', 'account_unmatched']
    """
    opps = collect(opportunities)
    touches = touchpoints.lazy()
    ppl = None if people is None else collect(people)
    ocs = None if opportunity_contacts is None else collect(opportunity_contacts)
    accs = None if accounts is None else collect(accounts)
    utc = pl.Datetime("us", "UTC")
    won = opps.filter(
        _opt(opps, "is_won", pl.Boolean()).fill_null(False)
        & ~_opt(opps, "is_deleted", pl.Boolean()).fill_null(False)
        & _opt(opps, "merged_into_id", pl.String()).is_null()
    )
    close_day = _opt(won, "close_date", pl.Date()).cast(utc) + pl.duration(days=1, microseconds=-1)
    won = won.select(
        pl.col("opportunity_id"),
        _opt(won, "account_id", pl.String()).alias("account_id"),
        pl.coalesce(_opt(won, "amount_corporate", pl.Float64()), _opt(won, "amount", pl.Float64()))
        .fill_null(0.0)
        .alias("revenue"),
        pl.coalesce(_opt(won, "closed_at", utc).cast(utc), close_day).alias("closed_at"),
    )
    # golden person of each record, and the account each golden person belongs to
    golden = pl.DataFrame(schema={"person_id": pl.String, "golden": pl.String})
    person_account = pl.DataFrame(schema={"golden": pl.String, "account_id": pl.String})
    if ppl is not None and ppl.height:
        g = _opt(ppl, "golden_person_id", pl.String())
        golden = ppl.select(
            pl.col("person_id"), pl.coalesce(g, pl.col("person_id")).alias("golden")
        )
        person_account = (
            ppl.select(
                pl.coalesce(g, pl.col("person_id")).alias("golden"),
                _opt(ppl, "account_id", pl.String()).alias("account_id"),
            )
            .filter(pl.col("account_id").is_not_null())
            .unique()
        )
    # the won deals' contacts (golden persons)
    contacts = pl.DataFrame(schema={"opportunity_id": pl.String, "golden": pl.String})
    if ocs is not None and ocs.height:
        contacts = (
            ocs.select("opportunity_id", "person_id")
            .join(golden, on="person_id", how="left")
            .select("opportunity_id", pl.coalesce("golden", "person_id").alias("golden"))
            .unique()
        )
    # only marketing touches of a won deal's account or of a record of one of its
    # contacts can reach it: one streaming pass keeps those (a superset; the joins
    # below decide), so a large touch table is never held in memory
    won_ids = won["opportunity_id"].implode()
    contact_goldens = contacts.filter(pl.col("opportunity_id").is_in(won_ids))["golden"].unique()
    in_contacts = pl.col("golden").is_in(contact_goldens.implode())
    records = pl.concat([golden.filter(in_contacts)["person_id"], contact_goldens]).unique()
    mk = (
        touches.filter(_opt(touches, "is_marketing", pl.Boolean()).fill_null(True))
        .select(
            _opt(touches, "account_id", pl.String()).alias("account_id"),
            _opt(touches, "person_id", pl.String()).alias("person_id"),
            pl.col("occurred_at").cast(utc),
        )
        .filter(
            pl.col("account_id").is_in(won["account_id"].drop_nulls().unique().implode())
            | pl.col("person_id").is_in(records.implode())
        )
        .collect(engine="streaming")
    )
    mk = mk.join(golden, on="person_id", how="left").with_columns(
        pl.coalesce("golden", "person_id").alias("golden")
    )
    # touches reach an opportunity through its account ...
    via_account = won.select("opportunity_id", "account_id", "closed_at").join(
        mk.filter(pl.col("account_id").is_not_null()).select("account_id", "occurred_at"),
        on="account_id",
    )
    # ... or through its contacts
    via_contact = (
        won.select("opportunity_id", "closed_at")
        .join(contacts, on="opportunity_id")
        .join(mk.select("golden", "occurred_at"), on="golden")
    )
    hits = pl.concat(
        [
            via_account.select("opportunity_id", "closed_at", "occurred_at"),
            via_contact.select("opportunity_id", "closed_at", "occurred_at"),
        ]
    )
    touch_stats = hits.group_by("opportunity_id").agg(
        (pl.col("occurred_at") <= pl.col("closed_at")).sum().cast(pl.Int64).alias("before"),
        pl.len().cast(pl.Int64).alias("any_touch"),
        pl.col("occurred_at")
        .filter(pl.col("occurred_at") <= pl.col("closed_at"))
        .min()
        .alias("first_touch_at"),
    )
    n_contacts = contacts.group_by("opportunity_id").agg(pl.len().alias("n_contacts"))
    accounts_with_people = (
        person_account.select("account_id").unique().with_columns(pl.lit(True).alias("has_people"))
    )
    out = (
        won.join(touch_stats, on="opportunity_id", how="left")
        .join(n_contacts, on="opportunity_id", how="left")
        .join(accounts_with_people, on="account_id", how="left")
        .with_columns(
            pl.col("before").fill_null(0),
            pl.col("any_touch").fill_null(0),
            pl.col("n_contacts").fill_null(0),
            pl.col("has_people").fill_null(False),
        )
    )
    if accs is not None and accs.height:
        known = accs.select(pl.col("account_id"), pl.lit(True).alias("__known")).unique()
        out = out.join(known, on="account_id", how="left").with_columns(
            pl.col("__known").fill_null(False)
        )
    else:
        out = out.with_columns(pl.col("account_id").is_not_null().alias("__known"))
    reason = (
        pl.when(pl.col("before") > 0)
        .then(pl.lit("closed"))
        .when(~pl.col("__known") & (pl.col("n_contacts") == 0))
        .then(pl.lit("account_unmatched"))
        .when(pl.col("any_touch") > 0)
        .then(pl.lit("touches_only_after_close"))
        .when((pl.col("n_contacts") == 0) & ~pl.col("has_people"))
        .then(pl.lit("no_person_on_opportunity"))
        .otherwise(pl.lit("person_with_no_touches"))
    )
    by_opp = out.with_columns(reason.alias("reason")).select(
        "opportunity_id",
        "account_id",
        "revenue",
        "closed_at",
        pl.col("before").alias("touches_before_close"),
        "first_touch_at",
        "reason",
    )
    by_opp = won.select("opportunity_id").join(
        by_opp, on="opportunity_id", how="left", maintain_order="left"
    )
    total_rev = float(by_opp["revenue"].sum()) if by_opp.height else 0.0
    n = by_opp.height
    agg = by_opp.group_by("reason").agg(
        pl.len().cast(pl.Int64).alias("opportunities"), pl.col("revenue").sum()
    )
    by_reason = (
        pl.DataFrame({"reason": list(LOOP_REASONS)})
        .join(agg, on="reason", how="left", maintain_order="left")
        .with_columns(pl.col("opportunities").fill_null(0), pl.col("revenue").fill_null(0.0))
        .with_columns(
            (pl.col("opportunities") / n if n else pl.lit(0.0)).alias("opportunity_share"),
            (pl.col("revenue") / total_rev if total_rev else pl.lit(0.0)).alias("revenue_share"),
        )
        .select(pl.col(c).cast(t) for c, t in _REASON_SCHEMA.items())
    )
    closed = by_reason.row(0, named=True)
    return LoopClosureResult(
        by_opportunity=by_opp,
        by_reason=by_reason,
        revenue_rate=float(closed["revenue_share"]),
        opportunity_rate=float(closed["opportunity_share"]),
    )
