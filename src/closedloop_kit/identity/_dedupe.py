"""Person de-duplication: rule edges between person records, connected components, golden ids.

Every rule produces *edges* between two person keys (``person_id``, ``linked_person_id``,
``rule``). The clusters are the connected components of the graph of all edges
(:func:`scipy.sparse.csgraph.connected_components`, linear in nodes + edges), and each
cluster's golden record is chosen by a fixed order that does not depend on row order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from closedloop_kit._core.frames import collect, require_columns
from closedloop_kit._core.result import Result
from closedloop_kit.config import PERSON_RULES, IdentityRules
from closedloop_kit.schema import normalized_email

__all__ = [
    "DedupeResult",
    "components",
    "dedupe",
    "golden_ids",
    "normalized_email_expr",
    "person_edges",
]

DERIVED_RULES: frozenset[str] = frozenset(
    {
        *PERSON_RULES,
        "email_plus",
        "email_gmail_dots",
        "visitor_person",
        "visitor_user_id",
        "visitor_email",
        "account_explicit",
        "account_conversion",
        "account_cluster",
        "account_domain",
        "account_name",
    }
)
"""Rules whose ``identity_links`` rows :func:`resolve` writes (and rewrites on a re-run)."""

_EDGE_SCHEMA = {"person_id": pl.String, "linked_person_id": pl.String, "rule": pl.String}
_TYPE_RANK = {"contact": 0, "lead": 1, "prospect": 2, "visitor": 3}


def normalized_email_expr(
    email: pl.Expr, *, strip_plus: bool = False, strip_gmail_dots: bool = False
) -> pl.Expr:
    """Trimmed, lower-cased email (null when empty or without ``@``).

    ``strip_plus`` drops a ``+tag`` from the local part; ``strip_gmail_dots`` drops dots
    from Gmail local parts and maps ``googlemail.com`` to ``gmail.com``.

    Examples
    --------
    >>> s = pl.Series([" Ann.Lee+news@GoogleMail.com ", "bob@x.io", "", "nope"])
    >>> pl.select(normalized_email_expr(pl.lit(s), strip_plus=True,
    ...     strip_gmail_dots=True)).to_series().to_list()
    ['annlee@gmail.com', 'bob@x.io', None, None]
    """
    e = normalized_email(email)
    e = pl.when(e.str.contains(r"^[^@\s]+@[^@\s]+$")).then(e).otherwise(None)
    if strip_plus:
        e = e.str.replace(r"\+[^@]*@", "@")
    if strip_gmail_dots:
        local = e.str.extract(r"^([^@]+)@", 1)
        dom = e.str.extract(r"@(.+)$", 1)
        gmail = dom.is_in(["gmail.com", "googlemail.com"])
        e = (
            pl.when(gmail)
            .then(
                pl.concat_str([local.str.replace_all(".", "", literal=True), pl.lit("@gmail.com")])
            )
            .otherwise(e)
        )
    return e


def _email_key(people: pl.LazyFrame, rules: IdentityRules) -> pl.Expr:
    names = people.collect_schema().names()
    raw = pl.col("email_normalized") if "email_normalized" in names else pl.col("email")
    if "email_normalized" in names and "email" in names:
        raw = pl.coalesce(pl.col("email_normalized"), pl.col("email"))
    return normalized_email_expr(
        raw, strip_plus=rules.strip_plus_addressing, strip_gmail_dots=rules.strip_gmail_dots
    )


def person_edges(
    people: pl.DataFrame | pl.LazyFrame,
    *,
    rules: IdentityRules,
    identity_links: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Edges ``person_id – linked_person_id`` with the ``rule`` that links them.

    Rules (each can be switched off in ``rules``): ``lead_conversion`` (lead →
    ``converted_contact_id``), ``crm_id`` (an ``identity_links`` row between two person
    keys, e.g. a Pardot prospect and the Salesforce lead in its ``crm_lead_fid``),
    ``email`` (same normalised email; ``email_plus`` / ``email_gmail_dots`` when the
    match needed plus-address or Gmail-dot stripping) and ``merge`` (``merged_into_id``).
    """
    lf = people.lazy() if isinstance(people, pl.DataFrame) else people
    names = lf.collect_schema().names()
    parts: list[pl.LazyFrame] = []

    def opt(col: str) -> pl.Expr:
        return pl.col(col) if col in names else pl.lit(None, dtype=pl.String)

    if rules.lead_conversion:
        parts.append(
            lf.select(
                pl.col("person_id"),
                opt("converted_contact_id").alias("linked_person_id"),
                pl.lit("lead_conversion").alias("rule"),
            ).filter(pl.col("linked_person_id").is_not_null())
        )
    if identity_links is not None and (rules.crm_id or rules.merge_records):
        ev = _crm_edges(lf, identity_links)
        if not rules.crm_id:
            ev = ev.filter(pl.col("rule") == "merge")
        if not rules.merge_records:
            ev = ev.filter(pl.col("rule") != "merge")
        parts.append(ev)
    if rules.email and ("email" in names or "email_normalized" in names):
        parts.append(_email_edges(lf, rules))
    if rules.merge_records:
        parts.append(
            lf.select(
                pl.col("person_id"),
                opt("merged_into_id").alias("linked_person_id"),
                pl.lit("merge").alias("rule"),
            ).filter(pl.col("linked_person_id").is_not_null())
        )
    if not parts:
        return pl.DataFrame(schema=_EDGE_SCHEMA)
    edges = pl.concat(
        [p.select(pl.col(c).cast(t) for c, t in _EDGE_SCHEMA.items()) for p in parts]
    ).filter(pl.col("person_id") != pl.col("linked_person_id"))
    # one row per unordered pair and rule, smaller key first: independent of row order
    a, b = pl.col("person_id"), pl.col("linked_person_id")
    return (
        edges.select(
            pl.min_horizontal(a, b).alias("person_id"),
            pl.max_horizontal(a, b).alias("linked_person_id"),
            pl.col("rule"),
        )
        .unique()
        .sort(["rule", "person_id", "linked_person_id"])
        .collect()
    )


def _is_merge_rule() -> pl.Expr:
    return pl.col("rule").str.to_lowercase().str.contains("merge")


def _crm_edges(people: pl.LazyFrame, links: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Evidence rows whose two ends are person keys (``merge`` when the rule says so)."""
    ll = links.lazy() if isinstance(links, pl.DataFrame) else links
    if "person_id" not in ll.collect_schema().names():
        ll = ll.with_columns(pl.lit(None, dtype=pl.String).alias("person_id"))
    ll = ll.filter(~pl.col("rule").is_in(sorted(DERIVED_RULES)))
    keys = people.select(pl.col("person_id").alias("__k")).unique()
    kind = pl.when(_is_merge_rule()).then(pl.lit("merge")).otherwise(pl.lit("crm_id"))
    pairs = pl.concat(
        [
            ll.select(
                pl.col("id_value").alias("a"), pl.col("linked_id_value").alias("b"), kind.alias("r")
            ),
            ll.select(
                pl.col("person_id").alias("a"), pl.col("id_value").alias("b"), kind.alias("r")
            ),
            ll.select(
                pl.col("person_id").alias("a"),
                pl.col("linked_id_value").alias("b"),
                kind.alias("r"),
            ),
        ]
    ).filter(pl.col("a").is_not_null() & pl.col("b").is_not_null() & (pl.col("a") != pl.col("b")))
    pairs = pairs.join(keys, left_on="a", right_on="__k", how="semi").join(
        keys, left_on="b", right_on="__k", how="semi"
    )
    return pairs.select(
        pl.col("a").alias("person_id"),
        pl.col("b").alias("linked_person_id"),
        pl.col("r").alias("rule"),
    )


def merged_away_ids(links: pl.DataFrame | pl.LazyFrame | None) -> list[str]:
    """Keys that merge evidence says were merged into another (``id_value`` of the row)."""
    if links is None:
        return []
    ll = links.lazy() if isinstance(links, pl.DataFrame) else links
    out = (
        ll.filter(_is_merge_rule() & ~pl.col("rule").is_in(sorted(DERIVED_RULES)))
        .select(pl.col("id_value").cast(pl.String))
        .unique()
        .collect()
    )
    return sorted(v for v in out["id_value"].to_list() if v is not None)


def _email_edges(people: pl.LazyFrame, rules: IdentityRules) -> pl.LazyFrame:
    key = _email_key(people, rules)
    plain = _email_key(people, IdentityRules())
    base = people.select(pl.col("person_id"), key.alias("__e"), plain.alias("__p")).filter(
        pl.col("__e").is_not_null()
    )
    anchor = base.group_by("__e").agg(pl.col("person_id").min().alias("__anchor"))
    joined = base.join(anchor, on="__e").filter(pl.col("person_id") != pl.col("__anchor"))
    anchor_plain = base.select(pl.col("person_id").alias("__anchor"), pl.col("__p").alias("__ap"))
    joined = joined.join(anchor_plain, on="__anchor", how="left")
    rule = (
        pl.when(pl.col("__p") == pl.col("__ap"))
        .then(pl.lit("email"))
        .when(
            pl.col("__p").str.replace(r"\+[^@]*@", "@")
            == pl.col("__ap").str.replace(r"\+[^@]*@", "@")
        )
        .then(pl.lit("email_plus"))
        .otherwise(pl.lit("email_gmail_dots"))
    )
    return joined.select(
        pl.col("person_id"), pl.col("__anchor").alias("linked_person_id"), rule.alias("rule")
    )


def _indexed(nodes: pl.Series, edges: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
    """Every node (sorted) and the edges as integer positions ``idx``, ``idx_b`` (+ rule)."""
    all_nodes = (
        pl.concat(
            [
                nodes.cast(pl.String).rename("node"),
                edges["person_id"].rename("node"),
                edges["linked_person_id"].rename("node"),
            ]
        )
        .unique()
        .sort()
    )
    index = pl.DataFrame({"node": all_nodes, "idx": pl.int_range(all_nodes.len(), eager=True)})
    extra = [c for c in ("rule",) if c in edges.columns]
    e = (
        edges.lazy()
        .join(index.lazy(), left_on="person_id", right_on="node")
        .join(index.lazy(), left_on="linked_person_id", right_on="node", suffix="_b")
        .select("idx", "idx_b", *extra)
        .collect()
    )
    return all_nodes, e


def _labels(n: int, e: pl.DataFrame) -> np.ndarray:
    """Component label of each of ``n`` nodes given integer edges ``idx``, ``idx_b``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows, cols = e["idx"].to_numpy(), e["idx_b"].to_numpy()
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n)).tocsr()
    labels: np.ndarray = connected_components(graph, directed=False)[1]
    return labels


def components(nodes: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """Connected components: ``node`` → ``component`` (an integer label).

    ``nodes`` are the person keys; edge endpoints not among them become extra nodes (a
    record merged into one that was not exported still joins its siblings).
    """
    all_nodes, e = _indexed(nodes, edges)
    if edges.height == 0:
        return pl.DataFrame(
            {"node": all_nodes, "component": pl.int_range(all_nodes.len(), eager=True)}
        )
    labels = _labels(all_nodes.len(), e)
    return pl.DataFrame({"node": all_nodes, "component": pl.Series(labels, dtype=pl.Int64)})


def golden_ids(
    people: pl.DataFrame, comp: pl.DataFrame, merged_away: list[str] | None = None
) -> pl.DataFrame:
    """``person_id`` → ``golden_person_id`` for every person row.

    Golden record of a cluster, first by: not deleted; not merged into another record;
    person type (contact, lead, prospect, visitor); oldest ``created_at`` (unknown last);
    smallest ``person_id``. A function of the cluster's members only, so row order
    cannot change it. ``merged_away`` lists keys merge evidence says were merged into
    another record (``identity_links`` rows whose rule mentions "merge": ``id_value``
    was merged into ``linked_id_value``).
    """
    names = people.columns

    def opt(col: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(col) if col in names else pl.lit(None, dtype=dtype)

    ranked = people.select(
        pl.col("person_id"),
        opt("is_deleted", pl.Boolean()).fill_null(False).cast(pl.Int8).alias("__r1"),
        (
            opt("merged_into_id", pl.String()).is_not_null()
            | pl.col("person_id").is_in(merged_away or [])
        )
        .cast(pl.Int8)
        .alias("__r2"),
        opt("person_type", pl.String())
        .replace_strict(_TYPE_RANK, default=9, return_dtype=pl.Int8)
        .alias("__r3"),
        opt("created_at", pl.Datetime("us", "UTC")).alias("__r4"),
    ).join(comp, left_on="person_id", right_on="node", how="left")
    order = ["__r1", "__r2", "__r3", "__r4", "person_id"]
    golden = ranked.group_by("component").agg(
        pl.col("person_id").sort_by(order, nulls_last=True).first().alias("golden_person_id")
    )
    return ranked.join(golden, on="component", how="left").select(
        "person_id", "golden_person_id", "component"
    )


@dataclass(frozen=True)
class DedupeResult(Result):
    """People clustered into real persons, with the reason each pair was merged.

    Attributes
    ----------
    people
        The input people with ``golden_person_id`` and ``cluster_size``.
    pairs
        One row per merged pair and rule: ``person_id``, ``linked_person_id``, ``rule``.
    clusters
        One row per golden person: ``golden_person_id``, ``size``, ``members`` and
        ``rules`` (the rules that built the cluster).
    by_rule
        People left after applying the rules cumulatively in order: ``step``, ``rule``,
        ``pairs``, ``people_after``.
    rules
        The :class:`~closedloop_kit.config.IdentityRules` used.
    """

    people: pl.DataFrame
    pairs: pl.DataFrame
    clusters: pl.DataFrame
    by_rule: pl.DataFrame
    rules: IdentityRules = field(default_factory=IdentityRules)

    @property
    def table(self) -> pl.DataFrame:  # type: ignore[override]
        """The main frame: the golden people (one row per person record with its golden id)."""
        return self.people

    @property
    def n_people(self) -> int:
        """Person records in the input."""
        return self.people.height

    @property
    def n_golden(self) -> int:
        """Distinct real persons after de-duplication."""
        return self.clusters.height

    def summary(self) -> pl.DataFrame:
        """People before and after each rule."""
        return self.by_rule

    def _repr_html_(self) -> str:
        return (
            f"<div><b>DedupeResult</b>: {self.n_people:,} person records → "
            f"{self.n_golden:,} people{self.by_rule._repr_html_()}</div>"
        )

    def __repr__(self) -> str:
        return f"DedupeResult({self.n_people} records -> {self.n_golden} people)"


def by_rule_counts(nodes: pl.Series, edges: pl.DataFrame, people_ids: pl.Series) -> pl.DataFrame:
    """People left after each rule, applying :data:`PERSON_RULES` cumulatively in order.

    The nodes are indexed once; each step is one connected-components call on integers.
    """
    rows: list[dict[str, object]] = [
        {"step": 0, "rule": "(input records)", "pairs": 0, "people_after": people_ids.n_unique()}
    ]
    base = edges.with_columns(
        pl.when(pl.col("rule").str.starts_with("email"))
        .then(pl.lit("email"))
        .otherwise(pl.col("rule"))
        .alias("rule")
    )
    all_nodes, e = _indexed(nodes, base)
    people_idx = (
        pl.DataFrame({"node": people_ids.cast(pl.String).unique()})
        .join(
            pl.DataFrame({"node": all_nodes, "i": pl.int_range(all_nodes.len(), eager=True)}),
            on="node",
        )["i"]
        .to_numpy()
    )
    for i, rule in enumerate(PERSON_RULES, start=1):
        labels = _labels(all_nodes.len(), e.filter(pl.col("rule").is_in(list(PERSON_RULES[:i]))))
        rows.append(
            {
                "step": i,
                "rule": rule,
                "pairs": base.filter(pl.col("rule") == rule).height,
                "people_after": int(np.count_nonzero(np.bincount(labels[people_idx]))),
            }
        )
    return pl.DataFrame(
        rows,
        schema={"step": pl.Int64, "rule": pl.String, "pairs": pl.Int64, "people_after": pl.Int64},
    )


def dedupe(
    people: pl.DataFrame | pl.LazyFrame,
    *,
    rules: IdentityRules | None = None,
    identity_links: pl.DataFrame | pl.LazyFrame | None = None,
) -> DedupeResult:
    """Cluster person records into real persons and say why each pair was merged.

    Edges come from :func:`person_edges` (lead conversion, CRM ids carried in
    ``identity_links``, exact normalised email, merge records); clusters are the
    connected components; each cluster's golden record is chosen by
    :func:`golden_ids`. Names alone never merge two people (two "Ann Lee" at different
    companies stay two people).

    Parameters
    ----------
    people
        Canonical people (``person_id``; uses ``email``/``email_normalized``,
        ``converted_contact_id``, ``merged_into_id``, ``person_type``, ``created_at``,
        ``is_deleted`` when present).
    rules
        Which rules to apply; default :class:`~closedloop_kit.config.IdentityRules`.
    identity_links
        Evidence rows for the ``crm_id`` rule.

    Examples
    --------
    >>> people = pl.DataFrame({
    ...     "person_id": ["sf:L1", "sf:C1", "mkto:9", "hs:5"],
    ...     "person_type": ["lead", "contact", "prospect", "contact"],
    ...     "email": ["ann@acme.com", "Ann@Acme.com ", None, "bob@beta.io"],
    ...     "converted_contact_id": ["sf:C1", None, None, None],
    ... })
    >>> links = pl.DataFrame({"person_id": [None], "id_type": ["crm_id"],
    ...     "id_value": ["mkto:9"], "linked_id_type": ["crm_id"],
    ...     "linked_id_value": ["sf:L1"], "rule": ["marketo_sfdc_lead_id"]})
    >>> res = dedupe(people, identity_links=links)
    >>> res.people.select("person_id", "golden_person_id").rows()
    [('sf:L1', 'sf:C1'), ('sf:C1', 'sf:C1'), ('mkto:9', 'sf:C1'), ('hs:5', 'hs:5')]
    >>> for pair in res.pairs.iter_rows():
    ...     print(pair)
    ('mkto:9', 'sf:L1', 'crm_id')
    ('sf:C1', 'sf:L1', 'email')
    ('sf:C1', 'sf:L1', 'lead_conversion')
    """
    rules = IdentityRules() if rules is None else rules
    frame = require_columns(collect(people), ["person_id"], func="dedupe")
    edges = person_edges(frame, rules=rules, identity_links=identity_links)
    ids = frame["person_id"].cast(pl.String)
    comp = components(ids, edges)
    gold = golden_ids(frame, comp, merged_away_ids(identity_links))
    sizes = gold.group_by("golden_person_id").agg(pl.len().cast(pl.Int64).alias("cluster_size"))
    out = (
        frame.drop(["golden_person_id", "cluster_size"], strict=False)
        .with_row_index("__row")
        .join(gold.select("person_id", "golden_person_id"), on="person_id", how="left")
        .join(sizes, on="golden_person_id", how="left")
        .sort("__row")
        .drop("__row")
    )
    rule_of = (
        edges.join(gold.select("person_id", "golden_person_id"), on="person_id")
        .group_by("golden_person_id")
        .agg(pl.col("rule").unique().sort().alias("rules"))
    )
    clusters = (
        gold.group_by("golden_person_id")
        .agg(pl.len().cast(pl.Int64).alias("size"), pl.col("person_id").sort().alias("members"))
        .join(rule_of, on="golden_person_id", how="left")
        .with_columns(pl.col("rules").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .sort("golden_person_id")
    )
    return DedupeResult(
        people=out,
        pairs=edges,
        clusters=clusters,
        by_rule=by_rule_counts(ids, edges, ids),
        rules=rules,
    )
