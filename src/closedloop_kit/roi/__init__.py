"""L4 analyse: revenue-based ROI, sourced vs influenced, ROI across attribution models.

:func:`summary` joins spend (corporate currency, matched by campaign id, ad campaign name
or channel) to attributed revenue and funnel counts; :func:`sourced_vs_influenced`
splits pipeline and bookings into marketing-sourced and marketing-influenced;
:func:`compare_models` shows how much ROI depends on the attribution model. Formulas:
docs/roi.md.
"""

from closedloop_kit.roi._compare import compare_models
from closedloop_kit.roi._results import CompareResult, RoiResult, SourcedResult
from closedloop_kit.roi._sourced import sourced_vs_influenced
from closedloop_kit.roi._summary import View, summary

__all__ = [
    "CompareResult",
    "RoiResult",
    "SourcedResult",
    "View",
    "compare_models",
    "sourced_vs_influenced",
    "summary",
]
