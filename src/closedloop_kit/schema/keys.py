"""Canonical keys: source-system prefixes and Salesforce id normalisation.

Keys are ``"<prefix>:<id in the source>"`` so a HubSpot contact ``51`` (``hs:51``) can
never collide with a GA4 visitor ``51`` (``ga4:51``). Salesforce ids are normalised to
the 18-character case-safe form, so a 15-character id copied from a report joins the
18-character id written by Data Loader.
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "SOURCE_PREFIX",
    "is_valid_salesforce_id",
    "prefixed",
    "salesforce_id18",
    "salesforce_id18_expr",
    "salesforce_id_problem_expr",
]

SOURCE_PREFIX: dict[str, str] = {
    "salesforce": "sf",
    "hubspot": "hs",
    "ga4": "ga4",
    "adobe": "adobe",
    "marketo": "mkto",
    "pardot": "pardot",
    "google_ads": "gads",
    "microsoft_ads": "msads",
    "linkedin_ads": "li",
    "meta_ads": "meta",
    "mapped": "map",
    "simulated": "sim",
}
"""The key prefix of each source system."""

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def prefixed(expr: pl.Expr, system: str) -> pl.Expr:
    """Prefix a string id expression with ``system``'s key prefix (nulls stay null).

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(prefixed(pl.lit("51"), "hubspot")).item()
    'hs:51'
    """
    prefix = SOURCE_PREFIX[system]
    return pl.concat_str([pl.lit(f"{prefix}:"), expr.cast(pl.String)])


def salesforce_id18(sf_id: str) -> str:
    """Return the 18-character case-safe form of a 15- or 18-character Salesforce id.

    The three suffix characters encode, for each block of five characters, which
    positions are upper-case letters (bit ``i`` set when character ``i`` is A–Z),
    as an index into ``A–Z0–5``.

    Raises
    ------
    ValueError
        If ``sf_id`` is not 15 or 18 alphanumeric characters, or an 18-character id's
        suffix does not match its first 15 characters (a corrupted id).

    Examples
    --------
    >>> salesforce_id18("001A0000006Vm9r")
    '001A0000006Vm9rIAC'
    """
    if len(sf_id) not in (15, 18) or not sf_id.isascii() or not sf_id.isalnum():
        msg = f"a Salesforce id has 15 or 18 letters and digits, got {sf_id!r}"
        raise ValueError(msg)
    base = sf_id[:15]
    suffix = ""
    for block in range(3):
        bits = 0
        for i, ch in enumerate(base[block * 5 : block * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _SUFFIX_ALPHABET[bits]
    if len(sf_id) == 18 and sf_id[15:].upper() != suffix:
        msg = (
            f"Salesforce id {sf_id!r} fails its checksum: the suffix should be "
            f"{suffix!r} for {base!r}"
        )
        raise ValueError(msg)
    return base + suffix


def is_valid_salesforce_id(sf_id: str) -> bool:
    """Whether ``sf_id`` is a well-formed 15- or 18-character Salesforce id."""
    try:
        salesforce_id18(sf_id)
    except ValueError:
        return False
    return True


def _suffix_expr(expr: pl.Expr) -> pl.Expr:
    chars = []
    for block in range(3):
        bits: pl.Expr = pl.lit(0, dtype=pl.Int32)
        for i in range(5):
            ch = expr.str.slice(block * 5 + i, 1)
            bits = bits + ch.str.contains("^[A-Z]$").cast(pl.Int32) * (1 << i)
        chars.append(pl.lit(_SUFFIX_ALPHABET).str.slice(bits, 1))
    return pl.concat_str(chars)


def salesforce_id18_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised :func:`salesforce_id18`: 18-char form, or null when the id is invalid.

    Use :func:`salesforce_id_problem_expr` to get the reason an id was nulled.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"id": ["001A0000006Vm9r", "001A0000006Vm9rIAC", "bad", None]})
    >>> df.select(salesforce_id18_expr(pl.col("id")))["id"].to_list()
    ['001A0000006Vm9rIAC', '001A0000006Vm9rIAC', None, None]
    """
    base = expr.str.slice(0, 15)
    computed = base + _suffix_expr(base)
    return (
        pl.when(salesforce_id_problem_expr(expr).is_null() & expr.is_not_null())
        .then(computed)
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def salesforce_id_problem_expr(expr: pl.Expr) -> pl.Expr:
    """Why a Salesforce id is invalid (a message), or null when it is valid or null."""
    length = expr.str.len_chars()
    well_formed = expr.str.contains(r"^[A-Za-z0-9]+$") & length.is_in([15, 18])
    base = expr.str.slice(0, 15)
    checksum_ok = (length == 15) | (expr.str.slice(15, 3).str.to_uppercase() == _suffix_expr(base))
    return (
        pl.when(expr.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(~well_formed)
        .then(pl.format("not a Salesforce id (15 or 18 letters/digits): '{}'", expr))
        .when(~checksum_ok)
        .then(pl.format("Salesforce id '{}' fails its 18-character checksum", expr))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
