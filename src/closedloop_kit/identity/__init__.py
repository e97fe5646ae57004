"""Identity resolution: de-duplicate people, stitch visitors to people to accounts.

See docs/identity.md for the rules, their confidence, how the golden record is chosen
and the loop-closure rate.
"""

from closedloop_kit.identity._dedupe import DedupeResult, dedupe, normalized_email_expr
from closedloop_kit.identity._loop import LOOP_REASONS, LoopClosureResult, loop_closure
from closedloop_kit.identity._report import IdentityReport, ResolveResult
from closedloop_kit.identity._resolve import resolve, resolve_merged_records
from closedloop_kit.identity._score import score_against_truth

__all__ = [
    "LOOP_REASONS",
    "DedupeResult",
    "IdentityReport",
    "LoopClosureResult",
    "ResolveResult",
    "dedupe",
    "loop_closure",
    "normalized_email_expr",
    "resolve",
    "resolve_merged_records",
    "score_against_truth",
]
