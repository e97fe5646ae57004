"""Type aliases shared across the package: choices are ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal, TypeAlias, TypeVar

import polars as pl

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
"""A polars frame kind; functions return the kind they were given."""

AnyFrame: TypeAlias = pl.DataFrame | pl.LazyFrame

TableName = Literal[
    "accounts",
    "people",
    "campaigns",
    "campaign_members",
    "touchpoints",
    "opportunities",
    "opportunity_contacts",
    "stage_history",
    "spend",
    "fx_rates",
    "identity_links",
    "activities",
    "users",
    "products",
    "opportunity_products",
]
"""The canonical tables of the closed-loop data model (see docs/data-model.md)."""

SourceSystem = Literal[
    "salesforce",
    "hubspot",
    "ga4",
    "adobe",
    "marketo",
    "pardot",
    "google_ads",
    "microsoft_ads",
    "linkedin_ads",
    "meta_ads",
    "call_tracking",
    "mapped",
    "simulated",
]

PersonType = Literal["lead", "contact", "prospect", "visitor"]
ActivityType = Literal["call", "meeting", "email", "note", "task", "message", "other"]
"""Kinds of sales and marketing activity (``activities.type``)."""
SourcedBy = Literal["marketing", "sales", "partner", "web_direct", "unknown"]
Level = Literal["person", "account"]
Grain = Literal["person", "account", "opportunity"]
Period = Literal["day", "week", "month", "quarter", "year"]
StageName = str
"""Stages are configuration (:class:`closedloop_kit.config.Taxonomy`), so any string."""

AttributionModel = Literal[
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "j_shaped",
    "inverse_j",
    "w_shaped",
    "full_path",
    "custom",
    "markov",
    "shapley",
    "ordered_shapley",
    "fractribution",
    "logistic",
]
