"""``resolve``: people → golden persons, visitors → people, people → accounts, in one pass."""

from __future__ import annotations

import polars as pl

from closedloop_kit.config import IdentityRules
from closedloop_kit.identity._accounts import ACCOUNT_RULES, link_accounts
from closedloop_kit.identity._dedupe import (
    DERIVED_RULES,
    _email_key,
    components,
    dedupe,
)
from closedloop_kit.identity._links import stitch_visitors
from closedloop_kit.identity._loop import loop_closure
from closedloop_kit.identity._report import IdentityReport, ResolveResult
from closedloop_kit.schema import TABLES, empty_table
from closedloop_kit.store import ClosedLoopData

__all__ = ["resolve", "resolve_merged_records"]

_UTC = pl.Datetime("us", "UTC")
_DERIVED_ACCOUNT = sorted(set(ACCOUNT_RULES) - {"account_explicit"})


def resolve_merged_records(
    frame: pl.DataFrame,
    key: str,
    *,
    identity_links: pl.DataFrame | None = None,
    id_types: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Point ``merged_into_id`` of every merged record at its final survivor.

    Merges come from ``merged_into_id`` and from ``identity_links`` rows whose
    ``id_type`` is one of ``id_types`` and whose rule mentions "merge" (``id_value``
    was merged into ``linked_id_value``, as the HubSpot loader writes merged deals).
    Chains (``a`` merged into ``b``, ``b`` into ``c``) are followed; the survivor of a
    merge group is the record not merged into anything (else the smallest key).

    Examples
    --------
    >>> deals = pl.DataFrame({"opportunity_id": ["hs:1", "hs:2", "hs:3"],
    ...                       "merged_into_id": [None, "hs:3", "hs:1"]})
    >>> resolve_merged_records(deals, "opportunity_id")["merged_into_id"].to_list()
    [None, 'hs:1', 'hs:1']
    """
    if frame.height == 0:
        return frame
    if "merged_into_id" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("merged_into_id"))
    edges = frame.select(
        pl.col(key).alias("person_id"), pl.col("merged_into_id").alias("linked_person_id")
    ).filter(pl.col("linked_person_id").is_not_null())
    if identity_links is not None and identity_links.height and id_types:
        ev = identity_links.filter(
            pl.col("id_type").is_in(list(id_types))
            & pl.col("rule").str.to_lowercase().str.contains("merge")
            & pl.col("id_value").is_in(frame[key].implode())
        ).select(
            pl.col("id_value").alias("person_id"),
            pl.col("linked_id_value").alias("linked_person_id"),
        )
        merged_away = ev["person_id"].unique()
        frame = frame.with_columns(
            pl.when(pl.col(key).is_in(merged_away.implode()) & pl.col("merged_into_id").is_null())
            .then(
                pl.col(key).replace_strict(
                    dict(
                        ev.sort(["person_id", "linked_person_id"])
                        .unique("person_id", keep="first")
                        .iter_rows()
                    ),
                    default=None,
                )
            )
            .otherwise(pl.col("merged_into_id"))
            .alias("merged_into_id")
        )
        edges = pl.concat([edges, ev])
    if edges.height == 0:
        return frame
    comp = components(frame[key].cast(pl.String), edges)
    ranked = (
        frame.select(key, pl.col("merged_into_id").is_not_null().alias("__m"))
        .join(comp, left_on=key, right_on="node")
        .sort(["component", "__m", key])
        .group_by("component", maintain_order=True)
        .agg(pl.col(key).first().alias("__survivor"))
    )
    mapped = (
        frame.with_row_index("__row")
        .join(comp, left_on=key, right_on="node", how="left")
        .join(ranked, on="component", how="left")
        .sort("__row")
    )
    survivor = pl.col("__survivor")
    return mapped.with_columns(
        pl.when(pl.col(key) == survivor)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("merged_into_id").is_null() & survivor.is_not_null())
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.coalesce(survivor, pl.col("merged_into_id")))
        .alias("merged_into_id")
    ).drop(["__row", "component", "__survivor"])


def _lineage(n_rows: int | None = None) -> list[pl.Expr]:
    return [
        pl.lit("mapped").alias("source_system"),
        pl.lit(None, dtype=pl.String).alias("source_id"),
        pl.lit("identity.resolve").alias("source_file"),
        pl.lit(None, dtype=pl.Int64).alias("source_row"),
    ]


def resolve(data: ClosedLoopData, *, rules: IdentityRules | None = None) -> ResolveResult:
    """Resolve identities: de-duplicate people, stitch visitors, link accounts.

    Rules, in order (each can be switched off in ``rules``; see docs/identity.md):

    1. ``lead_conversion`` – a converted lead and its ``converted_contact_id``;
    2. ``crm_id`` – ``identity_links`` evidence between two person keys (Pardot
       ``crm_lead_fid``/``crm_contact_fid``, Marketo ``sfdcLeadId``, ...);
    3. ``email`` – the same normalised email (``email_plus``/``email_gmail_dots``
       when optional stripping made the match);
    4. ``merge`` – ``merged_into_id`` (HubSpot merged contacts, Salesforce
       ``MasterRecordId``);
    5. visitors – anonymous ids and user ids to golden persons through
       ``identity_links`` evidence, form fills and logged-in touches;
    6. accounts – explicit id, conversion, same person, email domain, fuzzy name.

    Clusters are connected components of the person graph; the golden record is the
    first by (not deleted, not merged, contact > lead > prospect > visitor, oldest,
    smallest key), so the result does not depend on row order, and resolving the
    result again changes nothing.

    Parameters
    ----------
    data
        Canonical tables; uses people, identity_links, touchpoints, accounts,
        opportunities and opportunity_contacts when present.
    rules
        :class:`~closedloop_kit.config.IdentityRules`; default rules when ``None``.

    Returns
    -------
    :class:`ResolveResult` with ``.data`` (new tables: people gain
    ``golden_person_id`` and ``account_id`` where a rule found one; touchpoints get the
    golden ``person_id`` and the ``account_id`` (lazy when ``data``'s touchpoints were
    lazy, e.g. a ``pl.scan_parquet``: the touches are then never held in memory, only the
    columns the rules need are collected, and the plan streams when sunk or collected);
    ``identity_links`` gets one row per
    link with its rule and confidence; merged opportunities point at their final
    survivor) and ``.report`` (:class:`IdentityReport`).

    Examples
    --------
    >>> import datetime as dt
    >>> import closedloop_kit as clk
    >>> people = pl.DataFrame({
    ...     "person_id": ["sf:L1", "sf:C1", "hs:7"],
    ...     "person_type": ["lead", "contact", "contact"],
    ...     "email": ["ann@acme.com", "ann@acme.com", "bo@gmail.com"],
    ...     "account_id": [None, "sf:A1", None],
    ... })
    >>> accounts = pl.DataFrame({"account_id": ["sf:A1"], "name": ["Acme"],
    ...                          "domain": ["acme.com"]})
    >>> t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    >>> touches = pl.DataFrame({
    ...     "touchpoint_id": ["t1", "t2"], "person_id": ["sf:L1", None],
    ...     "anonymous_id": ["ga4:v1", "ga4:v1"], "account_id": [None, None],
    ...     "occurred_at": [t0, t0 + dt.timedelta(days=1)],
    ...     "touch_type": ["form_fill", "web_session"], "is_marketing": [True, True],
    ... })
    >>> data = clk.store.ClosedLoopData(
    ...     {"people": people, "accounts": accounts, "touchpoints": touches})
    >>> res = resolve(data)
    >>> res.data.people.select("person_id", "golden_person_id", "account_id").rows()
    [('sf:L1', 'sf:C1', 'sf:A1'), ('sf:C1', 'sf:C1', 'sf:A1'), ('hs:7', 'hs:7', None)]
    >>> res.data.touchpoints.select("person_id", "account_id").rows()
    [('sf:C1', 'sf:A1'), ('sf:C1', 'sf:A1')]
    >>> res.report.n_people, res.report.session_link_rate
    (2, 1.0)
    """
    rules = IdentityRules() if rules is None else rules
    people = data.frame("people")
    links_in = pl.concat(
        [empty_table("identity_links"), data.frame("identity_links")], how="diagonal_relaxed"
    )
    accounts = data.frame("accounts")
    has_touches = "touchpoints" in data
    # a lazy touchpoints table (a Parquet scan, a store) stays lazy: only the columns
    # the rules need are collected, and the resolved touches come back as a plan
    touches: pl.DataFrame | pl.LazyFrame = data["touchpoints"]

    people = _without_derived_accounts(people, links_in)
    evidence = links_in.filter(~pl.col("rule").is_in(sorted(DERIVED_RULES)))

    # 1-4: people → golden persons
    dd = dedupe(people, rules=rules, identity_links=evidence)
    golden = dd.people.select("person_id", "golden_person_id")
    email_key = (
        _email_key(people.lazy(), rules)
        if ("email" in people.columns or "email_normalized" in people.columns)
        else pl.lit(None, dtype=pl.String)
    )

    # 5: visitors → golden persons
    visitor_map, conflicts = stitch_visitors(
        people,
        golden,
        rules=rules,
        email_key=email_key,
        identity_links=evidence,
        touchpoints=touches if has_touches else None,
    )

    # 6: people → accounts
    acct = link_accounts(people, golden, accounts, rules=rules, email_key=email_key)
    people_out = _with_linked_accounts(dd.people, acct, had_account="account_id" in people.columns)
    golden_account = _golden_accounts(people_out)
    touches_out = (
        _resolve_touches(touches, visitor_map, golden, golden_account)
        if has_touches and (isinstance(touches, pl.LazyFrame) or touches.height)
        else touches
    )
    links_out = _links_table(evidence, dd.pairs, visitor_map, acct, golden, rules=rules)

    # merged opportunities and accounts point at their final survivor
    merged, n_opp_merged = _resolve_merged(data, accounts, evidence)
    tables: dict[str, pl.DataFrame | pl.LazyFrame] = {
        "people": people_out,
        "identity_links": links_out,
    }
    if has_touches:
        tables["touchpoints"] = touches_out
    tables.update(merged)
    new_data = data.with_tables(**tables)

    report = _report(
        dd=dd,
        people_out=people_out,
        touches_in=touches,
        touches_out=touches_out,
        visitor_map=visitor_map,
        conflicts=conflicts,
        acct=acct,
        accounts=accounts,
        new_data=new_data,
        rules=rules,
        n_opp_merged=n_opp_merged,
    )
    return ResolveResult(data=new_data, report=report)


def _without_derived_accounts(people: pl.DataFrame, links_in: pl.DataFrame) -> pl.DataFrame:
    """Drop what an earlier resolve derived (linked accounts, golden ids): idempotence."""
    derived_acct = links_in.filter(pl.col("rule").is_in(_DERIVED_ACCOUNT)).select(
        pl.col("id_value").alias("person_id"), pl.col("linked_id_value").alias("__derived")
    )
    if derived_acct.height and "account_id" in people.columns:
        people = (
            people.with_row_index("__row")
            .join(derived_acct.unique("person_id"), on="person_id", how="left")
            .sort("__row")
            .with_columns(
                pl.when(pl.col("account_id") == pl.col("__derived"))
                .then(pl.lit(None, dtype=pl.String))
                .otherwise(pl.col("account_id"))
                .alias("account_id")
            )
            .drop(["__row", "__derived"])
        )
    return people.drop("golden_person_id", strict=False)


def _with_linked_accounts(
    deduped: pl.DataFrame, acct: pl.DataFrame, *, had_account: bool
) -> pl.DataFrame:
    """People with ``golden_person_id``, their own ``account_id`` else the one a rule linked."""
    return (
        deduped.drop("cluster_size")
        .with_row_index("__row")
        .join(
            acct.select("person_id", pl.col("account_id").alias("__acct")),
            on="person_id",
            how="left",
        )
        .sort("__row")
        .with_columns(
            pl.coalesce(
                pl.col("account_id") if had_account else pl.lit(None),
                pl.col("__acct"),
            )
            .cast(pl.String)
            .alias("account_id")
        )
        .drop(["__row", "__acct"])
    )


def _golden_accounts(people_out: pl.DataFrame) -> pl.DataFrame:
    """Each golden person's account: the golden record's own, else its records' first."""
    return (
        people_out.filter(pl.col("account_id").is_not_null())
        .with_columns((pl.col("person_id") != pl.col("golden_person_id")).alias("__notgold"))
        .sort(["golden_person_id", "__notgold", "account_id"])
        .group_by("golden_person_id", maintain_order=True)
        .agg(pl.col("account_id").first().alias("__gacct"))
    )


def _resolve_touches(
    touches: pl.DataFrame | pl.LazyFrame,
    visitor_map: pl.DataFrame,
    golden: pl.DataFrame,
    golden_account: pl.DataFrame,
) -> pl.DataFrame | pl.LazyFrame:
    """Touchpoints with their golden ``person_id`` and its ``account_id``.

    Eager in, eager out; a LazyFrame in comes back as a LazyFrame (the joins are a plan
    that streams when it is sunk or collected).
    """
    tnames = touches.collect_schema().names()

    def opt(col: str) -> pl.Expr:
        return pl.col(col) if col in tnames else pl.lit(None, dtype=pl.String)

    # A touch's person is its own record's golden person, else that of its user id,
    # else that of its anonymous id (the first that is known). Each touch is looked up
    # ONCE, under the first key that can answer: one join on (kind, value) instead of
    # one join per kind (on a streamed input each join holds its own buffers).
    lookup = pl.concat(
        [
            # only records that are not their own golden record (the rest keep their id)
            golden.filter(pl.col("person_id") != pl.col("golden_person_id")).select(
                pl.lit("person").alias("__kind"),
                pl.col("person_id").alias("__key"),
                pl.col("golden_person_id").alias("__g"),
            ),
            visitor_map.filter(pl.col("id_type").is_in(["user_id", "anonymous_id"])).select(
                pl.col("id_type").alias("__kind"),
                pl.col("id_value").alias("__key"),
                pl.col("golden_person_id").alias("__g"),
            ),
        ]
    )
    pid, user = opt("person_id"), opt("user_id").cast(pl.String)
    by_user = user.is_in(_mapped(visitor_map, "user_id")).fill_null(False)
    kind, key = pl.col("__kind"), pl.col("__key")
    touches_out = (
        touches.lazy()
        .with_columns(
            pl.when(pid.is_not_null())
            .then(pl.lit("person"))
            .when(by_user)
            .then(pl.lit("user_id"))
            .otherwise(pl.lit("anonymous_id"))
            .alias("__kind")
        )
        .with_columns(
            pl.when(kind == "person")
            .then(pid)
            .when(kind == "user_id")
            .then(user)
            .otherwise(opt("anonymous_id"))
            .alias("__key")
        )
        .join(lookup.lazy(), on=[kind, key], how="left", maintain_order="left")
        .with_columns(pl.coalesce("__g", pid).alias("person_id"))
        .join(
            golden_account.lazy().rename({"golden_person_id": "person_id"}),
            on="person_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.coalesce(opt("account_id"), pl.col("__gacct")).alias("account_id"))
        .drop(["__kind", "__key", "__g", "__gacct"])
    )
    out_names = touches_out.collect_schema().names()
    touches_out = touches_out.select([*tnames, *[c for c in out_names if c not in tnames]])
    return touches_out if isinstance(touches, pl.LazyFrame) else touches_out.collect()


def _resolve_merged(
    data: ClosedLoopData, accounts: pl.DataFrame, evidence: pl.DataFrame
) -> tuple[dict[str, pl.DataFrame], int]:
    """Merged opportunities and accounts pointing at their final survivor.

    Returns the resolved tables present in ``data`` and how many opportunities were merged.
    """
    tables: dict[str, pl.DataFrame] = {}
    opps = data.frame("opportunities")
    n_opp_merged = 0
    if "opportunities" in data:
        opps = resolve_merged_records(
            opps,
            "opportunity_id",
            identity_links=evidence,
            id_types=("deal_id", "opportunity_id"),
        )
        tables["opportunities"] = opps
        if "merged_into_id" in opps.columns:
            n_opp_merged = int(opps["merged_into_id"].is_not_null().sum())
    if "accounts" in data:
        tables["accounts"] = resolve_merged_records(
            accounts,
            "account_id",
            identity_links=evidence,
            id_types=("account_id", "company_id"),
        )
    return tables, n_opp_merged


def _links_table(
    evidence: pl.DataFrame,
    pairs: pl.DataFrame,
    visitor_map: pl.DataFrame,
    acct: pl.DataFrame,
    golden: pl.DataFrame,
    *,
    rules: IdentityRules,
) -> pl.DataFrame:
    conf = dict(rules.confidence)
    g = golden.rename({"golden_person_id": "__g"})
    person_rows = pairs.join(g, on="person_id", how="left").select(
        pl.col("__g").alias("person_id"),
        pl.lit("person_id").alias("id_type"),
        pl.col("person_id").alias("id_value"),
        pl.lit("person_id").alias("linked_id_type"),
        pl.col("linked_person_id").alias("linked_id_value"),
        "rule",
        pl.col("rule")
        .replace_strict(conf, default=None, return_dtype=pl.Float64)
        .alias("confidence"),
        pl.lit(None, dtype=_UTC).alias("first_seen_at"),
        pl.lit(None, dtype=_UTC).alias("last_seen_at"),
    )
    visitor_rows = visitor_map.select(
        pl.col("golden_person_id").alias("person_id"),
        "id_type",
        "id_value",
        pl.lit("person_id").alias("linked_id_type"),
        pl.col("golden_person_id").alias("linked_id_value"),
        "rule",
        pl.col("rule")
        .replace_strict(conf, default=None, return_dtype=pl.Float64)
        .alias("confidence"),
        "first_seen_at",
        "last_seen_at",
    )
    account_rows = acct.join(g, on="person_id", how="left").select(
        pl.col("__g").alias("person_id"),
        pl.lit("person_id").alias("id_type"),
        pl.col("person_id").alias("id_value"),
        pl.lit("account_id").alias("linked_id_type"),
        pl.col("account_id").alias("linked_id_value"),
        "rule",
        pl.when(pl.col("rule") == "account_name")
        .then(pl.col("score") / 100.0)
        .otherwise(pl.col("rule").replace_strict(conf, default=None, return_dtype=pl.Float64))
        .alias("confidence"),
        pl.lit(None, dtype=_UTC).alias("first_seen_at"),
        pl.lit(None, dtype=_UTC).alias("last_seen_at"),
    )
    derived = pl.concat([person_rows, visitor_rows, account_rows], how="vertical_relaxed")
    derived = derived.with_columns(_lineage())
    # evidence rows keep their rule; a person they name becomes its golden person (rows
    # that name no person stay so: filling them would add evidence on a second run)
    ev = evidence
    if ev.height:
        ev = (
            ev.join(g, on="person_id", how="left", maintain_order="left")
            .with_columns(pl.coalesce("__g", "person_id").alias("person_id"))
            .drop("__g")
        )
    cols = TABLES["identity_links"].columns
    template = empty_table("identity_links")
    out = pl.concat(
        [template, ev, derived.select([c for c in cols if c in derived.columns])],
        how="diagonal_relaxed",
    )
    key = list(TABLES["identity_links"].key)
    ordered = [*cols, *[c for c in out.columns if c not in cols]]
    # rows repeating a key (the same evidence seen twice) become one row spanning both
    others = [c for c in ordered if c not in key and c not in ("first_seen_at", "last_seen_at")]
    return (
        out.select(ordered)
        .with_columns(pl.col(c).cast(t) for c, t in cols.items())
        .group_by(key, maintain_order=True)
        .agg(
            *[pl.col(c).first() for c in others],
            pl.col("first_seen_at").min(),
            pl.col("last_seen_at").max(),
        )
        .select(ordered)
    )


def _mapped(visitor_map: pl.DataFrame, id_type: str) -> pl.Series:
    """The identifiers of one type the visitor map resolves, as one list (for ``is_in``)."""
    return visitor_map.filter(pl.col("id_type") == id_type)["id_value"].implode()


def _touch_counts(
    touches: pl.DataFrame | pl.LazyFrame, visitor_map: pl.DataFrame
) -> tuple[int, int, int, int]:
    """Web sessions, sessions linked to a person, visitors, visitors linked.

    Read from the touches *before* resolution: :func:`_resolve_touches` gives a touch a
    person exactly when it names one, or its ``user_id`` or ``anonymous_id`` is in the
    visitor map, so set membership stands in for its joins (half the memory on a
    streamed input). One streaming pass with one group per visitor (touches without an
    ``anonymous_id`` form one group).
    """
    names = touches.collect_schema().names()
    linked = pl.lit(False)
    if "person_id" in names:
        linked = linked | pl.col("person_id").is_not_null()
    if "user_id" in names:
        linked = linked | pl.col("user_id").cast(pl.String).is_in(_mapped(visitor_map, "user_id"))
    if "anonymous_id" in names:
        linked = linked | pl.col("anonymous_id").is_in(_mapped(visitor_map, "anonymous_id"))
    sess = (pl.col("touch_type") == "web_session") if "touch_type" in names else pl.lit(False)
    anon = pl.col("anonymous_id") if "anonymous_id" in names else pl.lit(None, pl.String)
    row = (
        touches.lazy()
        .group_by(anon.alias("__anon"))
        .agg(
            sess.sum().alias("s"),
            (sess & linked.fill_null(False)).sum().alias("sl"),
            linked.fill_null(False).any().alias("__linked"),
        )
        .select(
            pl.col("s").sum(),
            pl.col("sl").sum(),
            pl.col("__anon").is_not_null().sum().alias("v"),
            (pl.col("__anon").is_not_null() & pl.col("__linked")).sum().alias("vl"),
        )
        .collect(engine="streaming")
        .row(0)
    )
    return tuple(int(x or 0) for x in row)  # type: ignore[return-value]


def _report(
    *,
    dd: object,
    people_out: pl.DataFrame,
    touches_in: pl.DataFrame | pl.LazyFrame,
    touches_out: pl.DataFrame | pl.LazyFrame,
    visitor_map: pl.DataFrame,
    conflicts: int,
    acct: pl.DataFrame,
    accounts: pl.DataFrame,
    new_data: ClosedLoopData,
    rules: IdentityRules,
    n_opp_merged: int,
) -> IdentityReport:
    from closedloop_kit.identity._dedupe import DedupeResult

    assert isinstance(dd, DedupeResult)
    n_sessions, linked, n_visitors, visitors_linked = _touch_counts(touches_in, visitor_map)
    goldens = people_out.filter(pl.col("person_id") == pl.col("golden_person_id"))
    with_acct = people_out.filter(pl.col("account_id").is_not_null())["golden_person_id"].n_unique()
    account_links = (
        acct.group_by("rule")
        .agg(pl.len().cast(pl.Int64).alias("people"), pl.col("score").mean().alias("mean_score"))
        .join(
            pl.DataFrame({"rule": list(ACCOUNT_RULES), "__o": list(range(len(ACCOUNT_RULES)))}),
            on="rule",
            how="left",
        )
        .sort("__o")
        .drop("__o")
    )
    names = acct.filter(pl.col("rule") == "account_name")
    acc_names = (
        accounts.select("account_id", pl.col("name").alias("account_name"))
        if "name" in accounts.columns
        else pl.DataFrame(schema={"account_id": pl.String, "account_name": pl.String})
    )
    company = (
        people_out.select("person_id", "company_name")
        if "company_name" in people_out.columns
        else people_out.select("person_id", pl.lit(None, dtype=pl.String).alias("company_name"))
    )
    name_matches = (
        names.join(company, on="person_id", how="left")
        .join(acc_names.unique("account_id"), on="account_id", how="left")
        .select("person_id", "company_name", "account_id", "account_name", "score")
    )
    loop = loop_closure(
        new_data.frame("opportunities"),
        touches_out,
        people=people_out,
        opportunity_contacts=new_data.frame("opportunity_contacts"),
        accounts=accounts if accounts.height else None,
    )
    _ = n_opp_merged
    return IdentityReport(
        people_by_rule=dd.by_rule,
        account_links=account_links,
        name_matches=name_matches,
        n_records=people_out.height,
        n_people=goldens.height,
        n_sessions=n_sessions,
        sessions_linked=linked,
        n_visitors=n_visitors,
        visitors_linked=visitors_linked,
        visitor_conflicts=conflicts,
        people_with_account=with_acct,
        loop=loop,
        rules=rules,
    )
