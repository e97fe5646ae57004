"""L5 present: altair charts of the analysis results (the only importer of altair).

Every ``*_chart`` takes a result object or its polars frame and returns an altair chart
styled with one accessible theme (Okabe-Ito colours, readable labels, currency and
percent formats, tooltips), applied per chart. :func:`save` writes PNG, SVG or offline
HTML with vl-convert. :func:`table` formats any frame or result for people (the one
table formatter, on great_tables) and :func:`kpi_tiles` draws the headline numbers of a
review. altair and great_tables are imported when used, not at import.
"""

from closedloop_kit.viz._theme import PALETTE
from closedloop_kit.viz.attribution import attribution_chart
from closedloop_kit.viz.funnel import (
    cohort_chart,
    cohort_heatmap,
    conversion_chart,
    funnel_chart,
    sourcing_chart,
    survival_chart,
    velocity_chart,
)
from closedloop_kit.viz.identity import loop_closure_chart
from closedloop_kit.viz.kpi import KPITiles, kpi_tiles
from closedloop_kit.viz.roi import budget_chart, funding_chart, roi_chart, spend_pipeline_chart
from closedloop_kit.viz.save import save
from closedloop_kit.viz.table import conversion_names, id_names, table

__all__ = [
    "PALETTE",
    "KPITiles",
    "attribution_chart",
    "budget_chart",
    "cohort_chart",
    "cohort_heatmap",
    "conversion_chart",
    "conversion_names",
    "funding_chart",
    "funnel_chart",
    "id_names",
    "kpi_tiles",
    "loop_closure_chart",
    "roi_chart",
    "save",
    "sourcing_chart",
    "spend_pipeline_chart",
    "survival_chart",
    "table",
    "velocity_chart",
]
