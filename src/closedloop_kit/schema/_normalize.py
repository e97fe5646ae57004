"""The one definition of the normalised columns the identity rules match on."""

from __future__ import annotations

import polars as pl

__all__ = ["normalized_domain", "normalized_email"]


def normalized_email(expr: pl.Expr) -> pl.Expr:
    """``email_normalized``: the address trimmed and lower-cased.

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(normalized_email(pl.lit("  Jane.Doe@Acme.COM "))).item()
    'jane.doe@acme.com'
    """
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase()


def normalized_domain(expr: pl.Expr) -> pl.Expr:
    """``accounts.domain``: lower case, without scheme, ``www.``, path, query or fragment.

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(normalized_domain(pl.lit(" https://www.Acme.com/about?x=1"))).item()
    'acme.com'
    """
    return (
        expr.cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^[a-z][a-z0-9+.-]*://", "")
        .str.replace(r"^www\.", "")
        .str.replace(r"[/?#].*$", "")
    )
