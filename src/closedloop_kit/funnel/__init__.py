"""L3 model: funnel stages per entity, conversion, velocity, cohorts, time to close, sourcing.

``build`` turns the canonical tables into a funnel frame (one row per person, account or
opportunity with the time each stage of a :class:`closedloop_kit.Taxonomy` was reached);
the other functions take that frame.
"""

from closedloop_kit.funnel._build import FunnelBuildResult, build, build_result
from closedloop_kit.funnel._schema import FunnelSchema, funnel_schema

__all__ = ["FunnelBuildResult", "FunnelSchema", "build", "build_result", "funnel_schema"]
