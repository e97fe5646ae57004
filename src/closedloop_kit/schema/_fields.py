"""Field constructors for the canonical tables: one per column kind (see docs/data-model.md).

Suffixes carry meaning: ``_id``/``_key`` are strings, ``_at`` a UTC datetime
(``Datetime("us", "UTC")``), ``_date`` a calendar date, ``_amount``/``cost`` money with a
``currency`` column, ``_rate`` a share between 0 and 1.
"""

from __future__ import annotations

from typing import Any

# the polars implementations of pandera's built-in checks must be registered before the
# models below create their Check objects (validate evaluates them directly)
import pandera.backends.polars.builtin_checks  # noqa: F401
import pandera.polars as pa
import polars as pl
from pandera.engines import polars_engine

UTC_DATETIME = pl.Datetime("us", "UTC")
"""The one datetime dtype of the canonical model."""

UtcDatetime = polars_engine.DateTime
"""Annotation used for ``*_at`` columns, paired with :func:`at`."""


def _field(description: str, *, nullable: bool = True, **kw: Any) -> Any:
    return pa.Field(nullable=nullable, description=description, **kw)


def key(description: str, *, nullable: bool = False) -> Any:
    """A string identifier: non-empty when present."""
    return _field(description, nullable=nullable, str_length={"min_value": 1})


def text(description: str, *, nullable: bool = True, **kw: Any) -> Any:
    """Free text or a raw source value."""
    return _field(description, nullable=nullable, **kw)


def choice(description: str, options: list[str], *, nullable: bool = True) -> Any:
    """A string restricted to ``options``."""
    return _field(description, nullable=nullable, isin=options)


def at(description: str, *, nullable: bool = True) -> Any:
    """A UTC timestamp (``Datetime("us", "UTC")``)."""
    return _field(
        description, nullable=nullable, dtype_kwargs={"time_zone": "UTC", "time_unit": "us"}
    )


def date(description: str, *, nullable: bool = True) -> Any:
    """A calendar date without time of day (e.g. Salesforce ``CloseDate``)."""
    return _field(description, nullable=nullable)


def flag(description: str, *, nullable: bool = False) -> Any:
    """A boolean flag."""
    return _field(description, nullable=nullable)


def money(description: str, *, nullable: bool = True, signed: bool = False) -> Any:
    """A non-negative amount (paired with a ``currency`` column)."""
    if signed:
        return _field(description, nullable=nullable)
    return _field(description, nullable=nullable, ge=0)


def count(description: str, *, nullable: bool = True) -> Any:
    """A non-negative integer count."""
    return _field(description, nullable=nullable, ge=0)


def currency(
    description: str = "ISO 4217 currency code of the amounts in this row",
    *,
    nullable: bool = True,
) -> Any:
    """A three-letter upper-case ISO 4217 currency code."""
    return _field(description, nullable=nullable, str_matches=r"^[A-Z]{3}$")
