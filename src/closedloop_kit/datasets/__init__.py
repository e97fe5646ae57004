"""Synthetic worlds with known truth (``make_*``) and bundled data (``load_*``)."""

from closedloop_kit.datasets._truth import ConversionTruth, misallocation

__all__ = ["ConversionTruth", "misallocation"]
