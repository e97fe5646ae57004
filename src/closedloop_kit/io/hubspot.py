"""Read HubSpot exports into the canonical tables.

Two shapes: the CRM UI export of contacts, companies and deals (label headers such as
``Record ID``, ``Create Date``, ``Lifecycle Stage``, ``Became a … Date``,
``Associated Company IDs``) and the warehouse-synced tables (``property_*`` columns,
merge audit, deal stage history, pipelines and stages, associations, form submissions,
email events). HubSpot ids look numeric but are always read and kept as text
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
    EMAIL_TOUCH_TYPES,
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
from closedloop_kit.schema._normalize import normalized_domain, normalized_email

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
        touchpoints, campaigns and identity_links, as the files feed them.

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
    tables[spec.table] = df
    return tables


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
    if spec.table is None:
        notes.append("lookup table: used to enrich deals read from the same folder")
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
        "email_event": ("source_id", "occurred_at", "event_type"),
        "property_history": ("entity_id", "property", "changed_at"),
    }.get(spec.name, ())
    missing = [c for c in required if c not in m.used]
    if missing:
        cols = [spec.fields[c][0] for c in missing]
        msg = (
            f"{fs.name}: a HubSpot {spec.name} export needs column(s) {cols}; the file has "
            f"{raw.columns[:10]}"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line or 1, column=cols[0])
    if spec.name in ("contacts", "companies", "deals"):
        tables = _records(spec, named, m, path, opts, notes)
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
    for spec in OBJECTS.values():
        if stem in spec.file_names and spec.signature and spec.signature <= cols:
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
