"""L5 present: the ipywidgets explorer (the only importer of ipywidgets).

:func:`explorer` builds controls, a chart and tables over a
:class:`~closedloop_kit.ClosedLoopData`; what it shows is computed by the pure
:func:`compute_view`, so it can be tested without a browser. :func:`dashboard` is the
explorer with the review's KPI tiles, a period and a campaign filter, altair charts and
report-quality tables: what ``closedloop serve`` shows.
"""

from closedloop_kit.widgets._explorer import CONVERSIONS, Explorer, dashboard, explorer
from closedloop_kit.widgets._kpis import KPIS, kpis, previous_period
from closedloop_kit.widgets._state import (
    ExplorerState,
    ExplorerView,
    compute_view,
    filter_journeys,
    options,
    periods,
)

__all__ = [
    "CONVERSIONS",
    "KPIS",
    "Explorer",
    "ExplorerState",
    "ExplorerView",
    "compute_view",
    "dashboard",
    "explorer",
    "filter_journeys",
    "kpis",
    "options",
    "periods",
    "previous_period",
]
