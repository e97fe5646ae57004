"""Channel grouping: ordered, declarative rules turn source/medium/campaign into channels.

The default is Google Analytics 4's default channel group
(:meth:`closedloop_kit.config.ChannelRules.ga4_default`); companies add their own rules
from YAML (:meth:`~closedloop_kit.config.ChannelRules.from_yaml`). See docs/channels.md.
"""

from closedloop_kit.channels._classify import classify
from closedloop_kit.channels._rules import load_source_categories
from closedloop_kit.config import ChannelRule, ChannelRules, Condition

__all__ = ["ChannelRule", "ChannelRules", "Condition", "classify", "load_source_categories"]
