"""L4 analyse: metrics on funnel frames — conversion, velocity, cohorts, time to close, sourcing.

Funnel frames come from the prepared model (``clk.prepare(data).funnel(grain)``), where
every stage is decided once from the taxonomy; these functions take such a frame (eager
or lazy) and return the same kind.
"""

from closedloop_kit.funnel._cohorts import cohorts
from closedloop_kit.funnel._conversion import ConversionResult, conversion
from closedloop_kit.funnel._sourcing import SOURCING_NAMES, SourcingResult, sourcing
from closedloop_kit.funnel._survival import TimeToCloseResult, time_to_close
from closedloop_kit.funnel._velocity import velocity

__all__ = [
    "SOURCING_NAMES",
    "ConversionResult",
    "SourcingResult",
    "TimeToCloseResult",
    "cohorts",
    "conversion",
    "sourcing",
    "time_to_close",
    "velocity",
]
