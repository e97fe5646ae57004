"""Shared test fixtures: paths to the real-world exports in tests/data/real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = ROOT / "tests" / "data" / "real"
"""Real public exports (provenance and licences in tests/data/real/SOURCES.md)."""
SAMPLE_DATA = ROOT / "sample_data"

# fixed seeds: CI explores the same examples every run (derandomize); set
# HYPOTHESIS_PROFILE=explore locally to search with fresh random examples
settings.register_profile(
    "default",
    deadline=None,
    max_examples=50,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """Folder of real public exports written by others (read-only, in the repository)."""
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def sample_data_dir() -> Path:
    """The bundled sample exports (written by `make sample-data`)."""
    return SAMPLE_DATA
