"""The bundled small company: :func:`load_sample` for doctests and quick starts."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from closedloop_kit.datasets._b2b import B2BWorld, make_b2b

if TYPE_CHECKING:
    from closedloop_kit.store import ClosedLoopData

__all__ = ["SAMPLE_CONFIG", "load_sample", "load_sample_world"]

SAMPLE_CONFIG = {"seed": 7, "accounts": 60, "months": 12, "start": "2025-01-01"}
"""Parameters of the sample world."""


@lru_cache(maxsize=1)
def load_sample_world() -> B2BWorld:
    """The sample company with its truth (60 accounts, 12 months, seed 7; cached).

    Examples
    --------
    >>> world = load_sample_world()
    >>> world.params.accounts, world.params.months
    (60, 12)
    """
    return make_b2b(
        SAMPLE_CONFIG["seed"],  # type: ignore[arg-type]
        accounts=SAMPLE_CONFIG["accounts"],  # type: ignore[arg-type]
        months=SAMPLE_CONFIG["months"],  # type: ignore[arg-type]
        start=SAMPLE_CONFIG["start"],  # type: ignore[arg-type]
    )


def load_sample() -> ClosedLoopData:
    """Canonical tables of the small sample company (computed in well under a second).

    Examples
    --------
    >>> data = load_sample()
    >>> sorted(data.tables)[:3]
    ['accounts', 'activities', 'campaign_members']
    >>> data.opportunities.height > 0
    True
    """
    data: ClosedLoopData = load_sample_world().data
    return data
