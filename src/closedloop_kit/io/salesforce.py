"""Read Salesforce exports into the canonical tables.

Shapes understood: Data Export / Data Loader CSV (API-name headers, also Data Loader's
ALL-CAPS quoted headers), report CSV exports (label headers, 15-character ids, footer
lines), Tree-API JSON (``{"records": [{"attributes": {...}, ...}]}``), and the
warehouse-synced shape (snake_case, ``_c`` custom fields, ``_fivetran_active`` /
``_fivetran_start`` / ``_fivetran_end`` history-mode versions). Field mappings live in
:mod:`closedloop_kit.io._salesforce_map`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from closedloop_kit._core.frames import collect_in_memory, null_series
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._memo import memoized
from closedloop_kit.io._parse import (
    DateRange,
    Mapped,
    combine_problems,
    currency_from_text,
    find_column,
    map_columns,
    normalize_name,
    parse_datetime,
)
from closedloop_kit.io._registry import read_paths, register, suggest_reader
from closedloop_kit.io._result import REJECT_REASON, LoadResult, finish
from closedloop_kit.io._salesforce_map import (
    FIELD_NAMES,
    HISTORY_TRACKED,
    KEY_PREFIXES,
    LOOKUPS,
    NOT_CANONICAL,
    OBJECTS,
    PARTNER_USER_TYPES,
    ObjectSpec,
)
from closedloop_kit.io._sheet import TABLE_KINDS, read_table
from closedloop_kit.io._text import (
    FileSniff,
    RawTable,
    format_lines,
    read_text_table,
    sniff,
    split_report_groups,
)
from closedloop_kit.schema import normalized_domain, normalized_email

__all__ = ["read_salesforce"]

SYSTEM = "salesforce"
_REF = "ref:"
_ID_RE = re.compile(
    r"\b(00Q|003|001|006|00K|008|701|00v|500|501|00T|00U|005|00E|01t|01u|00k)[A-Za-z0-9]{12}\b"
)
_SPECS: dict[str, ObjectSpec] = {**OBJECTS, **LOOKUPS}
"""Objects with a table and lookups: what detection can name."""

# helper columns a mapping may produce that are not canonical
_EXTRA_DTYPES: dict[str, pl.DataType] = {
    "contact_id": pl.String(),
    "lead_id": pl.String(),
    "opportunity_id": pl.String(),
    "conversion_rate": pl.Float64(),
    "influence": pl.Float64(),
    "amount": pl.Float64(),
    "type_raw": pl.String(),
    "who_id": pl.String(),
    "what_id": pl.String(),
    "completed_at": pl.Datetime("us", "UTC"),
    "activity_date": pl.Datetime("us", "UTC"),
    "end_at": pl.Datetime("us", "UTC"),
    "duration_minutes": pl.Float64(),
    "pricebook_entry_id": pl.String(),
    "parent_role_id": pl.String(),
    "product_id": pl.String(),
    "unit_price": pl.Float64(),
    "currency": pl.String(),
    "name": pl.String(),
}


def read_salesforce(
    path: str | Path,
    *,
    object: str | None = None,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
    currency: str | None = None,
    corporate_currency: str | None = None,
) -> LoadResult:
    r"""Read Salesforce exports (file, folder or glob) into canonical tables.

    Parameters
    ----------
    path
        A file, a folder (every data file in it) or a glob.
    object
        Salesforce object (``"Lead"``, ``"Opportunity"``, ...); detected from the ids,
        the columns or the file name when None.
    tz
        Time zone of date-times written without an offset (report exports use the
        exporting user's zone); reported as assumed.
    dayfirst
        Order of ``d/m/y`` dates when the data cannot decide it.
    date_range
        Plausible dates ``(earliest, latest)`` (dates or ISO strings); a date outside
        rejects its row with the reason. Default 1990-01-01 to today + 10 years.
    currency
        Currency of amounts in a single-currency org (no ``CurrencyIsoCode`` column and
        no symbol in the values); USD when not given, noted in the report.
    corporate_currency
        Corporate currency for ``DatedConversionRate`` (else the one at rate 1).

    Returns
    -------
    LoadResult
        people, accounts, opportunities, opportunity_contacts, stage_history,
        campaigns, campaign_members, touchpoints, fx_rates, activities (Task, Event),
        users (User; UserRole beside it names the roles), products (Product2) and
        opportunity_products (OpportunityLineItem; PricebookEntry beside it), as the
        files feed them.

    Raises
    ------
    SourceFormatError
        A file is not a Salesforce export of a supported object, is binary or
        truncated, or lacks the columns the object needs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "Lead.csv"
    >>> _ = p.write_text(
    ...     "Id,LastName,Company,Status,IsConverted,CreatedDate\n"
    ...     "00Q5e00000AbCdE,Akin,Athena,Closed - Converted,false,2026-01-05T14:03:22.000+0000\n"
    ... )
    >>> res = read_salesforce(p)
    >>> res["people"].select("person_id", "status_raw").row(0)
    ('sf:00Q5e00000AbCdEEAV', 'Closed - Converted')
    """
    opts: dict[str, Any] = {
        "object": object,
        "tz": tz,
        "dayfirst": dayfirst,
        "date_range": date_range,
        "currency": currency,
        "corporate_currency": corporate_currency,
    }
    return read_paths(path, _read_file, reader="salesforce", **opts)


# --------------------------------------------------------------------------- reading
def _json_records(fs: FileSniff) -> tuple[pl.DataFrame, str | None]:
    text = fs.path.read_bytes().decode(fs._codec or "utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = (
            f"{fs.name}: line {exc.lineno}: not valid JSON ({exc.msg}); the file looks "
            f"truncated (expected a Salesforce Tree-API file {{'records': [...]}})"
        )
        raise SourceFormatError(msg, path=str(fs.path), line=exc.lineno) from None
    records = data.get("records") if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        msg = f"{fs.name}: expected a Salesforce Tree-API JSON object with a 'records' list"
        raise SourceFormatError(msg, path=str(fs.path), line=1)
    rows: list[dict[str, str | None]] = []
    types: set[str] = set()
    for i, rec in enumerate(records, start=1):
        row: dict[str, str | None] = {}
        attrs = rec.get("attributes") or {}
        if isinstance(attrs, dict):
            if attrs.get("type"):
                types.add(str(attrs["type"]))
            if attrs.get("referenceId") and "Id" not in rec:
                row["Id"] = _REF + str(attrs["referenceId"])
        for k, v in rec.items():
            if k == "attributes" or isinstance(v, dict | list):
                continue
            row[k] = _json_text(v)
        row["source_row"] = str(i)
        rows.append(row)
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    frame = pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in cols} if rows else {"source_row": []},
        schema={c: pl.String for c in cols} if rows else {"source_row": pl.String},
    ).with_columns(pl.col("source_row").cast(pl.Int64))
    return frame, (next(iter(types)) if len(types) == 1 else None)


def _json_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and v.startswith("@"):
        return _REF + v[1:]
    return str(v)


def _detect_object(
    raw: pl.DataFrame, fs: FileSniff, declared: str | None, json_type: str | None
) -> str | None:
    # 1. the record ids say what they are
    id_col = find_column(raw.columns, ("Id", "ID"))
    prefix_obj = None
    if id_col is not None:
        sample = raw[id_col].head(2000).drop_nulls()
        prefixes = sample.str.slice(0, 3).value_counts(sort=True)
        if prefixes.height:
            prefix_obj = KEY_PREFIXES.get(str(prefixes[0, 0]))
    candidates = [json_type, prefix_obj]
    # 2. the file name
    stem = normalize_name(re.sub(r"^(sf_|salesforce_)", "", fs.path.stem.lower()))
    stem = re.sub(r"(data|export|extract|report|historydata)$", "", stem)
    by_name = None
    for name, spec in _SPECS.items():
        if stem in {normalize_name(n) for n in (name, *spec.file_names)}:
            by_name = name
    for name in NOT_CANONICAL:
        if stem == normalize_name(name) or stem == normalize_name(name) + "s":
            by_name = by_name or name
    candidates.append(by_name)
    # 3. the columns
    cols = {normalize_name(c) for c in raw.columns}
    by_cols = None
    best = 0
    for name, spec in _SPECS.items():
        if spec.signature and spec.signature <= cols and len(spec.signature) > best:
            by_cols, best = name, len(spec.signature)
    # report exports: the record's "<Object> ID" label column (most specific first)
    labels = {
        "leadid": "Lead",
        "contactid": "Contact",
        "opportunityid": "Opportunity",
        "campaignid": "Campaign",
        "accountid": "Account",
    }
    by_label = None
    if len(cols) > 3:
        by_label = next((obj for label, obj in labels.items() if label in cols), None)
    candidates += [by_cols, by_label]
    found = next((c for c in candidates if c), None)
    if declared is not None:
        wanted = _canonical_object_name(declared)
        strong = json_type or prefix_obj
        if (
            strong
            and strong != wanted
            and not (wanted in ("OpportunityFieldHistory", "LeadHistory") and strong is None)
        ):
            msg = (
                f"{fs.name}: `object` is {declared!r} but the file holds {strong} records "
                f"(by their {'attributes.type' if json_type else 'record id prefix'}); "
                f"pass object={strong!r} or object=None"
            )
            raise SourceFormatError(msg, path=str(fs.path), column=id_col)
        return wanted
    return found


_GENERIC_ID_NAMES = ("recordid", "sfid", "salesforceid", "casesafeid", "18digitid", "id18")


def _generic_id_column(raw: pl.DataFrame) -> tuple[pl.DataFrame, str | None]:
    """Read a generically named id column (``Record ID``, ``sfid``...) as ``Id``.

    Only when the file has no ``Id`` column and at least 80% of the column's values are
    Salesforce ids of one object (known key prefix; 18-character ones with a valid
    checksum): the values themselves say they are the record ids.
    """
    from closedloop_kit.schema import salesforce_id_valid_expr

    if find_column(raw.columns, ("Id", "ID")) is not None:
        return raw, None
    for col in raw.columns:
        if normalize_name(col) not in _GENERIC_ID_NAMES:
            continue
        s = raw[col].head(2000).drop_nulls().str.strip_chars()
        if s.len() == 0:
            continue
        prefixes = s.str.slice(0, 3).value_counts(sort=True)
        prefix = str(prefixes[0, 0])
        obj = KEY_PREFIXES.get(prefix)
        ok = pl.DataFrame({"v": s}).select(
            (pl.col("v").str.starts_with(prefix) & salesforce_id_valid_expr(pl.col("v"))).sum()
        )[0, 0]
        if obj is not None and int(ok or 0) >= 0.8 * s.len():
            note = (
                f"`{col}` holds {obj} record ids (key prefix {prefix}, valid checksums): "
                f"read as the record Id"
            )
            return raw.rename({col: "Id"}), note
    return raw, None


def _canonical_object_name(name: str) -> str:
    for known in (*_SPECS, *NOT_CANONICAL):
        if normalize_name(known) == normalize_name(name):
            return known
    msg = f"`object` must be one of {tuple(OBJECTS)}, got {name!r}"
    raise ValueError(msg)


def _load_raw(fs: FileSniff) -> tuple[pl.DataFrame, RawTable | None, str | None, str]:
    if fs.kind == "json":
        frame, jtype = _json_records(fs)
        return frame, None, jtype, "tree-api json"
    table = read_table(fs.path, sniff=fs)
    cols = {c.lower() for c in table.header}
    if "_fivetran_synced" in cols or "_fivetran_active" in cols:
        fmt = "warehouse (fivetran)"
    elif table.footer or table.preamble or any(" " in c for c in table.header):
        fmt = "report csv"
    elif table.header and all(c.isupper() or not c.isalpha() for c in table.header[:5]):
        fmt = "data loader csv"
    else:
        fmt = "data export csv"
    if fs.kind != "text":  # a workbook: finish() adds the sheet read
        fmt = fmt.removesuffix(" csv")
    return table.frame, table, None, fmt


# ----------------------------------------------------------------------- history mode
def _history_mode(
    raw: pl.DataFrame, id_col: str
) -> tuple[pl.DataFrame, pl.DataFrame, int, list[str]]:
    """Split warehouse history-mode rows into current rows and older versions."""
    cols = {c.lower(): c for c in raw.columns}
    active = cols.get("_fivetran_active")
    start = cols.get("_fivetran_start")
    if active is None:
        return raw, raw.clear(), 0, []
    order = [start] if start else []
    flagged = raw.with_columns(
        (pl.col(active).str.to_lowercase() == "true").fill_null(True).alias("__active"),
        pl.col(order[0]).alias("__start") if order else pl.lit(None).alias("__start"),
    )
    has_active = flagged.group_by(id_col).agg(pl.col("__active").any().alias("__any"))
    flagged = flagged.join(has_active, on=id_col, how="left")
    # current = the active version, else the latest version of a record with none active
    latest = (
        pl.col("__start").rank("ordinal", descending=True).over(id_col) == 1
        if order
        else pl.col("source_row").rank("ordinal", descending=True).over(id_col) == 1
    )
    current_mask = pl.when(pl.col("__any")).then(pl.col("__active")).otherwise(latest)
    flagged = flagged.with_columns(current_mask.alias("__current"))
    # several active versions of one id: keep the latest
    flagged = flagged.with_columns(
        (
            pl.col("__current")
            & (pl.col("__current").cum_sum().over(id_col) == pl.col("__current").sum().over(id_col))
        ).alias("__current")
    )
    current = flagged.filter(pl.col("__current")).drop("__active", "__start", "__any", "__current")
    versions = flagged.drop("__active", "__any", "__current")
    merged = raw.height - current.height
    notes = []
    no_active = flagged.filter(~pl.col("__any") & pl.col("__current")).height
    if no_active:
        notes.append(f"{no_active} record(s) with no active version: latest version kept")
    if merged:
        notes.append(f"{merged} history-mode version(s) merged into their current row")
    return current, versions, merged, notes


def _history_changes(
    versions: pl.DataFrame, spec: ObjectSpec, id_col: str, path: str
) -> pl.DataFrame | None:
    tracked = HISTORY_TRACKED.get(spec.name, {})
    if not tracked or "__start" not in versions.columns or versions.height == 0:
        return None
    parts = []
    when = parse_datetime(versions["__start"]).value
    base = versions.with_columns(when.alias("__when")).sort(id_col, "__when")
    for field, aliases in tracked.items():
        col = find_column(base.columns, aliases)
        if col is None:
            continue
        changes = (
            base.with_columns(pl.col(col).shift(1).over(id_col).alias("__old"))
            .filter(
                pl.col(col).ne_missing(pl.col("__old"))
                & pl.col("__when").is_not_null()
                & (pl.col("__when").dt.year() < 9999)
            )
            .select(
                pl.lit(_ENTITY[str(spec.table)]).alias("entity_type"),
                pl.col(id_col).alias("entity_id"),
                pl.lit(field).alias("field"),
                pl.col("__old").alias("old_value"),
                pl.col(col).alias("new_value"),
                pl.col("__when").alias("changed_at"),
                pl.lit(SYSTEM).alias("source_system"),
                pl.col(id_col).alias("source_id"),
                pl.lit(path).alias("source_file"),
                pl.col("source_row"),
            )
        )
        parts.append(changes)
    if not parts:
        return None
    out = pl.concat(parts).with_columns(pl.col("entity_id").str.strip_chars())
    key, bad, message = _sf_id_exprs(pl.col("entity_id"), id_col, _scope(path))
    reason = pl.when(bad).then(message).otherwise(pl.lit(None, dtype=pl.String))
    return out.with_columns(key.alias("entity_id"), reason.alias(REJECT_REASON))


_ENTITY = {"people": "person", "accounts": "account", "opportunities": "opportunity"}


# --------------------------------------------------------------------------- ids
def _is_ref(expr: pl.Expr) -> pl.Expr:
    return expr.str.starts_with(_REF) | expr.str.starts_with("@")


def _scope(path: str | Path) -> str:
    """Folder that scopes Tree-API reference ids (``AccountRef1`` is only unique per plan)."""
    return "/".join(Path(path).resolve().parent.parts[-2:])


def _sf_id_exprs(
    v: pl.Expr,
    label: str,
    scope: str = "",
    suffix: pl.Expr | None = None,
    valid: pl.Expr | None = None,
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Key, invalid flag and problem message for the Salesforce ids in ``v``.

    The key is ``sf:<18-char id>`` (or ``sf:ref:<scope>/<name>`` for Tree-API references
    such as ``@AccountRef1``, scoped by the folder of their plan), null when the id is
    invalid. The flag is True for an invalid id. The message names ``label``; it is
    formatted for every row, so evaluate it on the flagged rows only. ``v`` is trimmed
    text; ``suffix`` its :func:`~closedloop_kit.schema.salesforce_suffix_expr` and
    ``valid`` its :func:`~closedloop_kit.schema.salesforce_id_valid_expr` when already
    computed.
    """
    from closedloop_kit.schema import (
        salesforce_id_problem_expr,
        salesforce_id_valid_expr,
        salesforce_suffix_expr,
    )

    sfx = salesforce_suffix_expr(v) if suffix is None else suffix
    ref = _is_ref(v)
    if valid is None:
        valid = salesforce_id_valid_expr(v, suffix=sfx)
    key = (
        pl.when(ref)
        .then(
            pl.concat_str(
                [
                    pl.lit(f"sf:{_REF}{scope}/" if scope else f"sf:{_REF}"),
                    v.str.strip_prefix(_REF).str.strip_prefix("@"),
                ]
            )
        )
        .when(valid)
        .then(pl.concat_str([pl.lit("sf:"), v.str.slice(0, 15), sfx]))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    bad = valid.not_() & ref.not_()
    message = pl.concat_str([pl.lit(f"`{label}`: "), salesforce_id_problem_expr(v, suffix=sfx)])
    return key, bad.fill_null(False), message


# --------------------------------------------------------------------------- build
_STACKED_SUFFIXES = 50_000
"""Most id values (rows × id columns) whose checksum suffixes are computed in one call."""


def _canonical(
    spec: ObjectSpec,
    raw: pl.DataFrame,
    mapped: Mapped,
    *,
    path: str,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    from closedloop_kit.schema import TABLES, salesforce_id_valid_expr, salesforce_suffix_expr

    assert spec.table is not None
    df = mapped.frame.with_columns(mapped.problem.alias(REJECT_REASON))
    scope = _scope(path)
    key_cols = set(TABLES[spec.table].key) | ({spec.key} if spec.key else set())
    # the record id
    if "source_id" not in df.columns:
        if spec.key:
            notes.append(
                f"no Id column: keys made from row order ({spec.name}Ref<n>, as Tree-API "
                f"references)"
            )
        df = df.with_columns(
            pl.concat_str([pl.lit(f"{_REF}{spec.name}Ref"), pl.int_range(1, df.height + 1)]).alias(
                "source_id"
            )
        )
    # every id column in one lazy pass: checksum suffixes first, then keys and flags
    id_cols = (["source_id"] if spec.key else []) + [c for c in sorted(spec.ids) if c in df.columns]
    n = df.height
    if 0 < n * len(id_cols) <= _STACKED_SUFFIXES:
        # a small file: one suffix call over its id columns stacked (a call costs ~1 ms
        # whatever its size); a large one keeps a call per column, which computes a
        # column of repeated references once per distinct id, columns in parallel
        stacked = pl.concat([df[c].cast(pl.String) for c in id_cols])
        suffixes = pl.select(salesforce_suffix_expr(pl.lit(stacked))).to_series()
        suffix_of = [pl.lit(suffixes.slice(i * n, n)) for i in range(len(id_cols))]
    else:
        suffix_of = [salesforce_suffix_expr(pl.col(c)) for c in id_cols]
    lf = (
        df.lazy()
        .with_columns(e.alias(f"__sfx_{c}") for e, c in zip(suffix_of, id_cols, strict=True))
        .with_columns(
            salesforce_id_valid_expr(pl.col(c), suffix=pl.col(f"__sfx_{c}")).alias(f"__ok_{c}")
            for c in id_cols
        )
    )
    keys: list[pl.Expr] = []
    messages: dict[str, pl.Expr] = {}
    for col in id_cols:
        label = mapped.used.get(col, "Id" if col == "source_id" else col)
        sfx, ok = pl.col(f"__sfx_{col}"), pl.col(f"__ok_{col}")
        key, bad, message = _sf_id_exprs(pl.col(col), label, scope, sfx, ok)
        keys += [key.alias(f"__key_{col}"), bad.alias(f"__bad_{col}")]
        messages[col] = message
    constants = [pl.lit(value).alias(col) for col, value in spec.constants.items()]
    df = collect_in_memory(lf.with_columns(keys))
    # messages for the invalid ids only: keys reject their row, references become null
    reasons = [df[REJECT_REASON]]
    for col in id_cols:
        flagged = df[f"__bad_{col}"]
        if not bool(flagged.any()):
            continue
        if col == "source_id" or col in key_cols:
            reasons.append(df.select(pl.when(flagged).then(messages[col])).to_series())
        else:
            examples = df.filter(flagged)[col].head(2).to_list()
            notes.append(
                f"`{mapped.used.get(col, col)}`: {int(flagged.sum())} invalid Salesforce id(s) "
                f"set to null, e.g. {examples}"
            )
    renamed = {f"__key_{c}": str(spec.key if c == "source_id" else c) for c in id_cols}
    df = df.select(
        [pl.col(c) for c in df.columns if not c.startswith("__") and c not in renamed.values()]
        + [pl.col(k).alias(v) for k, v in renamed.items()]
    ).with_columns(
        (combine_problems(*reasons) if len(reasons) > 1 else reasons[0]).alias(REJECT_REASON),
        *constants,
        pl.lit(SYSTEM).alias("source_system"),
        pl.lit(path).alias("source_file"),
        pl.col("source_id").str.strip_prefix(_REF),
    )
    return _POST[spec.table](spec, df, raw, mapped, opts, notes)


def _post_people(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    if "email" in df.columns:
        df = df.with_columns(normalized_email(pl.col("email")).alias("email_normalized"))
    return {"people": df}


def _post_accounts(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    if "domain" in df.columns:
        df = df.with_columns(normalized_domain(pl.col("domain")))
    if "annual_revenue" in df.columns:
        df = _with_currency(df, raw, m, "annual_revenue", opts, notes)
    return {"accounts": df}


def _with_currency(
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    amount: str,
    opts: dict[str, Any],
    notes: list[str],
) -> pl.DataFrame:
    """Fill ``currency``: CurrencyIsoCode, else the symbol in the text, else the org's."""
    from_text = (
        currency_from_text(raw[m.used[amount]])
        if amount in m.used
        else null_series(df.height, pl.String)
    )
    given = df["currency"] if "currency" in df.columns else null_series(df.height, pl.String)
    cur = pl.select(pl.coalesce(given.str.to_uppercase(), from_text)).to_series()
    needs = df[amount].is_not_null() & cur.is_null()
    if bool(needs.any()):
        org = opts.get("currency") or "USD"
        cur = pl.select(pl.when(needs).then(pl.lit(org)).otherwise(cur)).to_series()
        if not opts.get("currency"):
            notes.append(
                f"{int(needs.sum())} `{amount}` value(s) without a currency: the org "
                f"currency was assumed to be {org} (pass `currency=`)"
            )
    return df.with_columns(cur.alias("currency"))


_WON = r"(?i)closed\W*won|^won$"
_CLOSED = r"(?i)closed|lost|^won$"


def _post_opportunities(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    if "amount" in df.columns:
        df = _with_currency(df, raw, m, "amount", opts, notes)
    if "probability_rate" in df.columns:
        # Salesforce stores Probability in percent (0-100); "65%" was already divided
        text = raw[m.used["probability_rate"]].cast(pl.String)
        has_pct = text.str.contains("%", literal=True).fill_null(False)
        df = df.with_columns(
            pl.when(pl.lit(has_pct))
            .then(pl.col("probability_rate"))
            .otherwise(pl.col("probability_rate") / 100)
        )
    stage = pl.col("stage_raw") if "stage_raw" in df.columns else pl.lit(None, pl.String)
    won_from_stage = stage.str.contains(_WON)
    closed_from_stage = stage.str.contains(_CLOSED)
    df = df.with_columns(
        (pl.col("is_won") if "is_won" in df.columns else pl.lit(None, pl.Boolean))
        .fill_null(won_from_stage)
        .fill_null(False)
        .alias("is_won"),
        (pl.col("is_closed") if "is_closed" in df.columns else pl.lit(None, pl.Boolean))
        .fill_null(closed_from_stage)
        .fill_null(False)
        .alias("is_closed"),
    )
    if "is_won" not in m.used:
        notes.append("IsWon/IsClosed not exported: derived from the stage name")
    return {"opportunities": df}


def _post_links(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    assert spec.table is not None
    return {spec.table: df}


def _post_campaigns(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    amount = "budgeted_cost" if "budgeted_cost" in df.columns else "actual_cost"
    if amount in df.columns:
        df = _with_currency(df, raw, m, amount, opts, notes)
    if "type" in df.columns:
        # Salesforce has no channel field: Campaign.Type is the channel analysts report
        # on, and offline touches already take their campaign type as channel
        has = "channel" in df.columns
        df = df.with_columns(
            (pl.coalesce(pl.col("channel"), pl.col("type")) if has else pl.col("type")).alias(
                "channel"
            )
        )
    return {"campaigns": df}


def _post_members(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    person = [c for c in ("contact_id", "lead_id") if c in df.columns]
    if not person:
        msg = (
            f"{Path(str(df['source_file'][0]) if df.height else '').name}: a CampaignMember "
            f"export needs ContactId or LeadId"
        )
        raise SourceFormatError(msg, column="ContactId")
    df = df.with_columns(pl.coalesce([pl.col(c) for c in person]).alias("person_id"))
    df = df.with_columns(
        pl.when(pl.col("person_id").is_null() & pl.col(REJECT_REASON).is_null())
        .then(pl.lit("no ContactId or LeadId"))
        .otherwise(pl.col(REJECT_REASON))
        .alias(REJECT_REASON)
    )
    members = df.drop(person)
    tables = {"campaign_members": members}
    if "has_responded" in df.columns:
        first = (
            pl.col("first_responded_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
            if "first_responded_date" in df.columns
            else pl.lit(None, pl.Datetime("us", "UTC"))
        )
        created = (
            pl.col("created_at")
            if "created_at" in df.columns
            else pl.lit(None, pl.Datetime("us", "UTC"))
        )
        member_key = (
            pl.when(pl.col("source_id").str.contains(r"^[A-Za-z0-9]{15,18}$"))
            .then(pl.concat_str([pl.lit("sf:cmr:"), pl.col("source_id")]))
            .otherwise(
                pl.concat_str(
                    [pl.lit("sf:cmr:"), pl.col("campaign_id"), pl.lit(":"), pl.col("person_id")]
                )
            )
        )
        touches = members.filter(
            pl.col("has_responded").fill_null(False) & pl.col(REJECT_REASON).is_null()
        ).select(
            member_key.alias("touchpoint_id"),
            "person_id",
            pl.coalesce(first, created).alias("occurred_at"),
            pl.lit("campaign_response").alias("touch_type"),
            pl.lit(True).alias("is_marketing"),
            "campaign_id",
            "source_system",
            "source_id",
            "source_file",
            "source_row",
        )
        tables["touchpoints"] = touches
    return tables


def _post_history(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    if spec.name == "OpportunityHistory":
        if "old_value" not in df.columns:
            df = (
                df.sort("entity_id", "changed_at", nulls_last=True)
                .with_columns(pl.col("new_value").shift(1).over("entity_id").alias("old_value"))
                .sort("source_row")
            )
        df = df.drop("amount", strict=False)
    elif "field" in df.columns:
        df = df.with_columns(
            pl.col("field").replace_strict(
                FIELD_NAMES, default=pl.col("field").str.to_lowercase(), return_dtype=pl.String
            )
        )
    return {"stage_history": df}


def _post_fx(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    corp = opts.get("corporate_currency")
    if corp is None and "conversion_rate" in df.columns:
        ones = (
            df.group_by("currency")
            .agg((pl.col("conversion_rate") == 1).all().alias("one"))
            .filter("one")
        )
        if ones.height == 1:
            corp = str(ones["currency"][0])
            notes.append(f"corporate currency {corp} (the currency at conversion rate 1)")
    df = df.with_columns(
        (1.0 / pl.col("conversion_rate")).alias("rate_to_corporate"),
        pl.lit(corp, dtype=pl.String).alias("corporate_currency"),
    ).drop("conversion_rate")
    return {"fx_rates": df}


def _post_influence(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    notes.append(
        "CampaignInfluence rows are Salesforce's own attribution: loaded as touchpoints "
        "with touch_type 'campaign_influence' and is_marketing false"
    )
    return {"touchpoints": df.drop("opportunity_id", "influence", strict=False)}


# ------------------------------------------------------------- activities, users, products
_ACTIVITY_WORDS = {
    "call": "call",
    "email": "email",
    "listemail": "email",
    "meeting": "meeting",
    "linkedin": "message",
    "sms": "message",
    "note": "note",
}
"""Normalized TaskSubtype / EventSubtype / Type values → ``activities.type``."""

_WHAT = {"001": "account_id", "006": "opportunity_id", "701": "campaign_id"}
_WHO = ("00Q", "003")


def _activity_word(col: str, df: pl.DataFrame) -> pl.Expr:
    if col not in df.columns:
        return pl.lit(None, pl.String)
    word = pl.col(col).str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
    return word.replace_strict(_ACTIVITY_WORDS, default=None, return_dtype=pl.String)


def _null(df: pl.DataFrame, col: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(col) if col in df.columns else pl.lit(None, dtype)


def _post_activities(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    """Task/Event → activities: type from subtype/Type, WhoId/WhatId split by key prefix."""
    default = "meeting" if spec.name == "Event" else "task"
    kind = pl.coalesce(
        _activity_word("subtype", df), _activity_word("type_raw", df), pl.lit(default)
    )
    # WhoId is a lead or a contact; WhatId an account, opportunity, campaign (or other)
    who = _null(df, "who_id", pl.String())
    what = _null(df, "what_id", pl.String())
    who_prefix, what_prefix = who.str.slice(3, 3), what.str.slice(3, 3)
    refs: list[pl.Expr] = [
        pl.when(who_prefix.is_in(_WHO)).then(who).otherwise(None).alias("person_id")
    ]
    for prefix, col in _WHAT.items():
        from_what = pl.when(what_prefix == prefix).then(what).otherwise(None)
        if col in df.columns:
            from_what = pl.coalesce(pl.col(col), from_what)
        refs.append(from_what.alias(col))
    other_who = df.select((who.is_not_null() & ~who_prefix.is_in(_WHO)).sum()).item()
    other_what = df.select((what.is_not_null() & ~what_prefix.is_in(list(_WHAT))).sum()).item()
    if other_who or other_what:
        notes.append(
            f"{other_who} WhoId(s) and {other_what} WhatId(s) point to other objects (not a "
            f"lead, contact, account, opportunity or campaign): not kept"
        )
    if spec.name == "Event":
        when = pl.coalesce(_null(df, "occurred_at", UTC), _null(df, "activity_date", UTC))
        span = (_null(df, "end_at", UTC) - pl.col("occurred_at")).dt.total_seconds()
        minutes = _null(df, "duration_minutes", pl.Float64()) * 60
        duration = pl.coalesce(minutes.round(0).cast(pl.Int64), span.cast(pl.Int64))
    else:
        when = pl.coalesce(_null(df, "completed_at", UTC), _null(df, "occurred_at", UTC))
        duration = _null(df, "duration_seconds", pl.Int64())
    if "occurred_at" not in df.columns:
        df = df.with_columns(pl.lit(None, UTC).alias("occurred_at"))
    df = df.with_columns(kind.alias("type"), *refs, when.alias("occurred_at"))
    df = df.with_columns(duration.alias("duration_seconds"))
    helpers = ("type_raw", "who_id", "what_id", "completed_at", "activity_date", "end_at")
    return {"activities": df.drop(*helpers, "duration_minutes", strict=False)}


UTC = pl.Datetime("us", "UTC")


def _sibling_lookup(path: str, spec: ObjectSpec) -> pl.DataFrame | None:
    """The ``spec`` lookup export beside ``path`` (same folder), mapped and id-normalised."""
    from closedloop_kit.schema import salesforce_id18_expr

    here = Path(path)
    names = {normalize_name(n) for n in (spec.name, *spec.file_names)}
    for f in sorted(here.parent.iterdir()):
        if f == here or f.suffix.lower() not in (".csv", ".xlsx", ".xls", ".txt"):
            continue
        stem = normalize_name(re.sub(r"^(sf_|salesforce_)", "", f.stem.lower()))
        stem = re.sub(r"(data|export|extract|report)$", "", stem)
        if stem not in names:
            continue
        m = map_columns(read_table(f).frame, spec.fields, _EXTRA_DTYPES)
        if "source_id" not in m.frame.columns:
            return None
        ids = ["source_id", *[c for c in spec.ids if c in m.frame.columns]]
        return m.frame.with_columns(
            pl.concat_str([pl.lit("sf:"), salesforce_id18_expr(pl.col(c))]).alias(c) for c in ids
        )
    return None


def _role_division(roles: pl.DataFrame) -> dict[str, str]:
    """Role key → name of its ancestor right below the top of the hierarchy.

    Salesforce role hierarchies put one role per division under the top role (``CEO`` →
    ``EMEA Sales`` → ``EMEA AE``); that second-level role names the division.
    """
    name = dict(zip(roles["source_id"].to_list(), roles["name"].to_list(), strict=True))
    parent = (
        dict(zip(roles["source_id"].to_list(), roles["parent_role_id"].to_list(), strict=True))
        if "parent_role_id" in roles.columns
        else {}
    )
    out: dict[str, str] = {}
    for role in name:
        chain = [role]
        while parent.get(chain[-1]) in name and len(chain) <= len(name):
            chain.append(str(parent[chain[-1]]))
        if len(chain) >= 2 and name[chain[-2]] is not None:
            out[role] = str(name[chain[-2]])
    return out


def _post_users(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    """User → users: role name from UserRole beside the file; partner flag.

    The division is ``User.Division`` when the org exports it; without that field it is
    the role's ancestor right below the top of the hierarchy (see :func:`_role_division`).
    """
    full = pl.concat_str(
        [_null(df, "first_name", pl.String()), _null(df, "last_name", pl.String())],
        separator=" ",
        ignore_nulls=True,
    )
    df = df.with_columns(
        pl.coalesce(_null(df, "name", pl.String()), pl.when(full != "").then(full)).alias("name")
    )
    if "user_type" in df.columns:
        kind = pl.col("user_type").str.to_lowercase().str.replace_all(r"[^a-z]", "")
        df = df.with_columns(kind.is_in(list(PARTNER_USER_TYPES)).alias("is_partner"))
    roles = _sibling_lookup(str(df["source_file"][0]), LOOKUPS["UserRole"]) if df.height else None
    if roles is not None and "role_id" in df.columns and "name" in roles.columns:
        names = dict(zip(roles["source_id"].to_list(), roles["name"].to_list(), strict=True))
        division = _role_division(roles)
        df = df.with_columns(
            pl.coalesce(
                _null(df, "role", pl.String()),
                pl.col("role_id").replace_strict(names, default=None, return_dtype=pl.String),
            ).alias("role"),
        )
        notes.append("role names from UserRole")
        if "sales_division" not in m.used:  # no Division field: the role hierarchy says it
            df = df.with_columns(
                pl.col("role_id")
                .replace_strict(division, default=None, return_dtype=pl.String)
                .alias("sales_division")
            )
            notes.append("no Division column: sales divisions from the role hierarchy")
    return {"users": df}


def _post_line_items(
    spec: ObjectSpec,
    df: pl.DataFrame,
    raw: pl.DataFrame,
    m: Mapped,
    opts: dict[str, Any],
    notes: list[str],
) -> dict[str, pl.DataFrame]:
    """OpportunityLineItem → opportunity_products: Discount % → 0–1, currency, product."""
    if "discount_rate" in df.columns:
        df = df.with_columns(pl.col("discount_rate") / 100)
    amount = next((c for c in ("total_amount", "unit_price") if c in df.columns), None)
    if amount is not None:
        df = _with_currency(df, raw, m, amount, opts, notes)
    if "pricebook_entry_id" in df.columns and df.height:
        entries = _sibling_lookup(str(df["source_file"][0]), LOOKUPS["PricebookEntry"])
        if entries is not None and "product_id" in entries.columns:
            lk = dict(
                zip(entries["source_id"].to_list(), entries["product_id"].to_list(), strict=True)
            )
            via = pl.col("pricebook_entry_id").replace_strict(
                lk, default=None, return_dtype=pl.String
            )
            df = df.with_columns(
                pl.coalesce(_null(df, "product_id", pl.String()), via).alias("product_id")
            )
            notes.append("products of line items without Product2Id from PricebookEntry")
        df = df.drop("pricebook_entry_id")
    return {"opportunity_products": df}


_POST = {
    "people": _post_people,
    "accounts": _post_accounts,
    "opportunities": _post_opportunities,
    "opportunity_contacts": _post_links,
    "campaigns": _post_campaigns,
    "campaign_members": _post_members,
    "stage_history": _post_history,
    "fx_rates": _post_fx,
    "touchpoints": _post_influence,
    "activities": _post_activities,
    "users": _post_users,
    "products": _post_links,
    "opportunity_products": _post_line_items,
}

_LOOKUP_NOTE = {
    "UserRole": "lookup table: names the role (and division) of users read from the same folder",
    "PricebookEntry": "lookup table: gives the product of line items read from the same folder",
}

_REQUIRED: dict[str, tuple[str, ...]] = {
    "OpportunityLineItem": ("opportunity_id",),
    "OpportunityContactRole": ("opportunity_id", "person_id"),
    "CampaignMember": ("campaign_id",),
    "OpportunityHistory": ("entity_id", "new_value", "changed_at"),
    "OpportunityFieldHistory": ("entity_id", "field", "changed_at"),
    "LeadHistory": ("entity_id", "field", "changed_at"),
    "DatedConversionRate": ("currency", "conversion_rate", "valid_from"),
    "CampaignInfluence": ("campaign_id", "occurred_at"),
}


def _read_file(path: Path, **opts: Any) -> LoadResult:
    from closedloop_kit.schema import TABLES

    fs = sniff(path)
    if fs.kind not in (*TABLE_KINDS, "json"):
        read_text_table(path, sniff=fs)  # raises the helpful SourceFormatError
    raw, table, json_type, fmt = _load_raw(fs)
    raw, id_note = _generic_id_column(raw)
    obj = _detect_object(raw, fs, opts.get("object"), json_type)
    if (
        obj is not None
        and opts.get("object") is None
        and json_type is None
        and _id_evidence(fs) < 0.9
    ):
        # weak evidence (file name, columns): refuse a file another reader fits better
        from closedloop_kit.io._registry import detect_reader

        other_spec, other_score, _ = detect_reader(fs, exclude=("salesforce",))
        if other_spec is not None and other_score > _detect(fs):
            obj = None
    if obj is None or obj in NOT_CANONICAL:
        other = suggest_reader(fs, exclude=("salesforce",))
        what = (
            f"Salesforce {obj} records, which are not part of the canonical model"
            if obj
            else "no Salesforce object it could recognise (by record ids, columns or name)"
        )
        hint = f"; it looks like a file for {other}" if other else ""
        msg = (
            f"{fs.name}: expected a Salesforce export of a canonical object (Lead, Contact, "
            f"Account, Opportunity, Campaign, ...; see docs/howto-salesforce.md) but found "
            f"{what}{hint}; pass `object=` if it is one of them"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line or 1, suggestion=other)
    if obj in LOOKUPS:
        return finish(
            path=path,
            reader="salesforce",
            source_system=SYSTEM,
            object=obj,
            primary=None,
            tables={},
            rows_read=raw.height,
            raw=raw,
            rows_merged=raw.height,
            sniff=fs,
            format=fmt,
            notes=[_LOOKUP_NOTE[obj], *(table.layout_notes() if table is not None else [])],
        )
    spec = OBJECTS[obj]
    assert spec.table is not None
    notes: list[str] = [id_note] if id_note else []
    id_col = find_column(raw.columns, ("Id", "ID"))
    if fmt.startswith("report"):
        key_col = id_col or find_column(raw.columns, spec.fields.get("source_id", ()))
        raw, summary_lines, filled = split_report_groups(raw, key=key_col)
        if summary_lines:
            notes.append(
                f"grouped report: dropped {len(summary_lines)} summary line(s) (subtotals, "
                f"totals) at line(s) {format_lines(summary_lines)}"
            )
        if filled:
            notes.append(f"grouped report: filled down grouping column(s) {list(filled)}")
    rows_read = raw.height
    current, merged, versions = raw, 0, None
    if fmt.startswith("warehouse") and id_col is not None:
        current, versions, merged, hnotes = _history_mode(raw, id_col)
        notes += hnotes
    dtypes = {**_EXTRA_DTYPES, **TABLES[spec.table].columns}
    mapped = map_columns(
        current,
        spec.fields,
        dtypes,
        tz=opts.get("tz") or "UTC",
        dayfirst=opts.get("dayfirst"),
        date_range=opts.get("date_range"),
        path=path,
    )
    missing = [c for c in _REQUIRED.get(obj, ()) if c not in mapped.used]
    if missing:
        expected = {c: spec.fields[c][0] for c in missing}
        msg = (
            f"{fs.name}: a Salesforce {obj} export needs column(s) "
            f"{list(expected.values())}; the file has {raw.columns[:12]}"
        )
        raise SourceFormatError(
            msg, path=str(path), line=fs.header_line or 1, column=next(iter(expected.values()))
        )
    notes += list(mapped.notes)
    tables = _canonical(spec, current, mapped, path=str(path), opts=opts, notes=notes)
    if versions is not None and id_col is not None:
        hist = _history_changes(versions, spec, id_col, str(path))
        if hist is not None and hist.height:
            tables["stage_history"] = hist
    if table is not None:
        notes += table.layout_notes()
    return finish(
        path=path,
        reader="salesforce",
        source_system=SYSTEM,
        object=obj,
        primary=spec.table,
        tables=tables,
        rows_read=rows_read,
        raw=raw,
        rows_merged=merged,
        sniff=fs,
        format=fmt,
        time_zone_assumed=mapped.assumed_time_zone,
        notes=notes,
    )


# --------------------------------------------------------------------------- detection
def _sample_columns(fs: FileSniff, limit: int = 200) -> dict[str, list[str]]:
    """The sampled values of each id-like column (``Id``, ``<Object> ID``, ``*_id``)."""
    import csv
    import io

    wanted = [
        i
        for i, h in enumerate(fs.header)
        if normalize_name(h) == "id" or normalize_name(h).endswith("id")
    ]
    if not wanted or not fs.sample:
        return {}
    lines = fs.sample.replace("\r\n", "\n").split("\n")[fs.header_line : fs.header_line + limit]
    out: dict[str, list[str]] = {fs.header[i]: [] for i in wanted}
    try:
        for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=fs.delimiter or ","):
            for i in wanted:
                if i < len(row) and row[i].strip():
                    out[fs.header[i]].append(row[i].strip().strip('"'))
    except csv.Error:
        pass
    return {k: v for k, v in out.items() if v}


def _id_evidence(fs: FileSniff) -> float:
    """How surely the record ids say "Salesforce": the strongest evidence there is.

    0.97 when, in an id column, at least 80% of the sampled values are 18-character ids
    whose 3-character checksum suffix is right and whose key prefix names a Salesforce
    object (``001`` Account, ``00Q`` Lead...): a random 18-character value passes the
    checksum once in 32,768. 0.9 for 15-character ids with a known key prefix (no
    checksum to verify). Header names are weaker evidence than either. Computed once
    per sniff within a load (detection and the reader both ask).
    """
    return memoized(("sf_id_evidence", id(fs)), lambda: (fs, _id_evidence_of(fs)))[1]


def _id_evidence_of(fs: FileSniff) -> float:
    # a detection sample is a few hundred values: checked in Python, where one polars
    # plan per file cost more than the check (7 ms a file, on every file of a load)
    from closedloop_kit.schema import is_valid_salesforce_id

    best = 0.0
    for values in _sample_columns(fs).values():
        known = [v for v in values if v[:3] in KEY_PREFIXES]
        n18 = sum(len(v) == 18 and is_valid_salesforce_id(v) for v in known)
        n15 = sum(len(v) == 15 and v.isascii() and v.isalnum() for v in known)
        if n18 >= 0.8 * len(values):
            best = max(best, 0.97)
        elif n15 >= 0.8 * len(values):
            best = max(best, 0.9)
    return best


def _detect(fs: FileSniff) -> float:
    cols = {normalize_name(h) for h in fs.header}
    name = fs.path.name.lower()
    if fs.kind == "json":
        m = re.search(r'"attributes"\s*:\s*\{[^}]*"type"\s*:\s*"(\w+)"', fs.sample)
        return 0.95 if m and (m.group(1) in _SPECS or m.group(1) in NOT_CANONICAL) else 0.0
    if fs.kind not in TABLE_KINDS:
        return 0.0
    score = _id_evidence(fs)
    if "fivetransynced" in cols and name.startswith("sf_"):
        score = max(score, 0.9)
    if "id" in cols and _ID_RE.search(fs.sample):
        score = max(score, 0.85)
    labels = {"leadid", "contactid", "accountid", "opportunityid", "campaignid"}
    if cols & labels and _ID_RE.search(fs.sample):
        score = max(score, 0.8)
    for spec in _SPECS.values():
        if spec.signature and spec.signature <= cols:
            score = max(score, 0.7)
    stem = normalize_name(fs.path.stem)
    if stem in {normalize_name(n) for o in _SPECS.values() for n in (o.name, *o.file_names)}:
        score = max(score, 0.55 if len(cols) > 2 else 0.3)
    return score


def _read_for_registry(path: str | Path, **opts: Any) -> LoadResult:
    return read_salesforce(path, **opts)


register(
    "salesforce",
    source_system=SYSTEM,
    detect=_detect,
    read=_read_for_registry,
    kinds=(*TABLE_KINDS, "json"),
    function="clk.io.read_salesforce",
)
