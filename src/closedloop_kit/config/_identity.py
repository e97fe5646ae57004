"""Identity-resolution rules: which evidence merges people and links them to accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from closedloop_kit.config._yaml import load_yaml

__all__ = ["IdentityRules", "free_email_domains"]

PERSON_RULES: tuple[str, ...] = ("lead_conversion", "crm_id", "email", "merge")
"""Rules that merge person records, in the order they are applied and reported."""

_CONFIDENCE: dict[str, float] = {
    "lead_conversion": 1.0,
    "crm_id": 0.99,
    "merge": 1.0,
    "email": 0.95,
    "email_plus": 0.9,
    "email_gmail_dots": 0.85,
    "visitor_person": 0.99,
    "visitor_user_id": 0.98,
    "visitor_email": 0.95,
    "account_explicit": 1.0,
    "account_conversion": 1.0,
    "account_cluster": 0.95,
    "account_domain": 0.9,
}


@lru_cache(maxsize=1)
def free_email_domains() -> frozenset[str]:
    """Free and consumer mail domains shipped with the package (gmail.com, ...).

    Examples
    --------
    >>> "gmail.com" in free_email_domains(), "acme.com" in free_email_domains()
    (True, False)
    """
    path = resources.files("closedloop_kit").joinpath("channels/data/free_email_domains.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(
        s.strip().lower() for s in lines if s.strip() and not s.strip().startswith("#")
    )


@dataclass(frozen=True)
class IdentityRules:
    """Which identity rules :func:`closedloop_kit.identity.resolve` applies, and how.

    Parameters
    ----------
    lead_conversion
        Merge a converted lead with the contact it converted into
        (``converted_contact_id``) and give it the converted account.
    crm_id
        Merge marketing-automation records with the CRM record whose id they carry
        (``identity_links`` rows between two person keys, e.g. Pardot ``crm_lead_fid``,
        Marketo ``sfdcLeadId``).
    email
        Merge records with the same normalised email (trimmed, lower-cased).
    strip_plus_addressing
        Also drop ``+tag`` from the local part (``ann+news@x.com`` = ``ann@x.com``).
    strip_gmail_dots
        Drop dots in Gmail local parts (``a.nn@gmail.com`` = ``ann@gmail.com``).
    merge_records
        Merge a record into the one named by its ``merged_into_id`` (HubSpot merged
        contacts, Salesforce ``MasterRecordId``).
    stitch_visitors
        Link web anonymous ids (and logged-in user ids) to people through
        ``identity_links`` evidence and identified touches.
    account_by_domain
        Link a person without an account to the account whose ``domain`` is their email
        domain (free-mail domains excluded).
    account_by_name
        Link a person still without an account by fuzzy company name.
    name_threshold
        Minimum rapidfuzz ``token_sort_ratio`` (0–100) for a name match.
    free_email_domains
        Domains never used to match accounts; ``None`` uses the shipped list.
    confidence
        Confidence (0–1) recorded on links of each rule.

    Examples
    --------
    >>> IdentityRules(name_threshold=95).name_threshold
    95.0
    >>> IdentityRules.from_yaml("{email: false, name_threshold: 85}").email
    False
    """

    lead_conversion: bool = True
    crm_id: bool = True
    email: bool = True
    strip_plus_addressing: bool = False
    strip_gmail_dots: bool = False
    merge_records: bool = True
    stitch_visitors: bool = True
    account_by_domain: bool = True
    account_by_name: bool = True
    name_threshold: float = 90.0
    free_email_domains: frozenset[str] | None = None
    confidence: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(dict(_CONFIDENCE))
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "name_threshold", float(self.name_threshold))
        if not 0 <= self.name_threshold <= 100:
            msg = f"`name_threshold` must be between 0 and 100, got {self.name_threshold!r}"
            raise ValueError(msg)
        if self.free_email_domains is not None:
            doms = frozenset(str(d).strip().lower() for d in self.free_email_domains)
            object.__setattr__(self, "free_email_domains", doms)
        conf = {**_CONFIDENCE, **{str(k): float(v) for k, v in dict(self.confidence).items()}}
        bad = {k: v for k, v in conf.items() if not 0 <= v <= 1}
        if bad:
            msg = f"`confidence` values must be between 0 and 1, got {bad!r}"
            raise ValueError(msg)
        object.__setattr__(self, "confidence", MappingProxyType(conf))

    @property
    def free_domains(self) -> frozenset[str]:
        """The free-mail domains in force (given, else shipped)."""
        return free_email_domains() if self.free_email_domains is None else self.free_email_domains

    @classmethod
    def from_yaml(cls, source: str | Path) -> IdentityRules:
        """Read rules from a YAML file or text; keys are the field names."""
        raw = load_yaml(source, what="identity rules") or {}
        if not isinstance(raw, dict):
            msg = f"identity rules YAML must be a mapping, got {type(raw).__name__}"
            raise ValueError(msg)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            msg = f"unknown identity rule key(s) {unknown}; valid keys are {sorted(known)}"
            raise ValueError(msg)
        kwargs: dict[str, Any] = dict(raw)
        if kwargs.get("free_email_domains") is not None:
            kwargs["free_email_domains"] = frozenset(kwargs["free_email_domains"])
        if "confidence" in kwargs:
            kwargs["confidence"] = MappingProxyType(dict(kwargs["confidence"]))
        return replace(cls(), **kwargs)
