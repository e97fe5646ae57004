"""Synthetic worlds with known truth (``make_*``) and bundled data (``load_*``).

- :func:`make_b2b`: a simulated B2B company (canonical tables + causal truth);
- :func:`load_sample` / :func:`load_sample_world`: a small fixed world for doctests and
  quick starts;
- :func:`make_attribution_world`: small journey worlds for attribution benchmarks;
- :class:`ConversionTruth`, :func:`misallocation`: the causal model and the score.
"""

from closedloop_kit.datasets._b2b import B2BParams, B2BTruth, B2BWorld, make_b2b
from closedloop_kit.datasets._sample import load_sample, load_sample_world
from closedloop_kit.datasets._truth import ConversionTruth, misallocation
from closedloop_kit.datasets._worlds import AttributionWorld, make_attribution_world

__all__ = [
    "AttributionWorld",
    "B2BParams",
    "B2BTruth",
    "B2BWorld",
    "ConversionTruth",
    "load_sample",
    "load_sample_world",
    "make_attribution_world",
    "make_b2b",
    "misallocation",
]
