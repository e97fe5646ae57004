from __future__ import annotations

import warnings

import pytest

import closedloop_kit as clk
from closedloop_kit.errors import DataQualityWarning
from tests.funnel.tiny import tiny_data
from tests.helpers import build_funnel


@pytest.fixture(scope="module")
def tiny() -> clk.ClosedLoopData:
    return tiny_data()


def quiet_build(data, **kw):
    """build_result without failing on the (expected) data-quality warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return build_funnel(data, result=True, **kw)


@pytest.fixture(scope="module")
def person_build(tiny):
    return quiet_build(tiny, grain="person")
