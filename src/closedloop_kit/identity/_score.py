"""Score a resolution against known true identities (simulated data)."""

from __future__ import annotations

import polars as pl

from closedloop_kit._core.frames import collect
from closedloop_kit.identity._report import ResolveResult

__all__ = ["score_against_truth"]


def _pairs(sizes: pl.Series) -> int:
    s = sizes.cast(pl.Int64)
    return int((s * (s - 1) // 2).sum())


def _evidenced_visitors(result: ResolveResult) -> pl.Series:
    """Anonymous ids whose evidence connects, directly or through other ids, to a record.

    The evidence graph joins identifiers that appear together (``identity_links``
    rows, identifying touches, touches with a user id); a visitor is linkable when its
    connected component holds a person key, an email or a hashed email of a record.
    """
    from closedloop_kit.identity._dedupe import _email_key, components
    from closedloop_kit.identity._links import _evidence, _known_people, _lookup_kind

    people = collect(result.data.people)
    golden = people.select("person_id", "golden_person_id")
    has_email = "email" in people.columns or "email_normalized" in people.columns
    email_key = (
        _email_key(people.lazy(), result.report.rules)
        if has_email
        else pl.lit(None, dtype=pl.String)
    )
    ev = _evidence(result.data.identity_links, result.data.lazy("touchpoints"))
    if ev.height == 0:
        return pl.Series("a", [], dtype=pl.String)
    known = _known_people(people, golden, email_key, need_sha=True)
    node_a = pl.concat_str(pl.col("a_type"), pl.lit("|"), pl.col("a_value"))
    lookup = (
        pl.when(_lookup_kind("b_type") == "person")
        .then(pl.col("b_value"))
        .otherwise(pl.col("b_value").str.strip_chars().str.to_lowercase())
    )
    ev = ev.with_columns(_lookup_kind("b_type").alias("kind"), lookup.alias("value")).join(
        known.select("kind", "value", pl.lit(True).alias("anchor")),
        on=["kind", "value"],
        how="left",
    )
    # anchored b ends become one node per record; the others stay identifiers
    node_b = (
        pl.when(pl.col("anchor"))
        .then(pl.lit("RECORD"))
        .otherwise(pl.concat_str(pl.col("b_type"), pl.lit("|"), pl.col("b_value")))
    )
    edges = ev.select(node_a.alias("person_id"), node_b.alias("linked_person_id"))
    comp = components(pl.Series(["RECORD"]), edges)
    anchored = comp.filter(pl.col("node") == "RECORD")["component"]
    linked = comp.filter(
        pl.col("component").is_in(anchored.implode())
        & pl.col("node").str.starts_with("anonymous_id|")
    )
    return linked["node"].str.replace("^anonymous_id\\|", "").rename("a")


def score_against_truth(
    result: ResolveResult,
    truth_identity: pl.DataFrame | pl.LazyFrame,
    truth_visitors: pl.DataFrame | pl.LazyFrame | None = None,
) -> dict[str, float]:
    r"""Precision and recall of person merges and of visitor → person links.

    Person merges are scored on *pairs* of records: a pair is predicted when both
    records have the same ``golden_person_id`` and true when they have the same
    ``true_person_key``.

    .. math::

        \text{precision} = \frac{|\text{pred} \cap \text{true}|}{|\text{pred}|},\qquad
        \text{recall} = \frac{|\text{pred} \cap \text{true}|}{|\text{true}|}

    (1.0 when the denominator is 0). Visitors are scored on anonymous ids: a linked
    visitor is correct when its golden person's true key is the visitor's true key;
    precision is over linked visitors; recall is over *linkable* visitors: those whose
    true person is among the records in ``truth_identity`` and whose evidence in the
    data (``identity_links`` rows, identifying touches, touches with a user id) connects,
    directly or through other ids, to some record — a visitor who never filled in a form
    or logged in anywhere tied to a record cannot be linked by anyone.
    ``visitor_coverage`` is the share of all visitors whose true person is a record that
    were linked correctly.

    Parameters
    ----------
    result
        What :func:`resolve` returned.
    truth_identity
        ``person_id`` → ``true_person_key``.
    truth_visitors
        ``anonymous_id`` → ``true_person_key``.

    Returns
    -------
    ``person_precision``, ``person_recall``, ``person_pairs_true``,
    ``person_pairs_predicted``, ``visitor_precision``, ``visitor_recall``,
    ``visitor_coverage``, ``visitors_linked``, ``visitors_linkable``,
    ``visitors_with_record``.

    Examples
    --------
    >>> import closedloop_kit as clk
    >>> people = pl.DataFrame({"person_id": ["a", "b", "c"],
    ...                        "email": ["x@y.com", "x@y.com", "z@y.com"]})
    >>> res = clk.identity.resolve(clk.store.ClosedLoopData({"people": people}))
    >>> truth = pl.DataFrame({"person_id": ["a", "b", "c"], "true_person_key": [1, 1, 1]})
    >>> s = score_against_truth(res, truth)
    >>> s["person_precision"], round(s["person_recall"], 3)   # 1 of 3 true pairs found
    (1.0, 0.333)
    """
    people = collect(result.data.people).select("person_id", "golden_person_id")
    truth = collect(truth_identity).select("person_id", pl.col("true_person_key").cast(pl.String))
    both = people.join(truth, on="person_id", how="inner")
    pred = _pairs(both.group_by("golden_person_id").len()["len"])
    true = _pairs(both.group_by("true_person_key").len()["len"])
    tp = _pairs(both.group_by(["golden_person_id", "true_person_key"]).len()["len"])
    out: dict[str, float] = {
        "person_precision": tp / pred if pred else 1.0,
        "person_recall": tp / true if true else 1.0,
        "person_pairs_true": float(true),
        "person_pairs_predicted": float(pred),
    }
    if truth_visitors is not None:
        tv = collect(truth_visitors).select(
            "anonymous_id", pl.col("true_person_key").cast(pl.String).alias("__true")
        )
        links = collect(result.data.identity_links)
        vis = links.filter(
            (pl.col("id_type") == "anonymous_id") & pl.col("rule").str.starts_with("visitor_")
        ).select(pl.col("id_value").alias("anonymous_id"), pl.col("person_id").alias("__g"))
        evidenced = _evidenced_visitors(result)
        gold_key = truth.select(pl.col("person_id").alias("__g"), pl.col("true_person_key"))
        has_record = pl.col("__true").is_in(truth["true_person_key"].unique().implode())
        scored = (
            tv.join(vis, on="anonymous_id", how="left")
            .join(gold_key, on="__g", how="left")
            .with_columns(
                has_record.alias("__rec"),
                (has_record & pl.col("anonymous_id").is_in(evidenced.implode())).alias("__ok"),
            )
        )
        linked = scored.filter(pl.col("__g").is_not_null())
        hit = (scored["true_person_key"] == scored["__true"]).fill_null(False)
        correct = int(hit.sum())
        linkable = int(scored["__ok"].sum())
        with_record = int(scored["__rec"].sum())
        correct_linkable = int((hit & scored["__ok"]).sum())
        out.update(
            {
                "visitor_precision": correct / linked.height if linked.height else 1.0,
                "visitor_recall": correct_linkable / linkable if linkable else 1.0,
                "visitor_coverage": correct / with_record if with_record else 1.0,
                "visitors_linked": float(linked.height),
                "visitors_linkable": float(linkable),
                "visitors_with_record": float(with_record),
            }
        )
    return out
