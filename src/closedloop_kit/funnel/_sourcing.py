"""``sourcing``: who sourced sales-ready leads, pipeline and bookings, versus commitments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from closedloop_kit._core.frames import collect, like, require_columns
from closedloop_kit._core.result import Result, frames_html
from closedloop_kit._core.types import AnyFrame, FrameT
from closedloop_kit.config import Taxonomy
from closedloop_kit.funnel._common import as_list, reached
from closedloop_kit.prepared import sourced_by_exprs

__all__ = ["METRICS", "SOURCES", "SOURCING_NAMES", "SourcingResult", "sourcing"]

SOURCES = ("marketing", "sales", "partner", "web_direct", "unknown")
METRICS = ("sales_ready", "pipeline", "bookings")
SOURCING_NAMES: Mapping[str, Mapping[str, str]] = {
    "metric": {"sales_ready": "Sales-ready leads", "pipeline": "Pipeline", "bookings": "Bookings"},
    "source": {
        "marketing": "Marketing",
        "sales": "Sales",
        "partner": "Channel partners",
        "web_direct": "Web direct",
        "unknown": "Unknown",
    },
}
"""How the metrics and sources read for people: ``names=`` of :func:`closedloop_kit.viz.table`."""
_ALIASES = {"sales_ready_leads": "sales_ready", "sql": "sales_ready", "booking": "bookings"}


@dataclass(frozen=True)
class SourcingResult(Result):
    """Shares of sales-ready leads, pipeline and bookings by source, and commitment gaps.

    Attributes
    ----------
    shares
        ``<by>…, metric, source, value, total, share``: ``value`` is a count of
        sales-ready entities (``sales_ready``) or a sum in the corporate currency
        (``pipeline``, ``bookings``); ``share = value / total`` within the group.
    comparison
        With ``commitments``: ``<by>…, metric, source, committed_share, actual_share,
        gap, total, committed_value, actual_value, gap_value, shortfall_value, met``
        where ``gap = actual_share − committed_share`` and
        ``gap_value = actual_value − committed_share · total`` (in entities or money);
        ``shortfall_value = max(−gap_value, 0)``. Empty otherwise.
    rules
        ``<by>…, sourced_by, sourced_by_rule, n``: how many entities each rule decided.
    entities
        ``entity_id, sourced_by, sourced_by_rule``: the rule used for every entity.
    by
        The grouping columns.
    """

    shares: AnyFrame
    comparison: AnyFrame
    rules: AnyFrame
    entities: AnyFrame
    by: tuple[str, ...]

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: sourced shares per group."""
        return collect(self.shares)

    def summary(self) -> pl.DataFrame:
        """The commitment comparison if there is one, else the shares."""
        comp = collect(self.comparison)
        return comp if comp.height else collect(self.shares)

    def _repr_html_(self) -> str:
        return frames_html(
            "SourcingResult",
            {"by": list(self.by)},
            {"summary": self.summary(), "rules": collect(self.rules)},
        )


def _lookup_from(source: Mapping[str, str] | str | Path) -> dict[str, str]:
    if isinstance(source, Mapping):
        return {str(k): str(v) for k, v in source.items()}
    from closedloop_kit.config import load_yaml

    raw = load_yaml(source, what="lead source map") or {}
    if isinstance(raw, dict) and "lead_source_map" in raw:
        raw = raw["lead_source_map"]
    if not isinstance(raw, dict):
        msg = "`lead_source_map` YAML must be a mapping of lead source to source"
        raise ValueError(msg)
    return {str(k): str(v) for k, v in raw.items()}


def _commitments(commitments: pl.DataFrame | Sequence[Mapping[str, object]]) -> pl.DataFrame:
    c = commitments if isinstance(commitments, pl.DataFrame) else pl.DataFrame(commitments)
    if "sourced_by" in c.columns and "source" not in c.columns:
        c = c.rename({"sourced_by": "source"})
    require_columns(c, ["source", "metric", "share"], func="sourcing(commitments=...)")
    c = c.with_columns(
        pl.col("metric").cast(pl.String).replace(_ALIASES),
        pl.col("share").cast(pl.Float64),
    )
    bad_m = sorted(set(c["metric"].to_list()) - set(METRICS))
    bad_s = sorted(set(c["source"].to_list()) - set(SOURCES))
    if bad_m or bad_s:
        msg = (
            f"commitments: `metric` must be one of {METRICS} (got {bad_m}) and `source` one "
            f"of {SOURCES} (got {bad_s})"
        )
        raise ValueError(msg)
    return c


def sourcing(
    funnel: FrameT,
    *,
    by: str | Sequence[str] | None = None,
    commitments: pl.DataFrame | Sequence[Mapping[str, object]] | None = None,
    lead_source_map: Mapping[str, str] | str | Path | None = None,
    taxonomy: Taxonomy | None = None,
) -> SourcingResult:
    r"""Share of sales-ready leads, pipeline and bookings sourced by each source.

    Each entity's source (``marketing``, ``sales``, ``partner``, ``web_direct`` or
    ``unknown``) is decided by the first rule that applies, and the rule is recorded:

    1. ``explicit``: an explicit sourced-by field (``opportunities.sourced_by`` or a
       ``people.sourced_by`` column), column ``sourced_by_explicit``;
    2. ``lead_source``: the lead source through the lead-source map
       (:attr:`Taxonomy.lead_source_map`, or ``lead_source_map`` given here as a dict
       or YAML), e.g. Web → marketing, Cold Call → sales, Partner Referral → partner,
       Direct Traffic → web_direct;
    3. ``touch_at_creation``: a marketing touch within a day of lead creation →
       ``marketing`` (``web_direct`` when its channel is Direct);
    4. ``owner_role``: where the lead source says nothing, the role of the person
       record's owner (``owner_role``) through :attr:`Taxonomy.owner_role_map`
       (partner manager → partner, account executive → sales, marketing → marketing;
       an SDR's role says nothing);
    5. otherwise ``unknown`` (rule ``none``).

    Metrics per group :math:`g` and source :math:`s`:

    - ``sales_ready``: entities that reached the sales-ready stage,
      :math:`\text{share} = n_{g,s} / n_g`;
    - ``pipeline``: ``amount_corporate`` of entities that reached the opportunity stage;
    - ``bookings``: ``won_amount_corporate`` of entities that reached the won stage.

    With ``commitments`` (rows of ``source``, ``metric``, ``share`` and optionally any
    ``by`` columns such as ``product_line`` / ``sales_division``; a commitment without
    a dimension applies to every value of it), the comparison shows committed vs actual
    share, the gap and the gap in entities or money.

    Parameters
    ----------
    funnel
        A funnel frame from :meth:`closedloop_kit.Prepared.funnel` (opportunity or person
        grain are the usual choices).
    by
        Column(s) to group by.
    commitments
        Frame or list of dicts: ``source, metric, share[, <by columns>]``.
    lead_source_map
        Re-decide ``sourced_by`` with this lead-source map (dict, YAML text or path).
    taxonomy
        Names of the sales-ready, opportunity and won stages (default taxonomy).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> f = pl.DataFrame({"entity_id": list("abcd"),
    ...     "sales_ready_at": [t] * 4, "sales_ready_backfilled": [False] * 4,
    ...     "opportunity_at": [t, t, None, None], "opportunity_backfilled": [False] * 4,
    ...     "won_at": [t, None, None, None], "won_backfilled": [False] * 4,
    ...     "sourced_by": ["marketing", "sales", "marketing", "partner"],
    ...     "sourced_by_rule": ["lead_source"] * 4,
    ...     "amount_corporate": [100.0, 300.0, None, None],
    ...     "won_amount_corporate": [100.0, 0.0, None, None]})
    >>> res = sourcing(f, commitments=[{"source": "marketing", "metric": "sales_ready",
    ...                                 "share": 0.75}])
    >>> res.comparison.select("actual_share", "gap", "gap_value").row(0)  # 2/4; 2 − 0.75·4
    (0.5, -0.25, -1.0)
    """
    tax = taxonomy or Taxonomy.default()
    groups: list[str] = as_list(by)
    stages: tuple[str, str, str] = (tax.sales_ready_stage, tax.opportunity_stage, tax.won_stage)
    needed = [
        *groups,
        "entity_id",
        *[f"{s}_at" for s in stages],
        *[f"{s}_backfilled" for s in stages],
        "amount_corporate",
        "won_amount_corporate",
    ]
    if lead_source_map is None:
        needed += ["sourced_by", "sourced_by_rule"]
    else:
        needed += ["sourced_by_explicit", "lead_source", "creation_touch_channel"]
    require_columns(funnel, needed, func="sourcing")
    f = collect(funnel)
    if lead_source_map is not None:
        tax2 = replace(tax, lead_source_map=_lookup_from(lead_source_map))
        sourced, rule = sourced_by_exprs(tax2)
        if "owner_role" not in f.columns:
            f = f.with_columns(pl.lit(None, dtype=pl.String).alias("owner_role"))
        f = f.with_columns(
            pl.col("creation_touch_channel").is_not_null().alias("_creation_touch")
        ).with_columns(sourced.alias("sourced_by"), rule.alias("sourced_by_rule"))
    f = f.with_columns(pl.col("sourced_by").fill_null("unknown"))

    sr, opp, won = stages
    metric_frames = [
        f.filter(reached(sr)).select(
            *groups, "sourced_by", pl.lit("sales_ready").alias("metric"), pl.lit(1.0).alias("v")
        ),
        f.filter(reached(opp)).select(
            *groups,
            "sourced_by",
            pl.lit("pipeline").alias("metric"),
            pl.col("amount_corporate").fill_null(0.0).alias("v"),
        ),
        f.filter(reached(won)).select(
            *groups,
            "sourced_by",
            pl.lit("bookings").alias("metric"),
            pl.col("won_amount_corporate").fill_null(0.0).alias("v"),
        ),
    ]
    long = pl.concat(metric_frames)
    values = long.group_by([*groups, "metric", "sourced_by"]).agg(pl.col("v").sum().alias("value"))
    group_keys = f.select(groups).unique() if groups else pl.DataFrame({"_k": [0]})
    grid = group_keys.join(pl.DataFrame({"metric": list(METRICS)}), how="cross").join(
        pl.DataFrame({"source": list(SOURCES)}), how="cross"
    )
    if not groups:
        grid = grid.drop("_k")
    shares = grid.join(
        values.rename({"sourced_by": "source"}),
        on=[*groups, "metric", "source"],
        how="left",
        nulls_equal=True,  # entities without a product line are a group too, not dropped
    ).with_columns(pl.col("value").fill_null(0.0))
    shares = shares.with_columns(pl.col("value").sum().over([*groups, "metric"]).alias("total"))
    shares = shares.with_columns(
        pl.when(pl.col("total") > 0).then(pl.col("value") / pl.col("total")).alias("share")
    )
    m_order = {m: i for i, m in enumerate(METRICS)}
    s_order = {s: i for i, s in enumerate(SOURCES)}
    shares = shares.sort(
        [
            *groups,
            pl.col("metric").replace_strict(m_order),
            pl.col("source").replace_strict(s_order),
        ]
    )

    if commitments is not None:
        c = _commitments(commitments)
        dims: list[str] = [col for col in c.columns if col not in ("source", "metric", "share")]
        unknown = [d for d in dims if d not in groups]
        if unknown:
            msg = (
                f"commitments have column(s) {unknown} that are not in `by` {groups}; "
                "group by them (or drop them from the commitments)"
            )
            raise ValueError(msg)
        comp = shares.join(
            c.rename({"share": "committed_share"}), on=[*dims, "metric", "source"], how="inner"
        )
        comp = (
            comp.select(
                *groups,
                "metric",
                "source",
                "committed_share",
                pl.col("share").alias("actual_share"),
                (pl.col("share") - pl.col("committed_share")).alias("gap"),
                "total",
                (pl.col("committed_share") * pl.col("total")).alias("committed_value"),
                pl.col("value").alias("actual_value"),
            )
            .with_columns(
                (pl.col("actual_value") - pl.col("committed_value")).alias("gap_value"),
            )
            .with_columns(
                (-pl.col("gap_value")).clip(lower_bound=0.0).alias("shortfall_value"),
                (pl.col("gap") >= 0).alias("met"),
            )
        )
        comp = comp.sort(
            [
                *groups,
                pl.col("metric").replace_strict(m_order),
                pl.col("source").replace_strict(s_order),
            ]
        )
    else:
        comp = pl.DataFrame(
            schema={
                **{g: f.schema[g] for g in groups},
                "metric": pl.String,
                "source": pl.String,
                "committed_share": pl.Float64,
                "actual_share": pl.Float64,
                "gap": pl.Float64,
                "total": pl.Float64,
                "committed_value": pl.Float64,
                "actual_value": pl.Float64,
                "gap_value": pl.Float64,
                "shortfall_value": pl.Float64,
                "met": pl.Boolean,
            }
        )
    rules = (
        f.group_by([*groups, "sourced_by", "sourced_by_rule"])
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .sort([*groups, "sourced_by", "sourced_by_rule"])
    )
    entities = f.select("entity_id", "sourced_by", "sourced_by_rule")
    return SourcingResult(
        shares=like(funnel, shares),
        comparison=like(funnel, comp),
        rules=like(funnel, rules),
        entities=like(funnel, entities),
        by=tuple(groups),
    )
