"""Identity resolution: de-duplicate people, stitch visitors to people to accounts.

See docs/identity.md for the rules, their confidence, how the golden record is chosen
and the loop-closure rate.
"""

from closedloop_kit.identity._dedupe import DedupeResult, dedupe

__all__ = ["DedupeResult", "dedupe"]
