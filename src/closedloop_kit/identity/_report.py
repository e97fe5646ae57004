"""Result objects of identity resolution: :class:`IdentityReport` and :class:`ResolveResult`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import polars as pl

from closedloop_kit._core.result import Result
from closedloop_kit.config import IdentityRules
from closedloop_kit.identity._loop import LoopClosureResult
from closedloop_kit.store import ClosedLoopData

__all__ = ["IdentityReport", "ResolveResult"]


@dataclass(frozen=True)
class IdentityReport:
    """How far identity resolution closed the loop.

    Attributes
    ----------
    people_by_rule
        People left after each person rule, applied cumulatively in order (``step``,
        ``rule``, ``pairs``, ``people_after``); step 0 is the input record count.
    account_links
        Person records linked to an account by each rule (``rule``, ``people``,
        ``mean_score``).
    name_matches
        Fuzzy company-name matches: ``person_id``, ``company_name``, ``account_id``,
        ``account_name``, ``score`` (rapidfuzz ``token_sort_ratio``, 0–100).
    n_records, n_people
        Person records in, golden persons out.
    n_sessions, sessions_linked
        Web sessions (``touch_type == "web_session"``) and those with a person after
        resolution; ``session_link_rate`` is their ratio.
    n_visitors, visitors_linked, visitor_conflicts
        Distinct anonymous ids, those linked to a person, and those whose evidence
        named more than one person (resolved to the most recently seen).
    people_with_account
        Golden persons with an account; ``account_link_rate`` = this / ``n_people``.
    loop
        The :class:`LoopClosureResult` (headline: ``loop.revenue_rate``).
    rules
        The :class:`~closedloop_kit.config.IdentityRules` used.
    """

    people_by_rule: pl.DataFrame
    account_links: pl.DataFrame
    name_matches: pl.DataFrame
    n_records: int
    n_people: int
    n_sessions: int
    sessions_linked: int
    n_visitors: int
    visitors_linked: int
    visitor_conflicts: int
    people_with_account: int
    loop: LoopClosureResult
    rules: IdentityRules = field(default_factory=IdentityRules)

    @property
    def session_link_rate(self) -> float:
        """Share of web sessions linked to a known person (0 when there are none)."""
        return self.sessions_linked / self.n_sessions if self.n_sessions else 0.0

    @property
    def account_link_rate(self) -> float:
        """Share of golden persons linked to an account."""
        return self.people_with_account / self.n_people if self.n_people else 0.0

    @property
    def loop_closure_rate(self) -> float:
        """Share of closed-won revenue whose account had a marketing touch before close."""
        return self.loop.revenue_rate

    def summary(self) -> pl.DataFrame:
        """Headline numbers as a two-column frame (``metric``, ``value``)."""
        rows = [
            ("person records", float(self.n_records)),
            ("people after de-duplication", float(self.n_people)),
            ("web sessions", float(self.n_sessions)),
            ("share of web sessions linked to a person", self.session_link_rate),
            ("visitors (anonymous ids)", float(self.n_visitors)),
            ("visitors linked to a person", float(self.visitors_linked)),
            ("visitors with conflicting evidence", float(self.visitor_conflicts)),
            ("share of people linked to an account", self.account_link_rate),
            ("won opportunities", float(self.loop.n_won)),
            ("loop-closure rate (revenue)", self.loop.revenue_rate),
            ("loop-closure rate (opportunities)", self.loop.opportunity_rate),
        ]
        return pl.DataFrame(
            {"metric": [r[0] for r in rows], "value": [r[1] for r in rows]},
            schema={"metric": pl.String, "value": pl.Float64},
        )

    def __repr__(self) -> str:
        return (
            f"IdentityReport({self.n_records} records -> {self.n_people} people, "
            f"sessions linked {self.session_link_rate:.1%}, "
            f"accounts {self.account_link_rate:.1%}, "
            f"loop-closure rate {self.loop.revenue_rate:.1%})"
        )

    def _repr_html_(self) -> str:
        lc = self.loop
        return (
            "<div><h4>Identity report</h4>"
            f"<p><b>Loop-closure rate: {lc.revenue_rate:.1%}</b> of closed-won revenue "
            f"({lc.opportunity_rate:.1%} of {lc.n_won:,} won opportunities) had a marketing "
            "touch on the account before the deal closed.</p>"
            f"{self.summary()._repr_html_()}"
            f"<p>{html.escape('People before/after de-duplication by rule')}</p>"
            f"{self.people_by_rule._repr_html_()}"
            f"<p>Account links by rule</p>{self.account_links._repr_html_()}"
            f"<p>Won opportunities by loop status</p>{lc.by_reason._repr_html_()}</div>"
        )


@dataclass(frozen=True)
class ResolveResult(Result):
    """What :func:`closedloop_kit.identity.resolve` returns: the resolved data and a report.

    Attributes
    ----------
    data
        A new :class:`~closedloop_kit.store.ClosedLoopData` (the input is unchanged):
        ``people`` with ``golden_person_id`` and filled ``account_id``, touchpoints with
        golden ``person_id`` and ``account_id``, and ``identity_links`` holding the input
        evidence plus one row per link the rules made.
    report
        The :class:`IdentityReport`.
    """

    data: ClosedLoopData
    report: IdentityReport

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: the identity report's headline numbers."""
        return self.report.summary()

    def summary(self) -> pl.DataFrame:
        """The report's headline numbers."""
        return self.report.summary()

    def __repr__(self) -> str:
        return f"ResolveResult({self.report!r})"

    def _repr_html_(self) -> str:
        return self.report._repr_html_()
