"""Read HubSpot exports into the canonical tables.

Two shapes: the CRM UI export of contacts, companies, deals and activities (label
headers such as ``Record ID``, ``Create Date``, ``Lifecycle Stage``, ``Became a … Date``,
``Associated Company IDs``, ``Activity date``) and the warehouse-synced tables
(``property_*`` columns, merge audit, deal stage history, pipelines and stages,
associations, form submissions, email events, engagements, owners, products, line items,
lists). HubSpot ids look numeric but are always read and kept as text
(``hs:<id>``). Mappings live in :mod:`closedloop_kit.io._hubspot_map`.

Lookups (deal pipelines and stages, deal–company associations, the contacts export for
email recipients) are read from the same folder when a file needs them.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._hubspot_map import (
    CALL_OUTCOMES,
    EMAIL_TOUCH_TYPES,
    ENGAGEMENT_TYPES,
    LIFECYCLE_DATES,
    NOT_CANONICAL,
    OBJECTS,
    TRACKED_PROPERTIES,
    HubSpotSpec,
)
from closedloop_kit.io._parse import (
    DateRange,
    Mapped,
    find_column,
    map_columns,
    normalize_name,
    numeric_id_exprs,
    parse_datetime,
)
from closedloop_kit.io._registry import read_paths, register, suggest_reader
from closedloop_kit.io._result import REJECT_REASON, LoadResult, finish
from closedloop_kit.io._sheet import TABLE_KINDS, read_table
from closedloop_kit.io._text import FileSniff, sniff
from closedloop_kit.schema import normalized_domain, normalized_email

__all__ = ["read_hubspot"]

SYSTEM = "hubspot"
_PREFIX = "hs:"

_EXTRA_DTYPES: dict[str, pl.DataType] = {
    "merged_ids": pl.String(),
    "contact_ids": pl.String(),
    "survivor": pl.String(),
    "merged": pl.String(),
    "form_id": pl.String(),
    "conversion_id": pl.String(),
    "event_type": pl.String(),
    "recipient": pl.String(),
    "property": pl.String(),
    "stage_id": pl.String(),
    "pipeline_id": pl.String(),
    "label": pl.String(),
    "probability": pl.Float64(),
    "deal_id": pl.String(),
    "company_id": pl.String(),
    "first_seen_at": pl.Datetime("us", "UTC"),
    "type_raw": pl.String(),
    "end_at": pl.Datetime("us", "UTC"),
    "duration_ms": pl.Float64(),
    "company_ids": pl.String(),
    "deal_ids": pl.String(),
    "active_user_id": pl.String(),
    "removed": pl.Boolean(),
}
_TEXT_ONLY = frozenset(
    {
        "source_id",
        "account_id",
        "owner_id",
        "merged_ids",
        "contact_ids",
        "person_id",
        "opportunity_id",
        "entity_id",
        "campaign_id",
        "survivor",
        "merged",
        "deal_id",
        "company_id",
        "stage_raw",
        "pipeline",
        "company_ids",
        "deal_ids",
        "active_user_id",
        "product_id",
        "engagement_id",
        "contact_id",
        "team_id",
        "user_id",
        "role_id",
        "line_item_id",
    }
)


def read_hubspot(
    path: str | Path,
    *,
    object: str | None = None,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
    currency: str | None = None,
) -> LoadResult:
    r"""Read HubSpot exports (file, folder or glob) into canonical tables.

    Parameters
    ----------
    path
        A file, a folder (every data file in it) or a glob.
    object
        ``contacts``, ``companies``, ``deals`` or a warehouse table name
        (``deal_stage``, ``contact_merge_audit``, ...); detected when None.
    tz
        Time zone of date-times written without an offset (CRM exports use the
        portal's zone); reported as assumed.
    dayfirst
        Order of ``d/m/y`` dates when the data cannot decide it.
    date_range
        Plausible dates ``(earliest, latest)`` (dates or ISO strings); a date outside
        rejects its row with the reason. Default 1990-01-01 to today + 10 years.
    currency
        Currency of deal amounts when the export has none (USD if not given; noted).

    Returns
    -------
    LoadResult
        people, accounts, opportunities, opportunity_contacts, stage_history,
        touchpoints, campaigns, campaign_members (list memberships), identity_links,
        activities (engagements), users (owners), products and opportunity_products
        (line items), as the files feed them.

    Raises
    ------
    SourceFormatError
        A file is not a HubSpot export the reader knows, is binary or truncated, or lacks
        the record id column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "contacts.csv"
    >>> _ = p.write_text(
    ...     "Record ID,Email,Lifecycle Stage,Create Date,Became a Lead Date\n"
    ...     "0051,Ann@X.com,lead,2026-01-05 10:00,2026-01-05 10:00\n"
    ... )
    >>> res = read_hubspot(p)
    >>> res["people"].select("person_id", "email_normalized").row(0)
    ('hs:0051', 'ann@x.com')
    >>> res["stage_history"].select("field", "new_value").row(0)
    ('lifecycle_stage', 'lead')
    """
    opts: dict[str, Any] = {
        "object": object,
        "tz": tz,
        "dayfirst": dayfirst,
        "date_range": date_range,
        "currency": currency,
    }
    return read_paths(path, _read_file, reader="hubspot", **opts)


# --------------------------------------------------------------------------- helpers
def _strip_property_prefix(raw: pl.DataFrame) -> pl.DataFrame:
    taken = {c.lower() for c in raw.columns}
    ren = {}
    for c in raw.columns:
        if c.lower().startswith("property_"):
            short = c[len("property_") :]
            if short.lower() not in taken:
                ren[c] = short
                taken.add(short.lower())
    return raw.rename(ren)


def _stem(path: Path) -> str:
    return normalize_name(path.stem)


def _spec_for(raw: pl.DataFrame, fs: FileSniff, declared: str | None) -> HubSpotSpec | None:
    if declared is not None:
        key = normalize_name(declared)
        for spec in OBJECTS.values():
            if key in {normalize_name(spec.name), *spec.file_names}:
                return spec
        msg = f"`object` must be one of {tuple(OBJECTS)}, got {declared!r}"
        raise ValueError(msg)
    stem = _stem(fs.path)
    for spec in OBJECTS.values():
        if stem in spec.file_names:
            return spec
    if any(stem.startswith(n) for n in NOT_CANONICAL):
        return None
    cols = {normalize_name(c) for c in raw.columns}
    labels = {
        "lifecyclestage": "contacts",
        "dealstage": "deals",
        "dealname": "deals",
        "companydomainname": "companies",
    }
    if cols & {"recordid", "contactid", "companyid", "dealid"}:
        for label, name in labels.items():
            if label in cols:
                return OBJECTS[name]
    best: HubSpotSpec | None = None
    for spec in OBJECTS.values():
        if spec.signature and spec.signature <= cols:
            if best is None or len(spec.signature) > len(best.signature):
                best = spec
    return best


def _hs_key(expr: pl.Expr, prefix: str = _PREFIX) -> pl.Expr:
    clean = expr.cast(pl.String).str.strip_chars()
    return (
        pl.when(clean.is_null() | (clean == ""))
        .then(None)
        .otherwise(pl.concat_str([pl.lit(prefix), clean]))
    )


def _first_of_list(expr: pl.Expr) -> pl.Expr:
    return expr.str.split(";").list.first().str.strip_chars()


@functools.lru_cache(maxsize=64)
def _lookup_cached(path: str, mtime: float) -> pl.DataFrame:
    return _strip_property_prefix(read_table(path).frame)


def _sibling(path: Path, names: tuple[str, ...]) -> pl.DataFrame | None:
    """A lookup export beside ``path`` (same folder, CSV or workbook), or None."""
    for f in sorted(path.parent.iterdir()):
        if f.suffix.lower() not in (".csv", ".xlsx", ".xls"):
            continue
        if _stem(f) in names and f != path:
            return _lookup_cached(str(f), f.stat().st_mtime)
    return None


def _lineage(path: Path) -> list[pl.Expr]:
    return [pl.lit(SYSTEM).alias("source_system"), pl.lit(str(path)).alias("source_file")]


def _reason(df: pl.DataFrame, m: Mapped, *extra: pl.Expr) -> pl.DataFrame:
    exprs = [pl.lit(m.problem), *extra]
    joined = pl.concat_str(exprs, separator="; ", ignore_nulls=True)
    return df.with_columns(pl.when(joined == "").then(None).otherwise(joined).alias(REJECT_REASON))


# --------------------------------------------------------------------------- records
def _records(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    assert spec.key is not None
    assert spec.table is not None
    df = m.frame
    if "source_id" not in df.columns:
        msg = (
            f"{path.name}: a HubSpot {spec.name} export needs a record id column "
            f"('Record ID', older 'Contact ID'/'Company ID'/'Deal ID', or 'id'); the file has "
            f"{raw.columns[:10]}"
        )
        raise SourceFormatError(msg, path=str(path), line=1, column="Record ID")
    # ids saved through Excel: "51234567890.0" is repaired, "5.12346E+10" is rejected
    record_id, mangled = numeric_id_exprs(pl.col("source_id"), m.used["source_id"])
    df = df.with_columns(mangled.alias("__mangled")).with_columns(record_id.alias("source_id"))
    df = df.with_columns(_hs_key(pl.col("source_id")).alias(spec.key), *_lineage(path))
    df = _reason(
        df,
        m,
        pl.col("__mangled"),
        pl.when(pl.col("source_id").is_null() & pl.col("__mangled").is_null()).then(
            pl.lit("no record id")
        ),
    ).drop("__mangled")
    for col in spec.ids:
        if col in df.columns:
            ref = pl.col(col)
            if col == "account_id":
                many = df.select(pl.col(col).str.contains(";").sum()).item()
                if many:
                    notes.append(
                        f"{many} record(s) with several associated companies: "
                        f"the first is the account"
                    )
                ref = _first_of_list(ref)
            id_value, problem = numeric_id_exprs(ref, m.used.get(col, col))
            lost = df.select(problem.is_not_null().sum()).item()
            if lost:
                notes.append(
                    f"`{m.used.get(col, col)}`: {lost} id(s) in scientific notation (saved "
                    f"through Excel, digits lost) set to null"
                )
            df = df.with_columns(_hs_key(id_value).alias(col))
    if "owner_id" in df.columns and spec.name != "owners":
        df = _owners_by_name(df, path, notes)
    for col, value in spec.constants.items():
        df = df.with_columns(pl.lit(value).alias(col))
    tables: dict[str, pl.DataFrame] = {}
    if "merged_ids" in df.columns:
        tables.update(_merged_links(df, spec))
        df = df.drop("merged_ids")
    if spec.table == "people":
        if "email" in df.columns:
            df = df.with_columns(normalized_email(pl.col("email")).alias("email_normalized"))
        hist = _lifecycle_history(raw, df, opts, path)
        if hist is not None:
            tables["stage_history"] = hist
    elif spec.table == "accounts":
        if "domain" in df.columns:
            df = df.with_columns(normalized_domain(pl.col("domain")))
        if "annual_revenue" in df.columns:
            df = _with_currency(df, "annual_revenue", opts, notes)
    elif spec.table == "opportunities":
        df, extra = _deals(df, path, opts, notes)
        tables.update(extra)
    elif spec.table == "activities":
        df = _engagements(df, raw, path, notes)
    elif spec.table == "users":
        df = _owners(df, path, notes)
    elif spec.table == "products" and "list_price" in df.columns:
        df = _with_currency(df, "list_price", opts, notes)
    elif spec.table == "opportunity_products":
        df = _line_items(df, path, opts, notes)
    elif spec.table == "campaigns":  # contact lists: their own key space
        df = df.with_columns(_hs_key(pl.col("source_id"), "hs:list:").alias("campaign_id"))
    tables[spec.table] = df
    return tables


def _owners_by_name(df: pl.DataFrame, path: Path, notes: list[str]) -> pl.DataFrame:
    """Owners the UI export names (``Contact owner: Jane Doe``) → their owner id.

    CRM UI exports write the owner's name; an owners export beside the file (``Owner
    ID``, ``First Name``, ``Last Name``) turns each unique name into its ``hs:<owner id>``.
    """
    owners = _sibling(path, OBJECTS["owners"].file_names)
    if owners is None:
        return df
    m = map_columns(
        owners, OBJECTS["owners"].fields, {}, text_only=frozenset(OBJECTS["owners"].fields)
    )
    if not {"source_id", "first_name", "last_name"} <= set(m.frame.columns):
        return df
    full = m.frame.select(
        pl.concat_str(["first_name", "last_name"], separator=" ", ignore_nulls=True).alias("n"),
        pl.col("source_id"),
    )
    unique = full.filter(pl.col("n").is_unique())
    keys = dict(
        zip(
            [f"{_PREFIX}{n}" for n in unique["n"].to_list()],
            [f"{_PREFIX}{i}" for i in unique["source_id"].to_list()],
            strict=True,
        )
    )
    named = df.select(pl.col("owner_id").is_in(list(keys)).sum()).item()
    if named:
        notes.append(f"{named} owner name(s) keyed by the owner id from the owners export")
        df = df.with_columns(pl.col("owner_id").replace(keys))
    return df


def _with_currency(
    df: pl.DataFrame, amount: str, opts: dict[str, Any], notes: list[str]
) -> pl.DataFrame:
    cur = pl.col("currency") if "currency" in df.columns else pl.lit(None, pl.String)
    org = opts.get("currency") or "USD"
    needs = df.select((pl.col(amount).is_not_null() & cur.is_null()).sum()).item()
    if needs and not opts.get("currency"):
        notes.append(
            f"{needs} `{amount}` value(s) without a currency: {org} assumed (pass `currency=`)"
        )
    return df.with_columns(
        pl.when(pl.col(amount).is_not_null())
        .then(cur.fill_null(pl.lit(org)))
        .otherwise(cur)
        .alias("currency")
    )


def _merged_links(df: pl.DataFrame, spec: HubSpotSpec) -> dict[str, pl.DataFrame]:
    id_type = {"contacts": "crm_id", "companies": "account_id", "deals": "deal_id"}[spec.name]
    links = (
        df.filter(pl.col("merged_ids").is_not_null() & pl.col(REJECT_REASON).is_null())
        .select(
            pl.col("merged_ids").str.split(";").alias("merged"),
            pl.col(spec.key),  # type: ignore[arg-type]
            "source_system",
            "source_id",
            "source_file",
            "source_row",
        )
        .explode("merged")
        .with_columns(pl.col("merged").str.strip_chars())
        .filter((pl.col("merged") != "") & (pl.col("merged") != pl.col("source_id")))
        .select(
            pl.lit(id_type).alias("id_type"),
            _hs_key(pl.col("merged")).alias("id_value"),
            pl.lit(id_type).alias("linked_id_type"),
            pl.col(spec.key).alias("linked_id_value"),  # type: ignore[arg-type]
            pl.lit(f"hubspot_{spec.name}_merge").alias("rule"),
            pl.lit(1.0).alias("confidence"),
            "source_system",
            "source_id",
            "source_file",
            "source_row",
        )
    )
    return {"identity_links": links} if links.height else {}


def _lifecycle_history(
    raw: pl.DataFrame, people: pl.DataFrame, opts: dict[str, Any], path: Path
) -> pl.DataFrame | None:
    parts = []
    for stage, aliases in LIFECYCLE_DATES.items():
        col = find_column(raw.columns, aliases)
        if col is None:
            continue
        when = parse_datetime(
            raw[col],
            tz=opts.get("tz") or "UTC",
            dayfirst=opts.get("dayfirst"),
            date_range=opts.get("date_range"),
            column=col,
            path=path,
        ).value
        parts.append(
            people.select("person_id", "source_system", "source_id", "source_file", "source_row")
            .with_columns(when.alias("changed_at"), pl.lit(stage).alias("new_value"))
            .filter(pl.col("changed_at").is_not_null() & pl.col("person_id").is_not_null())
        )
    if not parts:
        return None
    hist = pl.concat(parts).sort("person_id", "changed_at")
    return hist.select(
        pl.lit("person").alias("entity_type"),
        pl.col("person_id").alias("entity_id"),
        pl.lit("lifecycle_stage").alias("field"),
        pl.col("new_value").shift(1).over("person_id").alias("old_value"),
        "new_value",
        "changed_at",
        "source_system",
        "source_id",
        "source_file",
        "source_row",
    )


def _stage_lookup(path: Path) -> pl.DataFrame | None:
    stages = _sibling(path, OBJECTS["deal_pipeline_stage"].file_names)
    if stages is None:
        return None
    m = map_columns(
        stages,
        OBJECTS["deal_pipeline_stage"].fields,
        {**_EXTRA_DTYPES, "is_closed": pl.Boolean(), "is_won": pl.Boolean()},
    )
    return m.frame.drop("source_row").unique("stage_id", keep="first")


def _deals(
    df: pl.DataFrame, path: Path, opts: dict[str, Any], notes: list[str]
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    extra: dict[str, pl.DataFrame] = {}
    stages = _stage_lookup(path)
    if stages is not None and "stage_raw" in df.columns:
        df = df.join(
            stages.rename(
                {
                    "label": "__label",
                    "is_closed": "__closed",
                    "is_won": "__won",
                    "probability": "__p",
                }
            ),
            left_on="stage_raw",
            right_on="stage_id",
            how="left",
        )
        df = df.with_columns(
            pl.coalesce(pl.col("__label"), pl.col("stage_raw")).alias("stage_raw"),
            pl.coalesce(
                [
                    c
                    for c in (
                        pl.col("is_closed") if "is_closed" in df.columns else None,
                        pl.col("__closed"),
                    )
                    if c is not None
                ]
            ).alias("is_closed"),
            pl.coalesce(
                [
                    c
                    for c in (pl.col("is_won") if "is_won" in df.columns else None, pl.col("__won"))
                    if c is not None
                ]
            ).alias("is_won"),
        ).drop("__label", "__closed", "__won", "__p")
        notes.append("deal stages labelled and flagged from the pipeline stages export")
    pipelines = _sibling(path, OBJECTS["deal_pipeline"].file_names)
    if pipelines is not None and "pipeline" in df.columns:
        lk = pipelines.select(
            pl.col(find_column(pipelines.columns, ("pipeline_id",)) or "pipeline_id").alias(
                "__pid"
            ),
            pl.col(find_column(pipelines.columns, ("label",)) or "label").alias("__plabel"),
        ).unique("__pid", keep="first")
        df = (
            df.join(lk, left_on="pipeline", right_on="__pid", how="left")
            .with_columns(pl.coalesce("__plabel", "pipeline").alias("pipeline"))
            .drop("__plabel")
        )
    companies = _sibling(path, OBJECTS["deal_company"].file_names)
    if companies is not None:
        lk = companies.select(
            pl.col("deal_id").alias("__did"), _hs_key(pl.col("company_id")).alias("__acc")
        ).unique("__did", keep="first")
        df = (
            df.join(lk, left_on="source_id", right_on="__did", how="left")
            .with_columns(
                (
                    pl.coalesce("account_id", "__acc")
                    if "account_id" in df.columns
                    else pl.col("__acc")
                ).alias("account_id")
            )
            .drop("__acc")
        )
    stage = (
        pl.col("stage_raw").str.to_lowercase().str.replace_all(r"[\s_-]", "")
        if ("stage_raw" in df.columns)
        else pl.lit(None, pl.String)
    )
    won = stage.str.contains("closedwon")
    closed = stage.str.contains("closed")
    flag = pl.col("is_closed") if "is_closed" in df.columns else pl.lit(None, pl.Boolean)
    kept = pl.col(REJECT_REASON).is_null() if REJECT_REASON in df.columns else pl.lit(True)
    unknown, total = df.select((flag.is_null() & closed.is_null() & kept).sum(), kept.sum()).row(0)
    if unknown:  # no stage, no closed flag: open or closed is not in the export
        notes.append(
            f"{unknown:,} of {total:,} deals have no deal stage and no closed flag: "
            "read as open (`is_closed` false)"
        )
    df = df.with_columns(
        (pl.col("is_won") if "is_won" in df.columns else pl.lit(None, pl.Boolean))
        .fill_null(won)
        .fill_null(False)
        .alias("is_won"),
        (pl.col("is_closed") if "is_closed" in df.columns else pl.lit(None, pl.Boolean))
        .fill_null(closed)
        .fill_null(False)
        .alias("is_closed"),
    )
    if "amount" in df.columns:
        df = _with_currency(df, "amount", opts, notes)
    if "probability_rate" in df.columns:
        df = df.with_columns(
            pl.when(pl.col("probability_rate") > 1)
            .then(pl.col("probability_rate") / 100)
            .otherwise(pl.col("probability_rate"))
        )
    if "contact_ids" in df.columns:
        oc = (
            df.filter(pl.col(REJECT_REASON).is_null() & pl.col("contact_ids").is_not_null())
            .select(
                "opportunity_id",
                pl.col("contact_ids").str.split(";").alias("c"),
                "source_system",
                "source_id",
                "source_file",
                "source_row",
            )
            .explode("c")
            .with_columns(pl.col("c").str.strip_chars())
            .filter(pl.col("c") != "")
            .select(
                "opportunity_id",
                _hs_key(pl.col("c")).alias("person_id"),
                "source_system",
                "source_id",
                "source_file",
                "source_row",
            )
        )
        if oc.height:
            extra["opportunity_contacts"] = oc
        df = df.drop("contact_ids")
    return df, extra


# --------------------------------------------------------------------------- warehouse
def _links_table(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    df = m.frame.with_columns(*_lineage(path))
    if spec.name == "deal_contact":
        df = df.with_columns(
            _hs_key(pl.col("opportunity_id")).alias("opportunity_id"),
            _hs_key(pl.col("person_id")).alias("person_id"),
            pl.concat_str([pl.col("opportunity_id"), pl.lit(":"), pl.col("person_id")]).alias(
                "source_id"
            ),
        ).drop("role", strict=False)
        return {"opportunity_contacts": _reason(df, m)}
    # merge audits: the merged id now lives on as the survivor
    id_type = "crm_id" if spec.name == "contact_merge_audit" else "deal_id"
    out = df.select(
        pl.lit(id_type).alias("id_type"),
        _hs_key(pl.col("merged")).alias("id_value"),
        pl.lit(id_type).alias("linked_id_type"),
        _hs_key(pl.col("survivor")).alias("linked_id_value"),
        pl.lit(f"hubspot_{spec.name}").alias("rule"),
        pl.lit(1.0).alias("confidence"),
        *(
            [pl.col("first_seen_at"), pl.col("first_seen_at").alias("last_seen_at")]
            if "first_seen_at" in df.columns
            else []
        ),
        "source_system",
        pl.col("merged").alias("source_id"),
        "source_file",
        "source_row",
    )
    return {"identity_links": _reason(out, m)}


def _deal_stage(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    df = m.frame.with_columns(*_lineage(path), pl.col("entity_id").alias("source_id"))
    stages = _stage_lookup(path)
    if stages is not None:
        df = (
            df.join(
                stages.select("stage_id", "label"),
                left_on="new_value",
                right_on="stage_id",
                how="left",
            )
            .with_columns(pl.coalesce("label", "new_value").alias("new_value"))
            .drop("label")
        )
    df = df.with_columns(
        _hs_key(pl.col("entity_id")).alias("entity_id"),
        pl.lit("opportunity").alias("entity_type"),
        pl.lit("stage").alias("field"),
    )
    df = (
        df.sort("entity_id", "changed_at", nulls_last=True)
        .with_columns(pl.col("new_value").shift(1).over("entity_id").alias("old_value"))
        .sort("source_row")
    )
    return {"stage_history": _reason(df, m)}


def _property_history(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> tuple[dict[str, pl.DataFrame], int]:
    id_col = m.used.get("entity_id", "contact_id")
    entity = {"contact_id": "person", "deal_id": "opportunity", "company_id": "account"}.get(
        normalize_name(id_col).replace("id", "_id"), "person"
    )
    df = m.frame.with_columns(*_lineage(path), pl.col("entity_id").alias("source_id"))
    field = (
        pl.col("property")
        .str.to_lowercase()
        .replace_strict(TRACKED_PROPERTIES, default=None, return_dtype=pl.String)
    )
    df = df.with_columns(field.alias("field"))
    tracked = df.filter(pl.col("field").is_not_null())
    skipped = df.height - tracked.height
    if skipped:
        notes.append(
            f"{skipped} change(s) of untracked properties not loaded (tracked: "
            f"{sorted(TRACKED_PROPERTIES)})"
        )
    tracked = (
        tracked.with_columns(
            _hs_key(pl.col("entity_id")).alias("entity_id"), pl.lit(entity).alias("entity_type")
        )
        .sort("entity_id", "field", "changed_at")
        .with_columns(pl.col("new_value").shift(1).over("entity_id", "field").alias("old_value"))
        .drop("property")
    )
    problem = m.problem.filter(df["field"].is_not_null())
    tracked = (
        tracked.with_columns(problem.alias(REJECT_REASON))
        if tracked.height
        else (tracked.with_columns(pl.lit(None, pl.String).alias(REJECT_REASON)))
    )
    return {"stage_history": tracked}, skipped


def _form_submissions(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    df = m.frame.with_columns(*_lineage(path))
    conv = pl.col("conversion_id") if "conversion_id" in df.columns else pl.lit(None, pl.String)
    df = df.with_columns(
        pl.coalesce(
            pl.concat_str([pl.lit("hs:form:"), conv]),
            pl.concat_str(
                [
                    pl.lit("hs:form:"),
                    pl.col("person_id"),
                    pl.lit(":"),
                    pl.col("occurred_at").cast(pl.String),
                ]
            ),
        ).alias("touchpoint_id"),
        _hs_key(pl.col("person_id")).alias("person_id"),
        pl.coalesce(conv, pl.col("person_id")).alias("source_id"),
        pl.lit("form").alias("medium"),
        pl.lit("hubspot").alias("source"),
    )
    for col, value in spec.constants.items():
        df = df.with_columns(pl.lit(value).alias(col))
    forms = _lookup_frame(path, "form") if "form_id" in df.columns else None
    if forms is not None:
        names = _first_by(forms, "form_id", "label")
        form_name = pl.col("form_id").replace_strict(names, default=None, return_dtype=pl.String)
        old = pl.col("campaign_name") if "campaign_name" in df.columns else pl.lit(None, pl.String)
        df = df.with_columns(pl.coalesce(form_name, old).alias("campaign_name"))
        notes.append("form names (campaign_name) from the form table beside the file")
    touches = _reason(df.drop("form_id", "conversion_id", strict=False), m)
    links = df.filter(conv.is_not_null() & pl.col("person_id").is_not_null()).select(
        pl.lit("crm_id").alias("id_type"),
        pl.col("person_id").alias("id_value"),
        pl.lit("hubspot_form_conversion_id").alias("linked_id_type"),
        pl.concat_str([pl.lit("hs:"), conv]).alias("linked_id_value"),
        pl.lit("hubspot_form_submission").alias("rule"),
        pl.lit(1.0).alias("confidence"),
        pl.col("occurred_at").alias("first_seen_at"),
        pl.col("occurred_at").alias("last_seen_at"),
        "source_system",
        "source_id",
        "source_file",
        "source_row",
    )
    out = {"touchpoints": touches}
    if links.height:
        out["identity_links"] = links
    return out


_ATTENDANCE_TOUCH: dict[str, str] = {"ATTENDED": "event", "REGISTERED": "campaign_response"}
"""Marketing event participation states that are touches, and their touch type."""
_ATTENDANCE_NOT_TOUCH = ("CANCELLED", "NO_SHOW")
_ATTENDANCE_STATES = (*_ATTENDANCE_TOUCH, *_ATTENDANCE_NOT_TOUCH)


def _event_participations(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> tuple[dict[str, pl.DataFrame], int]:
    """Marketing event participations → ``event`` / ``campaign_response`` touchpoints.

    One row per contact and marketing event (webinars, conferences; the Marketing Events
    API's participations, flattened): an attended event is an ``event`` touch, a
    registration a ``campaign_response``; a cancelled registration or a no-show is not a
    touch (counted as merged, noted). The event's name is the touch's ``campaign_name``
    (channels find the CRM campaign of that name). A state the reader does not know is
    rejected with the value.
    """
    df = m.frame.with_columns(*_lineage(path))
    if "attendance_state" in df.columns:
        state = pl.col("attendance_state").cast(pl.String).str.strip_chars().str.to_uppercase()
    else:
        state = pl.lit("REGISTERED")
        notes.append("no attendance state column: every participation read as a registration")
    df = df.with_columns(state.alias("__state"))
    not_touch = pl.col("__state").is_in(_ATTENDANCE_NOT_TOUCH).fill_null(False)
    known = pl.col("__state").is_in(_ATTENDANCE_STATES).fill_null(False)
    unknown = pl.when(known.not_()).then(
        pl.format(
            "attendance state {} is not one of {}",
            pl.col("__state").fill_null("(empty)"),
            pl.lit(", ".join(_ATTENDANCE_STATES)),
        )
    )
    event = pl.col("event_id") if "event_id" in df.columns else pl.lit(None, pl.String)
    own_id = pl.col("source_id") if "source_id" in df.columns else pl.lit(None, pl.String)
    df = df.with_columns(
        pl.coalesce(
            own_id.cast(pl.String), pl.concat_str([event, pl.lit(":"), pl.col("person_id")])
        ).alias("source_id")
    ).with_columns(
        _hs_key(pl.col("source_id"), "hs:event:").alias("touchpoint_id"),
        _hs_key(pl.col("person_id")).alias("person_id"),
        pl.col("__state")
        .replace_strict(_ATTENDANCE_TOUCH, default=None, return_dtype=pl.String)
        .alias("touch_type"),
        pl.lit("hubspot").alias("source"),
    )
    for col, value in spec.constants.items():
        df = df.with_columns(pl.lit(value).alias(col))
    touches = _reason(df, m, unknown)
    # a cancelled registration or a no-show that is otherwise readable is not a touch
    drop = not_touch & pl.col(REJECT_REASON).is_null()
    n_dropped = int(touches.select(drop.sum()).item())
    if n_dropped:
        notes.append(f"{n_dropped} cancelled registration(s) or no-show(s) are not touchpoints")
    touches = touches.filter(drop.not_()).drop(
        "__state", "attendance_state", "event_id", strict=False
    )
    return {"touchpoints": touches}, n_dropped


def _email_events(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> tuple[dict[str, pl.DataFrame], int]:
    df = m.frame.with_columns(*_lineage(path))
    kind = (
        pl.col("event_type")
        .str.to_uppercase()
        .replace_strict(EMAIL_TOUCH_TYPES, default=None, return_dtype=pl.String)
    )
    df = df.with_columns(kind.alias("touch_type"), m.problem.alias(REJECT_REASON))
    touches = df.filter(pl.col("touch_type").is_not_null())
    other = df.height - touches.height
    if other:
        notes.append(
            f"{other} email event(s) of other types (SENT, DELIVERED, ...) are not touchpoints"
        )
    clicks = _email_details(path)
    if clicks is not None:
        touches = touches.join(clicks, on="source_id", how="left", maintain_order="left")
        notes.append("click urls and referrers from email_event_click beside the file")
    contacts = _sibling(path, OBJECTS["contacts"].file_names)
    if contacts is not None and find_column(contacts.columns, ("email",)):
        ecol = find_column(contacts.columns, ("email",))
        icol = find_column(contacts.columns, ("id", "Record ID", "vid")) or "id"
        lk = (
            contacts.select(
                pl.col(ecol).str.strip_chars().str.to_lowercase().alias("__email"),  # type: ignore[arg-type]
                _hs_key(pl.col(icol)).alias("person_id"),
            )
            .drop_nulls()
            .unique("__email", keep="first")
        )
        touches = (
            touches.with_columns(
                pl.col("recipient").str.strip_chars().str.to_lowercase().alias("__email")
            )
            .join(lk, on="__email", how="left")
            .drop("__email")
        )
    else:
        touches = touches.with_columns(pl.lit(None, pl.String).alias("person_id"))
    unknown = pl.when(pl.col("person_id").is_null()).then(
        pl.lit("email recipient is not a contact in the contacts export beside this file")
    )
    touches = (
        touches.with_columns(
            pl.concat_str(
                [pl.col(REJECT_REASON), unknown], separator="; ", ignore_nulls=True
            ).alias(REJECT_REASON)
        )
        .with_columns(
            pl.when(pl.col(REJECT_REASON) == "")
            .then(None)
            .otherwise(pl.col(REJECT_REASON))
            .alias(REJECT_REASON),
            _hs_key(pl.col("source_id"), "hs:email:").alias("touchpoint_id"),
            _hs_key(pl.col("campaign_id"), "hs:email:").alias("campaign_id"),
            pl.lit("hubspot").alias("source"),
        )
        .drop("event_type", "recipient")
    )
    for col, value in spec.constants.items():
        touches = touches.with_columns(pl.lit(value).alias(col))
    return {"touchpoints": touches}, other


def _email_details(path: Path) -> pl.DataFrame | None:
    """Click url (→ landing_page) and referrer of each click event, from email_event_click."""
    for stem in ("emaileventclick", "emaileventclickdata"):
        frame = _sibling(path, (stem,))
        if frame is None:
            continue
        m = map_columns(
            frame,
            OBJECTS["email_event_detail"].fields,
            {},
            text_only=frozenset(OBJECTS["email_event_detail"].fields),
        )
        if "source_id" not in m.frame.columns:
            return None
        cols = [pl.col("source_id")]
        if "url" in m.frame.columns:
            cols.append(pl.col("url").alias("landing_page"))
        if "referrer" in m.frame.columns:
            cols.append(pl.col("referrer"))
        return m.frame.select(cols).unique("source_id", keep="first", maintain_order=True)
    return None


def _email_campaigns(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    df = m.frame.with_columns(
        *_lineage(path), _hs_key(pl.col("source_id"), "hs:email:").alias("campaign_id")
    )
    for col, value in spec.constants.items():
        df = df.with_columns(pl.lit(value).alias(col))
    return {"campaigns": _reason(df, m)}


# ------------------------------------------------------- activities, owners, products, lists
def _lookup_frame(path: Path, name: str) -> pl.DataFrame | None:
    """The lookup export ``name`` beside ``path``, its columns mapped (all text)."""
    spec = OBJECTS[name]
    frame = _sibling(path, spec.file_names)
    if frame is None:
        return None
    m = map_columns(frame, spec.fields, {}, text_only=frozenset(spec.fields))
    if not set(spec.fields) <= set(m.frame.columns):
        return None
    return m.frame.drop("source_row")


def _first_by(frame: pl.DataFrame, key: str, value: str) -> dict[str, str]:
    """``key`` → the first ``value`` listed for it (file order)."""
    first = frame.drop_nulls([key, value]).unique(key, keep="first", maintain_order=True)
    return dict(zip(first[key].to_list(), first[value].to_list(), strict=True))


def _kind_of_file(path: Path, raw: pl.DataFrame) -> str | None:
    """Engagement type a per-type table or UI export is about (by name, else by columns)."""
    stem = _stem(path)
    for kind, target in ENGAGEMENT_TYPES.items():
        if stem.startswith(f"engagement{kind}") or stem in (f"{kind}s", f"all{kind}s"):
            return target
    cols = [normalize_name(c) for c in raw.columns]
    for kind in ("call", "meeting", "email", "note", "task"):
        if any(c.startswith(f"hs{kind}") for c in cols):
            return kind
    return None


def _associated(
    df: pl.DataFrame, col: str, lookup: dict[str, str] | None, target: str, notes: list[str]
) -> pl.DataFrame:
    """``target`` = the first id of the ``col`` list, else of the association ``lookup``."""
    parts = []
    if col in df.columns:
        many = df.select(pl.col(col).str.contains(";").sum()).item()
        if many:
            notes.append(f"{many} record(s) with several `{col}`: the first is kept as {target}")
        parts.append(_first_of_list(pl.col(col)))
    if lookup:
        parts.append(
            pl.col("source_id").replace_strict(lookup, default=None, return_dtype=pl.String)
        )
    if not parts:
        return df
    return df.with_columns(_hs_key(pl.coalesce(parts)).alias(target)).drop(col, strict=False)


def _engagements(df: pl.DataFrame, raw: pl.DataFrame, path: Path, notes: list[str]) -> pl.DataFrame:
    """Engagements → activities: type, call outcome labels, duration, associations."""
    kind = (
        pl.col("type_raw").str.to_lowercase().str.replace_all(r"[^a-z]", "")
        if "type_raw" in df.columns
        else pl.lit(None, pl.String)
    )
    by_row = kind.replace_strict(ENGAGEMENT_TYPES, default=None, return_dtype=pl.String)
    file_kind = _kind_of_file(path, raw)
    df = df.with_columns(pl.coalesce(by_row, pl.lit(file_kind), pl.lit("other")).alias("type"))
    if "outcome" in df.columns:
        df = df.with_columns(
            pl.col("outcome").replace_strict(CALL_OUTCOMES, default=pl.col("outcome"))
        )
    when = pl.col("occurred_at") if "occurred_at" in df.columns else pl.lit(None, _UTC)
    seconds = []
    if "duration_ms" in df.columns:
        seconds.append((pl.col("duration_ms") / 1000).round(0).cast(pl.Int64))
    if "end_at" in df.columns:
        seconds.append((pl.col("end_at") - when).dt.total_seconds().cast(pl.Int64))
    if seconds:
        df = df.with_columns(pl.coalesce(seconds).alias("duration_seconds"))
    links = {
        "person_id": ("contact_ids", "engagement_contact", "contact_id"),
        "account_id": ("company_ids", "engagement_company", "company_id"),
        "opportunity_id": ("deal_ids", "engagement_deal", "deal_id"),
    }
    for target, (col, table, id_col) in links.items():
        frame = _lookup_frame(path, table)
        lookup = _first_by(frame, "engagement_id", id_col) if frame is not None else None
        if lookup:
            notes.append(f"{target} from {table} beside the file")
        df = _associated(df, col, lookup, target, notes)
    return df.drop("type_raw", "end_at", "duration_ms", strict=False)


_UTC = pl.Datetime("us", "UTC")


def _owners(df: pl.DataFrame, path: Path, notes: list[str]) -> pl.DataFrame:
    """Owners → users: name, primary team (owner_team/team) and role (users/role)."""
    full = pl.concat_str(
        [
            pl.col(c) if c in df.columns else pl.lit(None, pl.String)
            for c in ("first_name", "last_name")
        ],
        separator=" ",
        ignore_nulls=True,
    )
    df = df.with_columns(pl.when(full != "").then(full).alias("name"))
    teams = _lookup_frame(path, "team")
    team_names = _first_by(teams, "team_id", "label") if teams is not None else {}
    owner_team = _lookup_frame(path, "owner_team")
    users = _lookup_frame(path, "users")
    roles = _lookup_frame(path, "role")
    exprs: list[pl.Expr] = []
    if owner_team is not None and team_names:
        primary = owner_team.sort(
            pl.col("is_primary").str.to_lowercase() == "true", descending=True, maintain_order=True
        )
        team_of = {
            k: team_names.get(v, v) for k, v in _first_by(primary, "owner_id", "team_id").items()
        }
        exprs.append(
            pl.col("source_id").replace_strict(team_of, default=None, return_dtype=pl.String)
        )
    if users is not None and "active_user_id" in df.columns:
        user_team = {
            k: team_names.get(v, v) for k, v in _first_by(users, "user_id", "team_id").items()
        }
        exprs.append(
            pl.col("active_user_id").replace_strict(user_team, default=None, return_dtype=pl.String)
        )
        if roles is not None:
            role_names = _first_by(roles, "role_id", "label")
            role_of = {
                k: role_names.get(v, v) for k, v in _first_by(users, "user_id", "role_id").items()
            }
            role = pl.col("active_user_id").replace_strict(
                role_of, default=None, return_dtype=pl.String
            )
            df = df.with_columns(
                (pl.coalesce(pl.col("role"), role) if "role" in df.columns else role).alias("role")
            )
            notes.append("owner roles from users and role beside the file")
    if exprs:
        team = pl.coalesce(pl.col("team"), *exprs) if "team" in df.columns else pl.coalesce(exprs)
        df = df.with_columns(team.alias("team"))
        notes.append("owner teams from owner_team/users and team beside the file")
    return df.drop("active_user_id", strict=False)


def _line_items(
    df: pl.DataFrame, path: Path, opts: dict[str, Any], notes: list[str]
) -> pl.DataFrame:
    """Line items → opportunity_products: the deal (associations), discount 0–1, currency."""
    frame = _lookup_frame(path, "line_item_deal")
    lookup = _first_by(frame, "line_item_id", "deal_id") if frame is not None else None
    if lookup:
        notes.append("deals of line items from line_item_deal beside the file")
    df = _associated(df, "deal_ids", lookup, "opportunity_id", notes)
    if "discount_rate" in df.columns:
        df = df.with_columns(pl.col("discount_rate") / 100)
    amount = next((c for c in ("total_amount", "unit_price") if c in df.columns), None)
    if amount is not None:
        df = _with_currency(df, amount, opts, notes)
    return df


def _list_members(
    spec: HubSpotSpec,
    raw: pl.DataFrame,
    m: Mapped,
    path: Path,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    """List memberships → campaign_members of the list's campaign (``hs:list:<id>``)."""
    df = m.frame.with_columns(*_lineage(path))
    removed = pl.col("removed").fill_null(False) if "removed" in df.columns else pl.lit(False)
    gone = df.select(removed.sum()).item() if "removed" in df.columns else 0
    if gone:
        notes.append(f"{gone} membership(s) since removed from the list: kept with status Removed")
    df = df.with_columns(
        pl.concat_str([pl.col("campaign_id"), pl.lit(":"), pl.col("person_id")]).alias("source_id"),
        _hs_key(pl.col("campaign_id"), "hs:list:").alias("campaign_id"),
        _hs_key(pl.col("person_id")).alias("person_id"),
        pl.when(removed).then(pl.lit("Removed")).otherwise(pl.lit("Member")).alias("status"),
        pl.lit(False).alias("has_responded"),
    ).drop("removed", strict=False)
    return {"campaign_members": _reason(df, m)}


_RECORDS = (
    "contacts",
    "companies",
    "deals",
    "engagements",
    "owners",
    "products",
    "line_items",
    "contact_list",
)
"""Exports of records with an id (read by :func:`_records`)."""

ENGAGEMENTS_PER_TYPE = tuple(
    f"engagement{kind}{suffix}"
    for kind in ("call", "meeting", "email", "note", "task", "communication")
    for suffix in ("", "data")
)
_LOOKUP_NOTES = {
    "engagement": "lookup table: the per-type engagement tables beside it carry these "
    "engagements (read from them)",
    "engagement_contact": "lookup table: contacts of engagements read from the same folder",
    "engagement_company": "lookup table: companies of engagements read from the same folder",
    "engagement_deal": "lookup table: deals of engagements read from the same folder",
    "owner_team": "lookup table: teams of owners read from the same folder",
    "team": "lookup table: team names of owners read from the same folder",
    "team_user": "lookup table: team membership (owners take their team from owner_team)",
    "users": "lookup table: roles and teams of owners read from the same folder",
    "role": "lookup table: role names of owners read from the same folder",
    "line_item_deal": "lookup table: deals of line items read from the same folder",
    "form": "lookup table: names the forms of form submissions read from the same folder",
    "email_event_detail": "lookup table: details (click url, referrer) of the email_event "
    "rows read from the same folder",
}


# --------------------------------------------------------------------------- read
def _read_file(path: Path, **opts: Any) -> LoadResult:
    from closedloop_kit.schema import TABLES

    table = read_table(path, sniff=sniff(path))
    fs = table.sniff
    raw = table.frame
    named = _strip_property_prefix(raw)
    spec = _spec_for(named, fs, opts.get("object"))
    if spec is None:
        stem = _stem(path)
        known = next((n for n in NOT_CANONICAL if stem.startswith(n)), None)
        other = suggest_reader(fs, exclude=("hubspot",))
        what = (
            f"the HubSpot table {known!r}, which is not part of the canonical model"
            if known
            else "no HubSpot export it recognises (by file name or columns)"
        )
        hint = f"; it looks like a file for {other}" if other else ""
        msg = (
            f"{fs.name}: expected a HubSpot contacts, companies or deals export (or a synced "
            f"table such as deal_stage) but found {what}{hint}; pass `object=` if it is one"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line or 1, suggestion=other)
    notes: list[str] = table.layout_notes()
    dtypes = {**_EXTRA_DTYPES, **(TABLES[spec.table].columns if spec.table else {})}
    text_only = _TEXT_ONLY | (
        {"new_value", "old_value"} if spec.table == "stage_history" else frozenset()
    )
    m = map_columns(
        named,
        spec.fields,
        dtypes,
        tz=opts.get("tz") or "UTC",
        dayfirst=opts.get("dayfirst"),
        date_range=opts.get("date_range"),
        path=path,
        text_only=frozenset(text_only),
    )
    notes += list(m.notes)
    merged = 0
    fmt = (
        "warehouse (fivetran)"
        if any(c.lower().startswith("_fivetran") for c in raw.columns)
        or (any(c.lower().startswith("property_") for c in raw.columns))
        else "crm export csv"
        if fs.kind == "text"
        else "crm export"
    )
    if spec.name == "engagements" and _stem(path) in ("engagement", "engagementdata"):
        per_type = [n for n in ENGAGEMENTS_PER_TYPE if _sibling(path, (n,)) is not None]
        if per_type:  # the per-type tables carry the same engagements with their details
            spec = HubSpotSpec(name="engagement", table=None, key=None, fields={})
    if spec.table is None:
        notes.append(_LOOKUP_NOTES.get(spec.name, "lookup table: enriches deals"))
        return finish(
            path=path,
            reader="hubspot",
            source_system=SYSTEM,
            object=spec.name,
            primary=None,
            tables={},
            rows_read=raw.height,
            raw=raw,
            rows_merged=raw.height,
            sniff=fs,
            format=fmt if spec.name != "deal_company" else "warehouse (fivetran)",
            notes=notes,
        )
    required = {
        "deal_contact": ("opportunity_id", "person_id"),
        "deal_stage": ("entity_id", "new_value", "changed_at"),
        "contact_merge_audit": ("survivor", "merged"),
        "merged_deal": ("survivor", "merged"),
        "contact_form_submission": ("person_id", "occurred_at"),
        "marketing_event_participation": ("person_id", "occurred_at", "campaign_name"),
        "email_event": ("source_id", "occurred_at", "event_type"),
        "property_history": ("entity_id", "property", "changed_at"),
        "contact_list_member": ("campaign_id", "person_id"),
    }.get(spec.name, ())
    missing = [c for c in required if c not in m.used]
    if missing:
        cols = [spec.fields[c][0] for c in missing]
        msg = (
            f"{fs.name}: a HubSpot {spec.name} export needs column(s) {cols}; the file has "
            f"{raw.columns[:10]}"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line or 1, column=cols[0])
    if spec.name in _RECORDS:
        tables = _records(spec, named, m, path, opts, notes)
    elif spec.name == "contact_list_member":
        tables = _list_members(spec, named, m, path, opts, notes)
    elif spec.name in ("deal_contact", "contact_merge_audit", "merged_deal"):
        tables = _links_table(spec, named, m, path, opts, notes)
    elif spec.name == "deal_stage":
        tables = _deal_stage(spec, named, m, path, opts, notes)
    elif spec.name == "contact_form_submission":
        tables = _form_submissions(spec, named, m, path, opts, notes)
    elif spec.name == "email_campaign":
        tables = _email_campaigns(spec, named, m, path, opts, notes)
    elif spec.name == "email_event":
        tables, merged = _email_events(spec, named, m, path, opts, notes)
    elif spec.name == "marketing_event_participation":
        tables, merged = _event_participations(spec, named, m, path, opts, notes)
    else:
        tables, merged = _property_history(spec, named, m, path, opts, notes)
    return finish(
        path=path,
        reader="hubspot",
        source_system=SYSTEM,
        object=spec.name,
        primary=spec.table,
        tables=tables,
        rows_read=raw.height,
        raw=raw,
        rows_merged=merged,
        sniff=fs,
        format=fmt,
        time_zone_assumed=m.assumed_time_zone,
        notes=notes,
    )


# --------------------------------------------------------------------------- detection
def _detect(fs: FileSniff) -> float:
    if fs.kind not in TABLE_KINDS:
        return 0.0
    cols = {normalize_name(h.removeprefix("property_")) for h in fs.header}
    stem = _stem(fs.path)
    score = 0.0
    if any(h.lower().startswith("property_") for h in fs.header):
        score = 0.85
    if "recordid" in cols and cols & {
        "lifecyclestage",
        "dealstage",
        "dealname",
        "companydomainname",
        "createdate",
        "email",
    }:
        score = max(score, 0.9)
    if cols & {"becamealeaddate", "associatedcompanyids", "associatedcompanyid"}:
        score = max(score, 0.9)
    synced = "fivetransynced" in cols
    for spec in OBJECTS.values():
        if stem in spec.file_names and (synced or (spec.signature and spec.signature <= cols)):
            score = max(score, 0.8)
        elif spec.signature and spec.signature <= cols and len(spec.signature) >= 3:
            score = max(score, 0.6)
    if stem.startswith(("hubspot", "hs")):
        score = max(score, 0.6)
    return score


def _read_for_registry(path: str | Path, **opts: Any) -> LoadResult:
    return read_hubspot(path, **opts)


register(
    "hubspot",
    source_system=SYSTEM,
    detect=_detect,
    read=_read_for_registry,
    kinds=TABLE_KINDS,
    function="clk.io.read_hubspot",
)
