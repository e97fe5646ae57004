"""L5 present: the ipywidgets explorer (the only importer of ipywidgets).

:func:`explorer` builds controls, a chart and tables over a
:class:`~closedloop_kit.ClosedLoopData`; what it shows is computed by the pure
:func:`compute_view`, so it can be tested without a browser.
"""

from closedloop_kit.widgets._explorer import CONVERSIONS, Explorer, explorer
from closedloop_kit.widgets._state import (
    ExplorerState,
    ExplorerView,
    compute_view,
    filter_journeys,
    options,
)

__all__ = [
    "CONVERSIONS",
    "Explorer",
    "ExplorerState",
    "ExplorerView",
    "compute_view",
    "explorer",
    "filter_journeys",
    "options",
]
