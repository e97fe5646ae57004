"""Configuration values users pass in: frozen dataclasses, loadable from YAML.

There is no global or environment-variable configuration: a function's behaviour is
fixed by its arguments and the configuration objects it is handed.
"""

from closedloop_kit.config._calendar import FiscalCalendar, Window, parse_duration
from closedloop_kit.config._channels import ChannelRule, ChannelRules, Condition
from closedloop_kit.config._identity import IdentityRules
from closedloop_kit.config._taxonomy import Taxonomy, normalize_stage_value, normalized_value_expr

__all__ = [
    "ChannelRule",
    "ChannelRules",
    "Condition",
    "FiscalCalendar",
    "IdentityRules",
    "Taxonomy",
    "Window",
    "normalize_stage_value",
    "normalized_value_expr",
    "parse_duration",
]
