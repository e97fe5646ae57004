"""L3 model: funnel stages per entity, conversion, velocity, cohorts, time to close, sourcing.

``build`` turns the canonical tables into a funnel frame (one row per person, account or
opportunity with the time each stage of a :class:`closedloop_kit.Taxonomy` was reached);
the other functions take that frame (eager or lazy) and return the same kind.
"""

from closedloop_kit.funnel._build import (
    FunnelBuildResult,
    build,
    build_from_evidence,
    build_result,
)
from closedloop_kit.funnel._cohorts import cohorts
from closedloop_kit.funnel._conversion import ConversionResult, conversion
from closedloop_kit.funnel._evidence import StageEvidence
from closedloop_kit.funnel._schema import FunnelSchema, funnel_schema
from closedloop_kit.funnel._sourcing import SourcingResult, sourcing
from closedloop_kit.funnel._survival import TimeToCloseResult, time_to_close
from closedloop_kit.funnel._velocity import velocity

__all__ = [
    "ConversionResult",
    "FunnelBuildResult",
    "FunnelSchema",
    "SourcingResult",
    "StageEvidence",
    "TimeToCloseResult",
    "build",
    "build_from_evidence",
    "build_result",
    "cohorts",
    "conversion",
    "funnel_schema",
    "sourcing",
    "time_to_close",
    "velocity",
]
