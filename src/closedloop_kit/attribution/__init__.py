"""L4 analyse: rule models, exact Markov and Shapley, regression, multi-stage, uncertainty.

Journeys come from the prepared model (``clk.prepare(data).journeys(...)``): the same
milestones and channels every other analysis reads. Give credit with :func:`attribute`
(any model), compare models with :func:`compare` (with a model-disagreement band), get
sampling intervals with :func:`bootstrap`,
and score against a simulated truth with :func:`score`. :func:`attribute_paths` takes
ChannelAttribution-style aggregated paths. Formulas: docs/attribution.md.
"""

from closedloop_kit.attribution._attribute import (
    DEFAULT_MODEL,
    MODEL_LABELS,
    MODELS,
    attribute,
    attribute_paths,
)
from closedloop_kit.attribution._bootstrap import bootstrap
from closedloop_kit.attribution._compare import compare
from closedloop_kit.attribution._paths import PathTransform, paths
from closedloop_kit.attribution._results import AttributionResult
from closedloop_kit.attribution._score import KnownTruth, misallocation, score

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "MODEL_LABELS",
    "AttributionResult",
    "KnownTruth",
    "PathTransform",
    "attribute",
    "attribute_paths",
    "bootstrap",
    "compare",
    "misallocation",
    "paths",
    "score",
]
