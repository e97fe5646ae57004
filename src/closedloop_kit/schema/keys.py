"""Canonical keys: source-system prefixes and Salesforce id normalisation.

Keys are ``"<prefix>:<id in the source>"`` so a HubSpot contact ``51`` (``hs:51``) can
never collide with a GA4 visitor ``51`` (``ga4:51``). Salesforce ids are normalised to
the 18-character case-safe form, so a 15-character id copied from a report joins the
18-character id written by Data Loader.
"""

from __future__ import annotations

import polars as pl

from closedloop_kit._core.frames import null_series

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
    "call_tracking": "call",
    "mapped": "map",
    "simulated": "sim",
}
"""The key prefix of each source system."""

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_UPPER_BITS = str.maketrans(
    {
        **{c: "0" for c in "abcdefghijklmnopqrstuvwxyz0123456789"},
        **{c: "1" for c in _SUFFIX_ALPHABET[:26]},
    }
)


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
    # "1" for each upper-case letter; read right to left, a block's digits are its bits
    bits = base.translate(_UPPER_BITS)
    a = _SUFFIX_ALPHABET
    suffix = a[int(bits[4::-1], 2)] + a[int(bits[9:4:-1], 2)] + a[int(bits[14:9:-1], 2)]
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


_ALL_SUFFIXES: list[pl.Series] = []
_BLOCK_WEIGHTS = [1 << (i % 5) << (5 * (2 - i // 5)) for i in range(15)]


def _suffix_codes(vals: pl.Series) -> pl.Series:
    """Suffixes of non-null ids: numpy over the packed first-15 bytes of every id.

    Each id's upper-case flags are read as a 15-bit code (block ``k``'s five flags in
    bits ``5(2-k)..5(2-k)+4``), which indexes the 32**3 possible suffixes.
    """
    import numpy as np

    if not _ALL_SUFFIXES:
        a = _SUFFIX_ALPHABET
        _ALL_SUFFIXES.append(pl.Series([x + y + z for x in a for y in a for z in a]))
    n = vals.len()
    base = vals.str.slice(0, 15)
    ok = base.str.len_bytes() == 15  # 15 characters in 15 bytes: ASCII
    if not bool(ok.all()):
        base = pl.select(
            pl.when(pl.lit(ok)).then(pl.lit(base)).otherwise(pl.lit("0" * 15))
        ).to_series()
    arr = np.frombuffer(base.str.join("").item().encode("ascii"), dtype=np.uint8).reshape(n, 15)
    upper = (arr - 65) < 26  # uint8 arithmetic wraps: only A-Z pass
    alnum = upper | ((arr - 48) < 10) | ((arr - 97) < 26)
    valid = ok.to_numpy() & alnum.all(axis=1)
    code = upper.view(np.uint8) @ np.array(_BLOCK_WEIGHTS, dtype=np.int32)
    suffix = _ALL_SUFFIXES[0].gather(pl.Series(code))
    return pl.select(
        pl.when(pl.lit(valid)).then(pl.lit(suffix)).otherwise(pl.lit(None, pl.String))
    ).to_series()


def _suffix_batch(s: pl.Series) -> pl.Series:
    """Checksum suffixes of a batch of ids, computed once per distinct repeated id.

    Null where the first 15 characters are not 15 ASCII letters or digits. Nulls are
    skipped, and columns of repeated ids (owner, account references) are computed once
    per distinct value.
    """
    s = s.cast(pl.String)
    vals = s.drop_nulls()
    if vals.len() > 10_000 and vals.head(2000).n_unique() < 1000:
        distinct = vals.unique()
        lookup = pl.DataFrame({"v": distinct, "sfx": _suffix_codes(distinct)})
        out = pl.DataFrame({"v": s}).join(lookup, on="v", how="left", maintain_order="left")
        return out["sfx"].alias(s.name)
    if vals.len() == s.len():
        return _suffix_codes(vals).alias(s.name)
    full = null_series(s.len(), pl.String, s.name)
    if vals.len() == 0:
        return full
    return full.scatter(s.is_not_null().arg_true(), _suffix_codes(vals))


def salesforce_suffix_expr(expr: pl.Expr) -> pl.Expr:
    """The 3-character checksum suffix of a Salesforce id's first 15 characters.

    Null when those are not 15 ASCII letters or digits. Computed in one vectorised
    numpy pass per batch (``map_batches``, element-wise); pass the result to
    :func:`salesforce_id18_expr` / :func:`salesforce_id_problem_expr` as ``suffix`` to
    compute it once for both.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"id": ["001A0000006Vm9r", "001A0000006Vm9rxyz", "bad", None]})
    >>> df.select(salesforce_suffix_expr(pl.col("id")))["id"].to_list()
    ['IAC', 'IAC', None, None]
    """
    return expr.map_batches(_suffix_batch, return_dtype=pl.String, is_elementwise=True)


def salesforce_id_valid_expr(expr: pl.Expr, *, suffix: pl.Expr | None = None) -> pl.Expr:
    """Whether each id is a valid 15- or 18-character Salesforce id (null stays null).

    Valid: 15 ASCII letters/digits, optionally followed by the 3-character suffix that
    :func:`salesforce_suffix_expr` computes from them (compared case-insensitively).
    ``suffix`` is that expression when already computed.

    Examples
    --------
    >>> import polars as pl
    >>> ids = ["001A0000006Vm9r", "001A0000006Vm9rIAC", "001A0000006Vm9rIAD", "bad", None]
    >>> pl.select(salesforce_id_valid_expr(pl.lit(pl.Series(ids)))).to_series().to_list()
    [True, True, False, False, None]
    """
    sfx = salesforce_suffix_expr(expr) if suffix is None else suffix
    length = expr.str.len_bytes()
    # 18 bytes whose last three upper-case to the suffix are ASCII letters/digits
    checksum_ok = (length == 18) & (expr.str.slice(15, 3).str.to_uppercase() == sfx)
    return (
        pl.when(expr.is_null())
        .then(None)
        .otherwise(sfx.is_not_null() & ((length == 15) | checksum_ok))
    )


def salesforce_id18_expr(expr: pl.Expr, *, suffix: pl.Expr | None = None) -> pl.Expr:
    """Vectorised :func:`salesforce_id18`: 18-char form, or null when the id is invalid.

    Use :func:`salesforce_id_problem_expr` to get the reason an id was nulled.
    ``suffix`` is :func:`salesforce_suffix_expr` of ``expr`` when already computed.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"id": ["001A0000006Vm9r", "001A0000006Vm9rIAC", "bad", None]})
    >>> df.select(salesforce_id18_expr(pl.col("id")))["id"].to_list()
    ['001A0000006Vm9rIAC', '001A0000006Vm9rIAC', None, None]
    """
    sfx = salesforce_suffix_expr(expr) if suffix is None else suffix
    return (
        pl.when(salesforce_id_valid_expr(expr, suffix=sfx))
        .then(expr.str.slice(0, 15) + sfx)
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def salesforce_id_problem_expr(expr: pl.Expr, *, suffix: pl.Expr | None = None) -> pl.Expr:
    """Why a Salesforce id is invalid (a message), or null when it is valid or null.

    ``suffix`` is :func:`salesforce_suffix_expr` of ``expr`` when already computed.
    Messages are formatted for every row: on large frames, filter the rows that
    :func:`salesforce_id_valid_expr` marks False first.
    """
    sfx = salesforce_suffix_expr(expr) if suffix is None else suffix
    length = expr.str.len_bytes()
    # 15 ASCII letters/digits (sfx not null), then nothing or 3 more letters/digits
    tail_ok = expr.str.slice(15, 3).str.contains(r"^[A-Za-z0-9]{3}$")
    well_formed = sfx.is_not_null() & ((length == 15) | ((length == 18) & tail_ok))
    return (
        pl.when(salesforce_id_valid_expr(expr, suffix=sfx).not_())
        .then(
            pl.when(well_formed)
            .then(pl.format("Salesforce id '{}' fails its 18-character checksum", expr))
            .otherwise(pl.format("not a Salesforce id (15 or 18 letters/digits): '{}'", expr))
        )
        .otherwise(pl.lit(None, dtype=pl.String))
    )
