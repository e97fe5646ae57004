"""Configuration values users pass in: frozen dataclasses, loadable from YAML.

There is no global or environment-variable configuration: a function's behaviour is
fixed by its arguments and the configuration objects it is handed.
"""

from closedloop_kit.config._calendar import FiscalCalendar, Window, parse_duration
from closedloop_kit.config._channels import ChannelRule, ChannelRules, Condition
from closedloop_kit.config._identity import PERSON_RULES, IdentityRules
from closedloop_kit.config._taxonomy import (
    STAGE_LABELS,
    Taxonomy,
    normalize_stage_value,
    normalized_value_expr,
    stage_label,
)
from closedloop_kit.config._yaml import load_yaml

__all__ = [
    "PERSON_RULES",
    "STAGE_LABELS",
    "ChannelRule",
    "ChannelRules",
    "Condition",
    "FiscalCalendar",
    "IdentityRules",
    "Taxonomy",
    "Window",
    "load_yaml",
    "normalize_stage_value",
    "normalized_value_expr",
    "parse_duration",
    "stage_label",
]
