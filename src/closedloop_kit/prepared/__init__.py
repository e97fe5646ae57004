"""L3 model: :func:`prepare` builds the one model of the business every analysis reads.

``clk.prepare(data, taxonomy=..., channels=..., identity=..., fiscal=..., currency=...)``
resolves identities, decides each touch's channel and campaign, gathers the stage evidence
of every person and deal under the taxonomy once, and returns a frozen :class:`Prepared`
whose ``funnel(grain)``, ``milestones``, ``stage_counts()`` and ``journeys(...)`` all read
from that single decision.
"""

from closedloop_kit._core.names import norm_name
from closedloop_kit.prepared._costs import (
    COST_COLUMNS,
    join_campaign_dims,
    name_lookup,
    total_by_currency,
    with_lookup,
)
from closedloop_kit.prepared._evidence import StageEvidence
from closedloop_kit.prepared._funnel import FunnelBuildResult, sourced_by_exprs, stage_columns
from closedloop_kit.prepared._journeys import (
    CONVERSION_ALIASES,
    conversions,
    journeys,
    transform_touches,
)
from closedloop_kit.prepared._model import Prepared, prepare
from closedloop_kit.prepared._period import PeriodLike, period_bounds, within
from closedloop_kit.prepared._schema import FunnelSchema, funnel_schema
from closedloop_kit.prepared._touches import CAMPAIGN_MATCHES, prepare_touchpoints

__all__ = [
    "CAMPAIGN_MATCHES",
    "CONVERSION_ALIASES",
    "COST_COLUMNS",
    "FunnelBuildResult",
    "FunnelSchema",
    "PeriodLike",
    "Prepared",
    "StageEvidence",
    "conversions",
    "funnel_schema",
    "join_campaign_dims",
    "journeys",
    "name_lookup",
    "norm_name",
    "period_bounds",
    "prepare",
    "prepare_touchpoints",
    "sourced_by_exprs",
    "stage_columns",
    "total_by_currency",
    "transform_touches",
    "with_lookup",
    "within",
]
