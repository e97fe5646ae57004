"""Configuration values users pass in: frozen dataclasses, loadable from YAML.

There is no global or environment-variable configuration: a function's behaviour is
fixed by its arguments and the configuration objects it is handed.
"""

from closedloop_kit.config._calendar import FiscalCalendar, Window, parse_duration

__all__ = ["FiscalCalendar", "Window", "parse_duration"]
