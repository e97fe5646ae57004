"""The funnel taxonomy: ordered stages and how each is recognised in the canonical tables.

Every company names its funnel differently, so the stages and the raw values that mean
each stage are configuration (:class:`Taxonomy`), loadable from YAML. The default
(:meth:`Taxonomy.default`) is documented value by value in docs/taxonomy.md.

Raw values are matched after normalisation (:func:`normalize_stage_value`): lower case,
a leading ordinal such as ``"8-"`` or ``"3. "`` removed, and everything but letters and
digits dropped, so ``"Closed/Won"``, ``"Closed Won"``, ``"closedwon"`` and ``"8-Closed
Won"`` are the same key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from closedloop_kit.config._yaml import load_yaml

__all__ = [
    "STAGE_LABELS",
    "Taxonomy",
    "normalize_stage_value",
    "normalized_value_expr",
    "stage_label",
]

_ORDINAL = r"^\s*\d+\s*[-.):]\s*"
_NON_ALNUM = r"[^a-z0-9]"
SOURCES = ("marketing", "sales", "partner", "web_direct", "unknown")


STAGE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "raw_lead": "Raw lead",
        "mql": "MQL",
        "sales_ready": "Sales-ready lead",
        "opportunity": "Opportunity",
        "won": "Won deal",
        "lost": "Lost",
        "disqualified": "Disqualified",
    }
)
"""How the default stages and exits read in charts, tables and controls."""


def stage_label(stage: str, labels: Mapping[str, str] | None = None) -> str:
    """How a stage id reads for people: ``labels``, else :data:`STAGE_LABELS`, else the id.

    An id in neither reads with spaces for underscores and a capital first letter
    (``"sales_accepted"`` → ``"Sales accepted"``); give acronyms in
    :attr:`Taxonomy.stage_labels` (``sql: SQL``).

    Examples
    --------
    >>> stage_label("sales_ready"), stage_label("sales_accepted")
    ('Sales-ready lead', 'Sales accepted')
    >>> stage_label("sql", {"sql": "SQL"})
    'SQL'
    """
    if labels is not None and stage in labels:
        return labels[stage]
    if stage in STAGE_LABELS:
        return STAGE_LABELS[stage]
    text = stage.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def normalize_stage_value(value: str) -> str:
    """Normalise a raw picklist value for matching (see the module docstring).

    Examples
    --------
    >>> normalize_stage_value("8-Closed Lost"), normalize_stage_value("Closed/Won")
    ('closedlost', 'closedwon')
    """
    low = re.sub(_ORDINAL, "", value.lower())
    return re.sub(_NON_ALNUM, "", low)


def normalized_value_expr(expr: pl.Expr) -> pl.Expr:
    """Polars version of :func:`normalize_stage_value` for a String expression."""
    return expr.str.to_lowercase().str.replace(_ORDINAL, "").str.replace_all(_NON_ALNUM, "")


_STATUS_MAP: dict[str, str] = {
    # Salesforce standard Lead Status picklist
    "Open - Not Contacted": "raw_lead",
    "Working - Contacted": "mql",
    "Qualified": "sales_ready",
    "Closed - Converted": "sales_ready",
    "Closed - Not Converted": "disqualified",
    # common custom lead processes
    "New": "raw_lead",
    "Open": "raw_lead",
    "Nurture": "raw_lead",
    "Nurturing": "raw_lead",
    "Marketing Qualified": "mql",
    "MQL": "mql",
    "Working": "mql",
    "Contacted": "mql",
    "Sales Accepted": "sales_ready",
    "SAL": "sales_ready",
    "Sales Qualified": "sales_ready",
    "SQL": "sales_ready",
    "Meeting Set": "sales_ready",
    "Meeting Booked": "sales_ready",
    "Converted": "sales_ready",
    "Unqualified": "disqualified",
    "Disqualified": "disqualified",
    "Junk": "disqualified",
}

_LIFECYCLE_MAP: dict[str, str] = {
    # HubSpot lifecycle stage internal values (and their labels)
    "subscriber": "raw_lead",
    "lead": "raw_lead",
    "marketingqualifiedlead": "mql",
    "Marketing Qualified Lead": "mql",
    "salesqualifiedlead": "sales_ready",
    "Sales Qualified Lead": "sales_ready",
    "opportunity": "opportunity",
    "customer": "won",
    "evangelist": "won",
}

_OPPORTUNITY_STAGE_MAP: dict[str, str] = {
    # Salesforce standard Opportunity StageName picklist
    "Prospecting": "opportunity",
    "Qualification": "opportunity",
    "Needs Analysis": "opportunity",
    "Value Proposition": "opportunity",
    "Id. Decision Makers": "opportunity",
    "Perception Analysis": "opportunity",
    "Proposal/Price Quote": "opportunity",
    "Negotiation/Review": "opportunity",
    "Closed Won": "won",
    "Closed/Won": "won",
    "Won": "won",
    "Closed Lost": "lost",
    "Closed/Lost": "lost",
    "8-Closed Lost": "lost",
    "Lost": "lost",
    # HubSpot default sales pipeline dealstage internal values
    "appointmentscheduled": "opportunity",
    "qualifiedtobuy": "opportunity",
    "presentationscheduled": "opportunity",
    "decisionmakerboughtin": "opportunity",
    "contractsent": "opportunity",
    "closedwon": "won",
    "closedlost": "lost",
}

_DATE_FIELDS: dict[str, str] = {
    # explicit milestone date columns a loader may carry on `people` or `opportunities`
    # (HubSpot "Became a ... Date", Salesforce custom MQL/SQL date fields)
    "mql_at": "mql",
    "became_mql_at": "mql",
    "sales_ready_at": "sales_ready",
    "sql_at": "sales_ready",
    "became_sql_at": "sales_ready",
}

_LEAD_SOURCE_MAP: dict[str, str] = {
    "Web": "marketing",
    "Paid Search": "marketing",
    "Organic Search": "marketing",
    "Webinar": "marketing",
    "Trade Show": "marketing",
    "Event": "marketing",
    "Email": "marketing",
    "Content Syndication": "marketing",
    "Advertisement": "marketing",
    "Social Media": "marketing",
    "Outbound": "sales",
    "Sales Generated": "sales",
    "Cold Call": "sales",
    "Phone Inquiry": "sales",
    "Employee Referral": "sales",
    "Purchased List": "sales",
    "Partner": "partner",
    "Partner Referral": "partner",
    "Reseller": "partner",
    "Direct Traffic": "web_direct",
    "Website Direct": "web_direct",
    # HubSpot's "Original Source" (hs_analytics_source; its internal values such as
    # EMAIL_MARKETING normalise to the same keys). "Offline Sources" (typed in, imported
    # or created through the API) is left out: it does not say how the person came in.
    "Email Marketing": "marketing",
    "Paid Social": "marketing",
    "Organic Social": "marketing",
    "Other Campaigns": "marketing",
    "Referrals": "marketing",
    "AI Referrals": "marketing",
}


_OWNER_ROLE_MAP: dict[str, str | None] = {
    # first key found in the role wins: a "Channel Sales Manager" is partner, an
    # "SDR" / "Sales Development Rep" works inbound and outbound leads (says nothing)
    "partner": "partner",
    "channel": "partner",
    "marketing": "marketing",
    "sdr": None,
    "sales development": None,
    "bdr": "sales",
    "business development": "sales",
    "ae": "sales",
    "account executive": "sales",
    "account manager": "sales",
    "sales": "sales",
}


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Taxonomy:
    """Ordered funnel stages and the rules that recognise them in the canonical tables.

    A stage is *reached* at the earliest timestamp of any evidence for it:

    - ``created_stage`` at ``people.created_at``;
    - a ``stage_history`` row of a person (``field`` ``"status"`` → :attr:`status_map`,
      ``"lifecycle_stage"`` → :attr:`lifecycle_map`) or of an opportunity (``field``
      ``"stage"`` → :attr:`opportunity_stage_map`) at ``changed_at``;
    - an explicit date column named in :attr:`date_fields` on ``people`` or
      ``opportunities``;
    - lead conversion (``is_converted`` / ``converted_at``) → ``converted_stage``;
    - opportunity creation (``opportunities.created_at``) → ``opportunity_stage``;
    - ``is_won`` at ``closed_at`` (else ``close_date``) → ``won_stage``; closed and not won
      → the ``lost_exit`` exit.

    The *current* ``status_raw`` / ``lifecycle_stage_raw`` / ``stage_raw`` also count as
    evidence that a stage was reached, without a timestamp (it is imputed, see
    :meth:`closedloop_kit.Prepared.funnel`).

    Parameters
    ----------
    stages
        Funnel stages in order, first to last.
    exits
        Terminal states that leave the funnel (lost deals, disqualified leads).
    status_map, lifecycle_map, opportunity_stage_map
        Raw value → stage or exit, for lead/contact status, lifecycle stage and
        opportunity stage. Keys are matched after :func:`normalize_stage_value`.
    date_fields
        Column name → stage for explicit milestone date columns.
    converted_statuses
        Status values that say a lead was converted (checked against ``is_converted``).
    lead_source_map
        Lead source value → ``marketing``, ``sales``, ``partner`` or ``web_direct``.
        A *contact* record counts as a raw lead at its creation only when its lead source
        is one of these keys (it says how the person came in); a contact with no lead
        source or an unknown one (HubSpot's "Offline Sources" = typed into the CRM) and no
        other lead evidence is a contact sales added, and enters the funnel at the first
        stage it has evidence for, with no earlier stage back-filled.
    owner_role_map
        Owner role words → ``marketing``, ``sales``, ``partner``, or ``None`` (the role says
        nothing). Used only where the lead source says nothing (missing or not in
        :attr:`lead_source_map`): the role of the person record's owner
        (``users.role``) is matched word by word, case-insensitively, and the first key
        found decides. The default reads a partner manager's records as partner-sourced,
        marketing's as marketing-sourced, an account executive's or a sales director's as
        sales-sourced, and an SDR's (they work inbound and outbound leads) as unknown.
    contact_touch_types
        Touch types by which a person gives their contact details (a form fill, a
        campaign response, registering for a webinar or an event): such a touch is
        evidence of the :attr:`created_stage` at its time, even for a contact sales had
        typed in earlier.
    meeting_stage
        The stage a meeting with the person means (default the sales-ready stage: "a
        meeting has been set up with an interested buyer"), or ``None`` to ignore
        meetings.
    meeting_types
        ``activities.activity_type`` values that are meetings.
    meeting_excluded_statuses
        Meeting statuses/outcomes that do not count (cancelled, no-show, ...), matched
        after :func:`normalize_stage_value`.
    meetings_decide
        ``"auto"`` (default): when the data holds meetings with people, the
        :attr:`meeting_stage` is reached at the first counted meeting and at nothing else
        (status words and lead conversion for that stage are ignored, since they are
        also set for people who joined a deal without a meeting of their own), and a
        later stage does not back-fill it or the stages before it (a contact put on a
        deal had no meeting of their own); without any meeting in the data, status
        words decide and later stages back-fill skipped ones. ``"always"`` / ``"never"`` force
        one or the other.
    created_stage, converted_stage, opportunity_stage, won_stage, sales_ready_stage
        Which stage record creation, lead conversion, opportunity creation, a won deal
        and a sales-ready lead mean.
    lost_exit, disqualified_exit
        Exit names for a lost deal and a disqualified lead.
    stage_labels
        Stage or exit id → how it reads in charts, tables and controls (see
        :func:`stage_label`; the default stages read "Raw lead", "MQL", "Sales-ready
        lead", "Opportunity", "Won deal").

    Examples
    --------
    >>> tax = Taxonomy.default()
    >>> tax.stages
    ('raw_lead', 'mql', 'sales_ready', 'opportunity', 'won')
    >>> tax.stage_of("8-Closed Lost", "opportunity"), tax.stage_of("Working - Contacted")
    ('lost', 'mql')
    >>> Taxonomy.from_yaml("opportunity_stage_map: {Signed: won, Pitch: opportunity}").stage_of(
    ...     "signed", "opportunity")
    'won'
    """

    stages: tuple[str, ...] = ("raw_lead", "mql", "sales_ready", "opportunity", "won")
    exits: tuple[str, ...] = ("lost", "disqualified")
    status_map: Mapping[str, str] = field(default_factory=lambda: _frozen(_STATUS_MAP))
    lifecycle_map: Mapping[str, str] = field(default_factory=lambda: _frozen(_LIFECYCLE_MAP))
    opportunity_stage_map: Mapping[str, str] = field(
        default_factory=lambda: _frozen(_OPPORTUNITY_STAGE_MAP)
    )
    date_fields: Mapping[str, str] = field(default_factory=lambda: _frozen(_DATE_FIELDS))
    converted_statuses: tuple[str, ...] = ("Closed - Converted", "Converted")
    lead_source_map: Mapping[str, str] = field(default_factory=lambda: _frozen(_LEAD_SOURCE_MAP))
    owner_role_map: Mapping[str, str | None] = field(
        default_factory=lambda: _frozen(_OWNER_ROLE_MAP)
    )
    created_stage: str = "raw_lead"
    converted_stage: str = "sales_ready"
    sales_ready_stage: str = "sales_ready"
    opportunity_stage: str = "opportunity"
    won_stage: str = "won"
    lost_exit: str = "lost"
    disqualified_exit: str = "disqualified"
    contact_touch_types: tuple[str, ...] = (
        "form_fill",
        "campaign_response",
        "webinar",
        "event",
        "trade_show",
    )
    meeting_stage: str | None = "sales_ready"
    meeting_types: tuple[str, ...] = ("meeting",)
    meeting_excluded_statuses: tuple[str, ...] = (
        "cancelled",
        "canceled",
        "no show",
        "noshow",
        "not held",
        "rescheduled",
    )
    meetings_decide: str = "auto"
    stage_labels: Mapping[str, str] = field(default_factory=lambda: _frozen({}))

    def __post_init__(self) -> None:
        for name in (
            "stages",
            "exits",
            "converted_statuses",
            "contact_touch_types",
            "meeting_types",
            "meeting_excluded_statuses",
        ):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in (
            "status_map",
            "lifecycle_map",
            "opportunity_stage_map",
            "date_fields",
            "lead_source_map",
            "owner_role_map",
            "stage_labels",
        ):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        problems: list[str] = []
        if len(self.stages) < 2:
            problems.append(f"`stages` needs at least two stages, got {self.stages!r}")
        names = [*self.stages, *self.exits]
        if len(set(names)) != len(names):
            problems.append(f"stage and exit names must be unique, got {names!r}")
        bad_names = [s for s in names if not re.fullmatch(r"[a-z][a-z0-9_]*", s)]
        if bad_names:
            problems.append(f"stage names must be snake_case identifiers, got {bad_names!r}")
        for attr in ("created_stage", "converted_stage", "sales_ready_stage"):
            if getattr(self, attr) not in self.stages:
                problems.append(
                    f"`{attr}` must be one of {self.stages!r}, got {getattr(self, attr)!r}"
                )
        if self.meeting_stage == "sales_ready" and "sales_ready" not in self.stages:
            # the default follows a company's own name for the sales-ready stage
            object.__setattr__(self, "meeting_stage", self.sales_ready_stage)
        if self.meeting_stage is not None and self.meeting_stage not in self.stages:
            problems.append(
                f"`meeting_stage` must be one of {self.stages!r} or None, "
                f"got {self.meeting_stage!r}"
            )
        if self.meetings_decide not in ("auto", "always", "never"):
            problems.append(
                "`meetings_decide` must be one of ('auto', 'always', 'never'), "
                f"got {self.meetings_decide!r}"
            )
        for attr in ("opportunity_stage", "won_stage"):
            if getattr(self, attr) not in self.stages:
                problems.append(
                    f"`{attr}` must be one of {self.stages!r}, got {getattr(self, attr)!r}"
                )
        for attr in ("lost_exit", "disqualified_exit"):
            if getattr(self, attr) not in self.exits:
                problems.append(
                    f"`{attr}` must be one of {self.exits!r}, got {getattr(self, attr)!r}"
                )
        for attr in ("status_map", "lifecycle_map", "opportunity_stage_map", "date_fields"):
            bad = {k: v for k, v in getattr(self, attr).items() if v not in names}
            if bad:
                problems.append(f"`{attr}` maps to unknown stages {bad!r}; stages are {names!r}")
        unlabelled = sorted(set(self.stage_labels) - set(names))
        if unlabelled:
            problems.append(
                f"`stage_labels` names unknown stages {unlabelled}; stages are {names!r}"
            )
        bad_src = {k: v for k, v in self.lead_source_map.items() if v not in SOURCES}
        if bad_src:
            problems.append(f"`lead_source_map` values must be one of {SOURCES!r}, got {bad_src!r}")
        bad_roles = {
            k: v
            for k, v in self.owner_role_map.items()
            if v is not None and v not in ("marketing", "sales", "partner")
        }
        if bad_roles:
            problems.append(
                "`owner_role_map` values must be 'marketing', 'sales', 'partner' or null, "
                f"got {bad_roles!r}"
            )
        if problems:
            raise ValueError("; ".join(problems))

    # -- construction ----------------------------------------------------------------
    @classmethod
    def default(cls) -> Taxonomy:
        """The default B2B taxonomy (documented value by value in docs/taxonomy.md)."""
        return cls()

    @classmethod
    def from_yaml(cls, source: str | Path) -> Taxonomy:
        """Read a taxonomy from a YAML file or YAML text.

        Keys are the field names of :class:`Taxonomy`; a key that is present replaces
        the default value wholesale (maps are *not* merged, so a company's own stage
        names need no default entries removed), keys left out keep their defaults.
        Add ``extend_defaults: true`` to merge the given maps over the default maps
        instead.

        Parameters
        ----------
        source
            Path to a ``.yaml`` file, or the YAML text itself.

        Examples
        --------
        >>> text = '''
        ... stages: [lead, meeting, deal, customer]
        ... exits: [lost, disqualified]
        ... created_stage: lead
        ... converted_stage: meeting
        ... sales_ready_stage: meeting
        ... opportunity_stage: deal
        ... won_stage: customer
        ... status_map: {Meeting Set: meeting, Junk: disqualified}
        ... lifecycle_map: {}
        ... opportunity_stage_map: {Signed: customer, Dead: lost}
        ... date_fields: {}
        ... '''
        >>> Taxonomy.from_yaml(text).stages
        ('lead', 'meeting', 'deal', 'customer')
        """
        raw = load_yaml(source, what="taxonomy") or {}
        if not isinstance(raw, dict):
            msg = f"taxonomy YAML must be a mapping of field names, got {type(raw).__name__}"
            raise ValueError(msg)
        extend = bool(raw.pop("extend_defaults", False))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            msg = f"unknown taxonomy key(s) {unknown}; valid keys are {sorted(known)}"
            raise ValueError(msg)
        base = cls()
        kwargs: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(getattr(base, key), Mapping):
                value = {str(k): None if v is None else str(v) for k, v in (value or {}).items()}
                if extend:
                    value = {**getattr(base, key), **value}
            elif isinstance(getattr(base, key), tuple):
                value = tuple(str(v) for v in (value or ()))
            kwargs[key] = value
        return replace(base, **kwargs)

    def to_yaml(self) -> str:
        """The taxonomy as YAML text that :meth:`from_yaml` reads back."""
        import yaml

        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return str(yaml.safe_dump(out, sort_keys=False, allow_unicode=True))

    # -- lookups ---------------------------------------------------------------------
    def value_map(self, field_name: str) -> dict[str, str]:
        """Normalised raw value → stage for a ``stage_history`` field.

        ``field_name`` is ``"status"``, ``"lifecycle_stage"`` or ``"stage"`` (also
        accepted: ``"opportunity"`` for the opportunity stage map).
        """
        maps = {
            "status": self.status_map,
            "lifecycle_stage": self.lifecycle_map,
            "stage": self.opportunity_stage_map,
            "opportunity": self.opportunity_stage_map,
        }
        if field_name not in maps:
            msg = f"`field_name` must be one of {tuple(maps)}, got {field_name!r}"
            raise ValueError(msg)
        return {normalize_stage_value(k): v for k, v in maps[field_name].items()}

    def stage_of(self, value: str, field_name: str = "status") -> str | None:
        """The stage or exit a raw value means, or ``None`` if it is not mapped."""
        return self.value_map(field_name).get(normalize_stage_value(value))

    def lead_source_lookup(self) -> dict[str, str]:
        """Normalised lead source → ``marketing``/``sales``/``partner``/``web_direct``."""
        return {normalize_stage_value(k): v for k, v in self.lead_source_map.items()}

    def owner_role_lookup(self) -> dict[str, str | None]:
        """Owner role words (lower case, punctuation as spaces) → source or ``None``."""
        return {
            " ".join(re.sub(r"[^a-z0-9]+", " ", k.lower()).split()): v
            for k, v in self.owner_role_map.items()
        }

    def label(self, stage: str) -> str:
        """How ``stage`` reads for people (:attr:`stage_labels`, see :func:`stage_label`).

        Examples
        --------
        >>> Taxonomy.default().label("sales_ready")
        'Sales-ready lead'
        """
        return stage_label(stage, self.stage_labels)

    @property
    def labels(self) -> dict[str, str]:
        """Every stage and exit id → :meth:`label` (pass it to charts as ``labels=``)."""
        return {s: self.label(s) for s in (*self.stages, *self.exits)}

    def stage_index(self, stage: str) -> int:
        """Position of ``stage`` in :attr:`stages` (0 = first)."""
        if stage not in self.stages:
            msg = f"`stage` must be one of {self.stages!r}, got {stage!r}"
            raise ValueError(msg)
        return self.stages.index(stage)
