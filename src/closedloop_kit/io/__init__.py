"""L1 load: read exported files into the canonical tables, with rejects and a load report.

Readers (``read_<system>``) return a :class:`LoadResult`; :func:`load` reads a whole
folder or a YAML config into a :class:`~closedloop_kit.store.ClosedLoopData`. Readers are
imported on first use, so ``import closedloop_kit.io`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from closedloop_kit.io._result import FileReport, LoadResult
from closedloop_kit.io._text import FileSniff, RawTable, read_text_table, sniff

if TYPE_CHECKING:
    from closedloop_kit.io._joins import join_rates
    from closedloop_kit.io._load import load
    from closedloop_kit.io.ad_costs import read_ad_costs
    from closedloop_kit.io.adobe import read_adobe_feed
    from closedloop_kit.io.calls import read_calls
    from closedloop_kit.io.ga4 import read_ga4
    from closedloop_kit.io.hubspot import read_hubspot
    from closedloop_kit.io.mapped import read_mapped
    from closedloop_kit.io.marketo import read_marketo
    from closedloop_kit.io.pardot import read_pardot
    from closedloop_kit.io.salesforce import read_salesforce

_LAZY: dict[str, str] = {
    "load": "closedloop_kit.io._load",
    "join_rates": "closedloop_kit.io._joins",
    "read_salesforce": "closedloop_kit.io.salesforce",
    "read_hubspot": "closedloop_kit.io.hubspot",
    "read_ga4": "closedloop_kit.io.ga4",
    "read_adobe_feed": "closedloop_kit.io.adobe",
    "read_marketo": "closedloop_kit.io.marketo",
    "read_pardot": "closedloop_kit.io.pardot",
    "read_ad_costs": "closedloop_kit.io.ad_costs",
    "read_mapped": "closedloop_kit.io.mapped",
    "read_calls": "closedloop_kit.io.calls",
}

__all__ = [
    "FileReport",
    "FileSniff",
    "LoadResult",
    "RawTable",
    "join_rates",
    "load",
    "read_ad_costs",
    "read_adobe_feed",
    "read_calls",
    "read_ga4",
    "read_hubspot",
    "read_mapped",
    "read_marketo",
    "read_pardot",
    "read_salesforce",
    "read_text_table",
    "sniff",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    msg = f"module 'closedloop_kit.io' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
