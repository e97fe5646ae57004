"""Configuration values users pass in: frozen dataclasses, loadable from YAML.

There is no global or environment-variable configuration: a function's behaviour is
fixed by its arguments and the configuration objects it is handed.
"""

from closedloop_kit.config._calendar import FiscalCalendar, Window, parse_duration
from closedloop_kit.config._taxonomy import Taxonomy, normalize_stage_value

__all__ = ["FiscalCalendar", "Taxonomy", "Window", "normalize_stage_value", "parse_duration"]
