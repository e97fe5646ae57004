"""The heavy steps, written once, run where the data lives (polars, DuckDB, Spark).

Give any function here a polars LazyFrame (it runs on polars' streaming engine), a
DuckDB relation or a PySpark DataFrame: the work stays on that engine and only the small
aggregates (:func:`path_counts`, :func:`transition_counts`, :func:`exposure_counts`)
come back as polars DataFrames for the models. See docs/scaling.md for when to use
which engine.
"""

from closedloop_kit.engine._aggregates import (
    END_STATES,
    START_STATE,
    exposure_counts,
    path_counts,
    transition_counts,
)
from closedloop_kit.engine._backend import Backend, backend_of, collect_polars, lazy
from closedloop_kit.engine._components import connected_components
from closedloop_kit.engine._journeys import apply_identity, journey_touches, journeys

__all__ = [
    "END_STATES",
    "START_STATE",
    "Backend",
    "apply_identity",
    "backend_of",
    "collect_polars",
    "connected_components",
    "exposure_counts",
    "journey_touches",
    "journeys",
    "lazy",
    "path_counts",
    "transition_counts",
]
