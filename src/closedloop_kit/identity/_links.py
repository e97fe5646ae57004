"""Visitor stitching: web anonymous ids and logged-in user ids → golden persons.

Evidence is every ``identity_links`` row (an anonymous id linked to an email, a hashed
email, a CRM id or a user id; a user id linked to a CRM id, ...) plus *identifying*
touches: a form fill or email click that carries both an ``anonymous_id`` and a
``person_id``, and any touch that carries both an ``anonymous_id`` and a ``user_id``.

An identifier is resolved when the other end of a piece of evidence already is: a person
key (any system), a normalised email or its SHA-256 resolves through the people table;
user ids resolved in one pass resolve anonymous ids in the next (up to five passes;
evidence through people always beats evidence through other stitched ids). A
visitor whose evidence points at several people (a shared computer) goes to the person
seen most recently; these visitors are counted as conflicts in the report.
"""

from __future__ import annotations

import hashlib

import polars as pl

from closedloop_kit._core.frames import column_names
from closedloop_kit.config import IdentityRules
from closedloop_kit.identity._dedupe import DERIVED_RULES

__all__ = ["IDENTIFYING_TOUCH_TYPES", "stitch_visitors"]

IDENTIFYING_TOUCH_TYPES: tuple[str, ...] = (
    "form_fill",
    "form_submission",
    "generate_lead",
    "sign_up",
    "login",
    "email_click",
    "webinar_registration",
)
"""Touch types whose ``person_id`` identifies the visitor behind their ``anonymous_id``."""

_EV: dict[str, pl.DataType] = {
    "a_type": pl.String(),
    "a_value": pl.String(),
    "b_type": pl.String(),
    "b_value": pl.String(),
    "seen_first": pl.Datetime("us", "UTC"),
    "seen_last": pl.Datetime("us", "UTC"),
}
_RULE_OF_TYPE = {
    "person": "visitor_person",
    "email": "visitor_email",
    "email_sha256": "visitor_email",
    "user_id": "visitor_user_id",
}
_STITCHED = ("anonymous_id", "user_id")


def _sha256(values: pl.Series) -> pl.Series:
    return pl.Series(
        [None if v is None else hashlib.sha256(v.encode()).hexdigest() for v in values],
        dtype=pl.String,
    )


def _evidence(
    links: pl.DataFrame | pl.LazyFrame | None, touchpoints: pl.LazyFrame | None
) -> pl.DataFrame:
    parts: list[pl.LazyFrame] = []
    if links is not None:
        ll = links.lazy() if isinstance(links, pl.DataFrame) else links
        names = ll.collect_schema().names()
        ll = ll.filter(~pl.col("rule").is_in(sorted(DERIVED_RULES)))
        first = (
            pl.col("first_seen_at") if "first_seen_at" in names else pl.lit(None, _EV["seen_first"])
        )
        last = pl.col("last_seen_at") if "last_seen_at" in names else pl.lit(None, _EV["seen_last"])
        seen = [first.alias("seen_first"), pl.coalesce(last, first).alias("seen_last")]
        parts.append(
            ll.select(
                pl.col("id_type").alias("a_type"),
                pl.col("id_value").alias("a_value"),
                pl.col("linked_id_type").alias("b_type"),
                pl.col("linked_id_value").alias("b_value"),
                *seen,
            )
        )
        if "person_id" in names:
            parts.append(
                ll.select(
                    pl.col("id_type").alias("a_type"),
                    pl.col("id_value").alias("a_value"),
                    pl.lit("person_id").alias("b_type"),
                    pl.col("person_id").alias("b_value"),
                    *seen,
                )
            )
    if touchpoints is not None:
        names = touchpoints.collect_schema().names()
        at = pl.col("occurred_at")
        if {"anonymous_id", "person_id", "touch_type"} <= set(names):
            parts.append(
                touchpoints.filter(
                    pl.col("touch_type").is_in(list(IDENTIFYING_TOUCH_TYPES))
                    & pl.col("anonymous_id").is_not_null()
                    & pl.col("person_id").is_not_null()
                ).select(
                    pl.lit("anonymous_id").alias("a_type"),
                    pl.col("anonymous_id").alias("a_value"),
                    pl.lit("person_id").alias("b_type"),
                    pl.col("person_id").alias("b_value"),
                    at.alias("seen_first"),
                    at.alias("seen_last"),
                )
            )
        if {"anonymous_id", "user_id"} <= set(names):
            parts.append(
                touchpoints.filter(
                    pl.col("anonymous_id").is_not_null() & pl.col("user_id").is_not_null()
                ).select(
                    pl.lit("anonymous_id").alias("a_type"),
                    pl.col("anonymous_id").alias("a_value"),
                    pl.lit("user_id").alias("b_type"),
                    pl.col("user_id").cast(pl.String).alias("b_value"),
                    at.alias("seen_first"),
                    at.alias("seen_last"),
                )
            )
    if not parts:
        return pl.DataFrame(schema=_EV)
    ev = pl.concat([p.select(pl.col(c).cast(t) for c, t in _EV.items()) for p in parts])
    ev = ev.filter(pl.col("a_value").is_not_null() & pl.col("b_value").is_not_null())
    both = pl.concat(
        [
            ev,
            ev.select(
                pl.col("b_type").alias("a_type"),
                pl.col("b_value").alias("a_value"),
                pl.col("a_type").alias("b_type"),
                pl.col("a_value").alias("b_value"),
                "seen_first",
                "seen_last",
            ),
        ]
    )
    return (
        both.filter(pl.col("a_type").is_in(list(_STITCHED)))
        .group_by(["a_type", "a_value", "b_type", "b_value"])
        .agg(pl.col("seen_first").min(), pl.col("seen_last").max())
        .collect(engine="streaming")
    )


def _known_people(
    people: pl.DataFrame,
    golden: pl.DataFrame,
    email_key: pl.Expr,
    need_sha: bool,
    wanted: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``kind, value → golden_person_id`` for person keys, emails and hashed emails.

    ``wanted`` (``kind``, ``lookup``: the values the evidence names) keeps only the
    person keys and emails the evidence names (all emails when hashed emails are looked
    up: only their hash is named); an email's ambiguity is still judged on every person
    record with it.
    """
    g = golden.select("person_id", "golden_person_id")
    keys = g.select(
        pl.lit("person").alias("kind"), pl.col("person_id").alias("value"), "golden_person_id"
    )
    if wanted is not None:
        named = wanted.filter(pl.col("kind") == "person")["lookup"].implode()
        keys = keys.filter(pl.col("value").is_in(named))
    parts = [keys]
    if "email" in people.columns or "email_normalized" in people.columns:
        em = (
            people.select("person_id", email_key.alias("value"))
            .filter(pl.col("value").is_not_null())
            .join(g, on="person_id")
        )
        if wanted is not None and not need_sha:  # hashed emails need every email
            named = wanted.filter(pl.col("kind") == "email")["lookup"].implode()
            em = em.filter(pl.col("value").is_in(named))
        # an email shared by two golden persons (email rule off) is ambiguous: skip it
        uniq = em.group_by("value").agg(
            pl.col("golden_person_id").n_unique().alias("n"), pl.col("golden_person_id").min()
        )
        uniq = uniq.filter(pl.col("n") == 1).select(
            pl.lit("email").alias("kind"), "value", "golden_person_id"
        )
        parts.append(uniq)
        if need_sha:
            parts.append(
                uniq.with_columns(
                    pl.lit("email_sha256").alias("kind"),
                    pl.col("value").map_batches(_sha256, return_dtype=pl.String),
                )
            )
    return pl.concat(parts).unique(["kind", "value"], keep="first")


def _lookup_kind(type_col: str) -> pl.Expr:
    t = pl.col(type_col).str.to_lowercase()
    return (
        pl.when(t.is_in(["email", "email_normalized"]))
        .then(pl.lit("email"))
        .when(t.is_in(["email_sha256", "hashed_email", "sha256_email"]))
        .then(pl.lit("email_sha256"))
        .otherwise(pl.lit("person"))
    )


def stitch_visitors(
    people: pl.DataFrame,
    golden: pl.DataFrame,
    *,
    rules: IdentityRules,
    email_key: pl.Expr,
    identity_links: pl.DataFrame | pl.LazyFrame | None,
    touchpoints: pl.DataFrame | pl.LazyFrame | None,
) -> tuple[pl.DataFrame, int]:
    """Resolve anonymous ids and user ids to golden persons.

    Returns
    -------
    ``(map, conflicts)``: ``map`` has ``id_type`` (``anonymous_id`` or ``user_id``),
    ``id_value``, ``golden_person_id``, ``rule``, ``first_seen_at``, ``last_seen_at``;
    ``conflicts`` counts identifiers whose evidence named more than one person.
    """
    schema: dict[str, pl.DataType] = {
        "id_type": pl.String(),
        "id_value": pl.String(),
        "golden_person_id": pl.String(),
        "rule": pl.String(),
        "first_seen_at": pl.Datetime("us", "UTC"),
        "last_seen_at": pl.Datetime("us", "UTC"),
    }
    if not rules.stitch_visitors:
        return pl.DataFrame(schema=schema), 0
    tp = None
    if touchpoints is not None:
        tp = touchpoints.lazy() if isinstance(touchpoints, pl.DataFrame) else touchpoints
        if "occurred_at" not in column_names(tp):
            tp = None
    ev = _evidence(identity_links, tp)
    if ev.height == 0:
        return pl.DataFrame(schema=schema), 0
    need_sha = bool(ev.select(_lookup_kind("b_type").eq("email_sha256").any()).item())
    ev = ev.with_columns(
        _lookup_kind("b_type").alias("kind"),
        pl.when(_lookup_kind("b_type") == "email")
        .then(pl.col("b_value").str.strip_chars().str.to_lowercase())
        .when(_lookup_kind("b_type") == "email_sha256")
        .then(pl.col("b_value").str.strip_chars().str.to_lowercase())
        .otherwise(pl.col("b_value"))
        .alias("lookup"),
    )
    known = _known_people(people, golden, email_key, need_sha, wanted=ev.select("kind", "lookup"))
    resolved = pl.DataFrame(schema=schema)
    conflicts = 0
    for _ in range(5):
        known_stitched = resolved.select(
            pl.col("id_type").alias("b_type"),
            pl.col("id_value").alias("lookup"),
            pl.col("golden_person_id").alias("g2"),
            pl.lit("user_id").alias("via2"),
        )
        cand = (
            ev.join(
                known.rename({"value": "lookup", "golden_person_id": "g1"}),
                on=["kind", "lookup"],
                how="left",
            )
            .join(known_stitched, on=["b_type", "lookup"], how="left")
            .with_columns(
                pl.coalesce("g1", "g2").alias("golden_person_id"),
                pl.when(pl.col("g1").is_not_null())
                .then(pl.col("kind"))
                .otherwise(pl.col("via2"))
                .alias("via"),
            )
            .filter(pl.col("golden_person_id").is_not_null())
        )
        # direct evidence (through people) beats evidence through other stitched ids, so
        # an identifier's link never rests on a chain that leads back to itself
        direct = pl.col("g1").is_not_null()
        cand = cand.filter(direct | ~direct.any().over(["a_type", "a_value"]))
        if cand.height == 0:
            break
        per = cand.group_by(["a_type", "a_value", "golden_person_id"]).agg(
            pl.col("seen_first").min(),
            pl.col("seen_last").max(),
            pl.col("via").min(),
        )
        counts = per.group_by(["a_type", "a_value"]).agg(pl.len().alias("n_people"))
        best = (
            per.sort(
                ["a_type", "a_value", "seen_last", "golden_person_id"],
                descending=[False, False, True, False],
                nulls_last=True,
            )
            .group_by(["a_type", "a_value"], maintain_order=True)
            .first()
        )
        new = best.select(
            pl.col("a_type").alias("id_type"),
            pl.col("a_value").alias("id_value"),
            "golden_person_id",
            pl.col("via")
            .replace_strict(_RULE_OF_TYPE, default="visitor_person", return_dtype=pl.String)
            .alias("rule"),
            pl.col("seen_first").alias("first_seen_at"),
            pl.col("seen_last").alias("last_seen_at"),
        ).sort(["id_type", "id_value"])
        conflicts = int(counts.filter(pl.col("n_people") > 1).height)
        if new.equals(resolved):
            break
        resolved = new
    if tp is not None and resolved.height:
        # first/last seen of a visitor link = when the identifier was first/last seen on
        # a touch (stable when resolve runs again on its own output), else the evidence
        resolved = _seen_on_touches(resolved, tp)
    return resolved, conflicts


def _seen_on_touches(resolved: pl.DataFrame, tp: pl.LazyFrame) -> pl.DataFrame:
    names = tp.collect_schema().names()
    ranges: list[pl.LazyFrame] = []
    for kind in _STITCHED:
        if kind in names:
            # only the identifiers resolved: one small hash table, however many visitors
            ids = resolved.filter(pl.col("id_type") == kind)["id_value"].implode()
            ranges.append(
                tp.filter(pl.col(kind).cast(pl.String).is_in(ids))
                .group_by(pl.col(kind).cast(pl.String).alias("id_value"))
                .agg(
                    pl.col("occurred_at").min().alias("__f"),
                    pl.col("occurred_at").max().alias("__l"),
                )
                .with_columns(pl.lit(kind).alias("id_type"))
            )
    if not ranges:
        return resolved
    seen = pl.concat(ranges).collect(engine="streaming")
    return (
        resolved.join(seen, on=["id_type", "id_value"], how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("__f", "first_seen_at").cast(_EV["seen_first"]).alias("first_seen_at"),
            pl.coalesce("__l", "last_seen_at").cast(_EV["seen_last"]).alias("last_seen_at"),
        )
        .drop(["__f", "__l"])
    )
