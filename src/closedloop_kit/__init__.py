"""closedloop_kit: close the loop from marketing touches to CRM revenue.

``import closedloop_kit as clk`` gives the data model, loaders, identity resolution,
funnel analytics, attribution, ROI and planning. Heavy parts (charts, widgets, report
runner, datasets, statistics) load on first use, so the import stays fast and does not
pull in altair, statsmodels, ipywidgets or papermill.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from closedloop_kit import errors
from closedloop_kit._version import __version__
from closedloop_kit._versions import show_versions
from closedloop_kit.config import FiscalCalendar, Window

if TYPE_CHECKING:
    from closedloop_kit import (
        attribution,
        channels,
        config,
        datasets,
        engine,
        funnel,
        identity,
        io,
        planning,
        prepared,
        report,
        roi,
        schema,
        stats,
        store,
        viz,
        widgets,
    )
    from closedloop_kit.config import ChannelRules, IdentityRules, Taxonomy
    from closedloop_kit.io import load
    from closedloop_kit.prepared import Prepared, prepare
    from closedloop_kit.schema import validate
    from closedloop_kit.store import ClosedLoopData, open_store

_SUBMODULES = frozenset(
    {
        "attribution",
        "channels",
        "config",
        "datasets",
        "engine",
        "funnel",
        "identity",
        "io",
        "planning",
        "prepared",
        "report",
        "roi",
        "schema",
        "stats",
        "store",
        "viz",
        "widgets",
    }
)

# public name -> (module, attribute), imported on first access (pandera imports pandas,
# which alone takes ~0.8 s, so even the schema loads on first use)
_LAZY_ATTRS: dict[str, tuple[str, str]] = {
    "load": ("closedloop_kit.io", "load"),
    "prepare": ("closedloop_kit.prepared", "prepare"),
    "Prepared": ("closedloop_kit.prepared", "Prepared"),
    "validate": ("closedloop_kit.schema", "validate"),
    "ClosedLoopData": ("closedloop_kit.store", "ClosedLoopData"),
    "open_store": ("closedloop_kit.store", "open_store"),
    "ChannelRules": ("closedloop_kit.config", "ChannelRules"),
    "IdentityRules": ("closedloop_kit.config", "IdentityRules"),
    "Taxonomy": ("closedloop_kit.config", "Taxonomy"),
}

__all__ = [
    "ChannelRules",
    "ClosedLoopData",
    "FiscalCalendar",
    "IdentityRules",
    "Prepared",
    "Taxonomy",
    "Window",
    "__version__",
    "attribution",
    "channels",
    "config",
    "datasets",
    "engine",
    "errors",
    "funnel",
    "identity",
    "io",
    "load",
    "open_store",
    "planning",
    "prepare",
    "prepared",
    "report",
    "roi",
    "schema",
    "show_versions",
    "stats",
    "store",
    "validate",
    "viz",
    "widgets",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"closedloop_kit.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_ATTRS:
        mod_name, attr = _LAZY_ATTRS[name]
        value = getattr(importlib.import_module(mod_name), attr)
        globals()[name] = value
        return value
    msg = f"module 'closedloop_kit' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
