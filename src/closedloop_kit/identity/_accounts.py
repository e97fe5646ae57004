"""Person → account: explicit id, lead conversion, email domain, fuzzy company name.

Each person record gets the account of the first rule that finds one:

1. ``account_explicit``: the record's own ``account_id`` (contacts);
2. ``account_conversion``: a converted lead's ``converted_account_id``;
3. ``account_cluster``: the account of another record of the same golden person
   (the golden record's own account first, then the most common);
4. ``account_domain``: the email domain equals an account's ``domain`` (or the domain
   without its first label, ``eu.acme.com`` → ``acme.com``); free-mail domains never
   match;
5. ``account_name``: the company name, with legal suffixes removed, matches an account
   name exactly (score 100) or by rapidfuzz ``token_sort_ratio`` ≥ the threshold. A
   name match is refused when the person's corporate email domain and the account's
   domain are both known and differ.

Several accounts with one domain or name: the top-level one (no parent), then the
oldest, then the smallest key.
"""

from __future__ import annotations

import polars as pl

from closedloop_kit.config import IdentityRules
from closedloop_kit.schema import normalized_domain

__all__ = ["ACCOUNT_RULES", "link_accounts", "normalized_company_expr"]

ACCOUNT_RULES: tuple[str, ...] = (
    "account_explicit",
    "account_conversion",
    "account_cluster",
    "account_domain",
    "account_name",
)
_PRIORITY = {r: i for i, r in enumerate(ACCOUNT_RULES)}
_SUFFIXES = (
    r"\b(incorporated|inc|llc|l\.l\.c|ltd|limited|gmbh|corp|corporation|co|company|plc|"
    r"s\.a|sa|ag|bv|b\.v|nv|oy|ab|as|srl|spa|pty|pte|kk|sarl|sas|the)\b"
)
_OUT = {
    "person_id": pl.String,
    "account_id": pl.String,
    "rule": pl.String,
    "score": pl.Float64,
}


def normalized_company_expr(name: pl.Expr) -> pl.Expr:
    """Lower case, legal suffixes and punctuation removed, spaces collapsed.

    Examples
    --------
    >>> s = pl.Series(["ACME, Inc.", "The Acme Company", "Beta GmbH"])
    >>> pl.select(normalized_company_expr(pl.lit(s))).to_series().to_list()
    ['acme', 'acme', 'beta']
    """
    n = name.cast(pl.String).str.to_lowercase().str.replace_all(r"[&+]", " and ")
    n = n.str.replace_all(r"[^\w\s.]", " ").str.replace_all(_SUFFIXES, " ")
    n = n.str.replace_all(r"[.\s]+", " ").str.strip_chars()
    return pl.when(n == "").then(None).otherwise(n)


def _account_choice(accounts: pl.DataFrame, by: str) -> pl.DataFrame:
    names = accounts.columns
    parent = pl.col("parent_account_id") if "parent_account_id" in names else pl.lit(None)
    created = pl.col("created_at") if "created_at" in names else pl.lit(None)
    return (
        accounts.with_columns(parent.is_not_null().alias("__p"), created.alias("__c"))
        .filter(pl.col(by).is_not_null())
        .sort([by, "__p", "__c", "account_id"], nulls_last=True)
        .group_by(by, maintain_order=True)
        .agg(pl.col("account_id").first(), *([pl.col("__dom").first()] if by != "__dom" else []))
    )


def _email_domain(email_key: pl.Expr) -> pl.Expr:
    return email_key.str.extract(r"@(.+)$", 1)


def _fuzzy(
    queries: list[str], choices: list[str], threshold: float
) -> list[tuple[str, int, float]]:
    """Best choice index and score for each query at or above ``threshold``.

    Exact matches score 100 without fuzzy matching; the rest are compared only with
    choices that start with the same character (blocking keeps 1M people × 100k
    accounts tractable; a different first letter rarely scores above a high
    threshold).
    """
    import numpy as np
    from rapidfuzz import fuzz, process

    out: list[tuple[str, int, float]] = []
    if not queries or not choices:
        return out
    first_index: dict[str, int] = {}
    for j, c in enumerate(choices):
        first_index.setdefault(c, j)
    blocks: dict[str, list[int]] = {}
    for j, c in enumerate(choices):
        blocks.setdefault(c[:1], []).append(j)
    pending: dict[str, list[str]] = {}
    for q in queries:
        if q in first_index:
            out.append((q, first_index[q], 100.0))
        else:
            pending.setdefault(q[:1], []).append(q)
    chunk = 2000
    for key, qs in sorted(pending.items()):
        idx = blocks.get(key)
        if not idx:
            continue
        block_choices = [choices[j] for j in idx]
        for start in range(0, len(qs), chunk):
            block = qs[start : start + chunk]
            scores = process.cdist(
                block,
                block_choices,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=threshold,
                workers=-1,
            )
            best = scores.argmax(axis=1)
            top = scores[np.arange(len(block)), best]
            for q, j, sc in zip(block, best.tolist(), top.tolist(), strict=True):
                if sc >= threshold and sc > 0:
                    out.append((q, idx[int(j)], float(sc)))
    return out


def link_accounts(
    people: pl.DataFrame,
    golden: pl.DataFrame,
    accounts: pl.DataFrame,
    *,
    rules: IdentityRules,
    email_key: pl.Expr,
) -> pl.DataFrame:
    """``person_id → account_id`` with the ``rule`` and ``score`` (0–100) that linked it.

    Each step is its own function, so its intermediate frames are freed when it returns
    (a million people hold several hundred MB per step).
    """
    base = _base(people, golden, email_key)
    own = _own_accounts(base, rules)
    acc = _with_domain(accounts)
    dmatch = _domain_matches(base, acc, rules)
    nmatch = _name_matches(base, own, dmatch, acc, rules)
    del base
    # per golden person: the best account among members' own, domain and name matches
    cands = pl.concat(
        [
            own.filter(pl.col("a").is_not_null()).select("person_id", "a", "r", "s"),
            dmatch.select(
                "person_id", "a", pl.lit("account_domain").alias("r"), pl.lit(100.0).alias("s")
            ),
            nmatch.select("person_id", "a", pl.lit("account_name").alias("r"), "s"),
        ]
    ).join(golden.select("person_id", "golden_person_id"), on="person_id")
    del own, dmatch, nmatch
    return _choose(cands, golden)


def _base(people: pl.DataFrame, golden: pl.DataFrame, email_key: pl.Expr) -> pl.DataFrame:
    """The columns the account rules read, with the golden person and the email domain."""
    names = people.columns

    def opt(col: str) -> pl.Expr:
        return pl.col(col) if col in names else pl.lit(None, dtype=pl.String)

    return (
        people.select(
            "person_id",
            opt("account_id").alias("__acct"),
            opt("converted_account_id").alias("__conv"),
            email_key.alias("__email"),
            opt("company_name").alias("__company"),
        )
        .join(golden.select("person_id", "golden_person_id"), on="person_id", how="left")
        .with_columns(_email_domain(pl.col("__email")).alias("__dom"))
    )


def _own_accounts(base: pl.DataFrame, rules: IdentityRules) -> pl.DataFrame:
    """A person's own account: explicit, else the account their lead converted into."""
    return base.select(
        "person_id",
        "golden_person_id",
        pl.when(pl.col("__acct").is_not_null())
        .then(pl.struct(a=pl.col("__acct"), r=pl.lit("account_explicit"), s=pl.lit(100.0)))
        .when(pl.col("__conv").is_not_null() & rules.lead_conversion)
        .then(pl.struct(a=pl.col("__conv"), r=pl.lit("account_conversion"), s=pl.lit(100.0)))
        .alias("own"),
    ).unnest("own")


def _with_domain(accounts: pl.DataFrame) -> pl.DataFrame:
    if "domain" in accounts.columns:
        return accounts.with_columns(normalized_domain(pl.col("domain")).alias("__dom"))
    return accounts.with_columns(pl.lit(None, dtype=pl.String).alias("__dom"))


def _domain_matches(base: pl.DataFrame, acc: pl.DataFrame, rules: IdentityRules) -> pl.DataFrame:
    """The account of a person's corporate email domain (or its parent domain)."""
    dmatch = pl.DataFrame(schema={"person_id": pl.String, "a": pl.String})
    if not (rules.account_by_domain and acc.height):
        return dmatch
    free = sorted(rules.free_domains)
    by_dom = _account_choice(acc, "__dom").select(
        pl.col("__dom").alias("__key"), pl.col("account_id").alias("a")
    )
    cand = base.filter(pl.col("__dom").is_not_null() & ~pl.col("__dom").is_in(free))
    cand = cand.select(
        "person_id", "__dom", pl.col("__dom").str.replace(r"^[^.]+\.", "").alias("__dom2")
    )
    exact = cand.join(by_dom, left_on="__dom", right_on="__key", how="left")
    parent = cand.join(by_dom, left_on="__dom2", right_on="__key", how="left").select(
        "person_id", pl.col("a").alias("a2")
    )
    return (
        exact.join(parent, on="person_id", how="left")
        .select("person_id", pl.coalesce("a", "a2").alias("a"))
        .filter(pl.col("a").is_not_null())
    )


def _name_matches(
    base: pl.DataFrame,
    own: pl.DataFrame,
    dmatch: pl.DataFrame,
    acc: pl.DataFrame,
    rules: IdentityRules,
) -> pl.DataFrame:
    """Fuzzy company name, for people with no explicit, conversion or domain match."""
    nmatch = pl.DataFrame(schema={"person_id": pl.String, "a": pl.String, "s": pl.Float64})
    if not (rules.account_by_name and acc.height and "name" in acc.columns):
        return nmatch
    free = sorted(rules.free_domains)
    acc_n = acc.with_columns(normalized_company_expr(pl.col("name")).alias("__n"))
    by_name = _account_choice(acc_n, "__n")
    have = pl.concat(
        [own.filter(pl.col("a").is_not_null()).select("person_id"), dmatch.select("person_id")]
    )
    need = (
        base.join(have, on="person_id", how="anti")
        .select("person_id", "__dom", normalized_company_expr(pl.col("__company")).alias("__n"))
        .filter(pl.col("__n").is_not_null())
    )
    queries = sorted(set(need["__n"].to_list()))
    choices = by_name["__n"].to_list()
    hits = _fuzzy(queries, choices, rules.name_threshold)
    hit_frame = pl.DataFrame(
        {
            "__n": [q for q, _, _ in hits],
            "a": [by_name["account_id"][j] for _, j, _ in hits],
            "__adom": [by_name["__dom"][j] for _, j, _ in hits],
            "s": [s for _, _, s in hits],
        },
        schema={"__n": pl.String, "a": pl.String, "__adom": pl.String, "s": pl.Float64},
    )
    corp = pl.col("__dom").is_not_null() & ~pl.col("__dom").is_in(free)
    conflict = corp & pl.col("__adom").is_not_null() & (pl.col("__adom") != pl.col("__dom"))
    return need.join(hit_frame, on="__n").filter(~conflict).select("person_id", "a", "s")


def _choose(cands: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    """Each person's account: their own best match, else their golden person's."""
    cands = cands.with_columns(
        pl.col("r").replace_strict(_PRIORITY, return_dtype=pl.Int64).alias("__prio"),
        (pl.col("person_id") == pl.col("golden_person_id")).not_().alias("__notgold"),
    )
    per_person = cands.sort(
        ["person_id", "__prio", "s", "a"], descending=[False, False, True, False]
    )
    per_person = per_person.group_by("person_id", maintain_order=True).first()
    freq = cands.group_by(["golden_person_id", "a"]).agg(pl.len().alias("__freq"))
    cluster = (
        cands.join(freq, on=["golden_person_id", "a"])
        .sort(
            ["golden_person_id", "__prio", "__notgold", "__freq", "a"],
            descending=[False, False, False, True, False],
        )
        .group_by("golden_person_id", maintain_order=True)
        .first()
        .select(
            "golden_person_id",
            pl.col("a").alias("ca"),
            pl.col("r").alias("cr"),
            pl.col("s").alias("cs"),
            pl.col("__prio").alias("cprio"),
        )
    )
    out = (
        golden.select("person_id", "golden_person_id")
        .join(per_person.select("person_id", "a", "r", "s", "__prio"), on="person_id", how="left")
        .join(cluster, on="golden_person_id", how="left")
    )
    use_own = pl.col("a").is_not_null() & (
        (pl.col("__prio") <= _PRIORITY["account_conversion"])
        | (pl.col("__prio") <= pl.col("cprio"))
    )
    return (
        out.select(
            "person_id",
            pl.when(use_own).then(pl.col("a")).otherwise(pl.col("ca")).alias("account_id"),
            pl.when(use_own)
            .then(pl.col("r"))
            .when(pl.col("ca").is_not_null())
            .then(pl.lit("account_cluster"))
            .alias("rule"),
            pl.when(use_own).then(pl.col("s")).otherwise(pl.col("cs")).alias("score"),
        )
        .filter(pl.col("account_id").is_not_null())
        .select(pl.col(c).cast(t) for c, t in _OUT.items())
        .sort("person_id")
    )
