"""Shared by the Marketo and Pardot readers: prospects → people + CRM identity links.

Marketing-automation records carry the CRM ids of the lead/contact they are synced to
(Marketo ``sfdcLeadId``/``sfdcContactId``, Pardot ``CRM Lead FID``/``CRM Contact FID``).
They become ``identity_links`` rows ``person_id`` ``<mkto|pardot>:<id>`` →
``crm_id`` ``sf:<18-char id>``; an id that is not a valid Salesforce id rejects the link
(with the reason), never the person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from closedloop_kit._core.frames import null_series
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._parse import (
    DateRange,
    combine_problems,
    find_column,
    normalize_name,
    parse_datetime,
    parse_number,
)
from closedloop_kit.io._result import REJECT_REASON, LoadResult, add_notes
from closedloop_kit.io._sheet import TABLE_KINDS, read_table
from closedloop_kit.io._text import FileSniff, sniff
from closedloop_kit.schema import normalized_email
from closedloop_kit.schema.keys import salesforce_id18_expr, salesforce_id_problem_expr

__all__ = ["people_and_links", "read_by_kind", "text_col"]


def text_col(frame: pl.DataFrame, column: str | None, name: str) -> pl.Series:
    """A trimmed text column (empty → null), or an all-null one when ``column`` is None."""
    if column is None:
        return null_series(frame.height, pl.String, name)
    s = frame[column].cast(pl.String).str.strip_chars()
    return pl.select(pl.when(s.str.len_chars() > 0).then(s).alias(name)).to_series()


def _sf_key(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    frame = pl.DataFrame({"v": s})
    out = frame.select(
        pl.when(salesforce_id18_expr(pl.col("v")).is_not_null())
        .then(pl.lit("sf:") + salesforce_id18_expr(pl.col("v")))
        .alias("key"),
        salesforce_id_problem_expr(pl.col("v")).alias("problem"),
    )
    return out["key"], out["problem"]


def people_and_links(
    frame: pl.DataFrame,
    columns: Mapping[str, tuple[str, ...]],
    *,
    system: str,
    prefix: str,
    path: Path,
    time_zone: str,
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[str], str | None]:
    """People (``prospect``) and CRM identity links from a prospect/lead export.

    ``columns`` maps canonical names (``person_id``, ``email``, ``first_name``, ...,
    ``crm_lead_id``, ``crm_contact_id``, ``crm_account_id``, ``score``, ``grade``) to the
    source names a vendor uses. Returns (people with ``_reject``, links with
    ``_reject`` or None when the export has no CRM id column, notes, assumed zone).
    """
    header = [c for c in frame.columns if c != "source_row"]
    cols = {k: find_column(header, v) for k, v in columns.items()}
    notes: list[str] = []
    raw_id = text_col(frame, cols.get("person_id"), "raw_id")
    created = parse_datetime(
        text_col(frame, cols.get("created_at"), "created_at"),
        tz=time_zone,
        dayfirst=dayfirst,
        column=cols.get("created_at"),
        path=path,
        date_range=date_range,
    )
    email = text_col(frame, cols.get("email"), "email")
    account, account_problem = _sf_key(text_col(frame, cols.get("crm_account_id"), "a"))
    extras: dict[str, pl.Series] = {}
    problems = [created.problem]
    for extra in ("score",):
        if cols.get(extra):
            r = parse_number(text_col(frame, cols[extra], extra), column=cols[extra])
            extras[extra] = r.value
            problems.append(r.problem)
    for extra in ("grade", "campaign_name"):
        if cols.get(extra):
            extras[extra] = text_col(frame, cols[extra], extra)
    no_id = pl.select(
        pl.when(raw_id.is_null()).then(pl.lit("no prospect id")).otherwise(None)
    ).to_series()
    people = pl.DataFrame(
        {
            "person_id": pl.select(pl.lit(f"{prefix}:") + raw_id).to_series(),
            "person_type": ["prospect"] * frame.height,
            "email": email,
            "email_normalized": email.to_frame("e")
            .select(normalized_email(pl.col("e")))
            .to_series(),
            "first_name": text_col(frame, cols.get("first_name"), "first_name"),
            "last_name": text_col(frame, cols.get("last_name"), "last_name"),
            "title": text_col(frame, cols.get("title"), "title"),
            "company_name": text_col(frame, cols.get("company_name"), "company_name"),
            "account_id": account,
            "lead_source": text_col(frame, cols.get("lead_source"), "lead_source"),
            "status_raw": text_col(frame, cols.get("status_raw"), "status_raw"),
            "country": text_col(frame, cols.get("country"), "country"),
            "created_at": created.value,
            "is_deleted": [False] * frame.height,
            **extras,
            "source_system": [system] * frame.height,
            "source_id": raw_id,
            "source_row": frame["source_row"],
            REJECT_REASON: combine_problems(no_id, *problems),
        },
        schema_overrides={"person_type": pl.String, "source_system": pl.String},
    )
    if bool(account_problem.is_not_null().any()):
        notes.append(
            f"{int(account_problem.is_not_null().sum())} invalid CRM account id(s) left empty"
        )
    links = []
    for canon, rule in (("crm_lead_id", "lead"), ("crm_contact_id", "contact")):
        col = cols.get(canon)
        if col is None:
            continue
        value = text_col(frame, col, canon)
        key, problem = _sf_key(value)
        links.append(
            pl.DataFrame(
                {
                    "person_id": people["person_id"],
                    "id_type": ["person_id"] * frame.height,
                    "id_value": people["person_id"],
                    "linked_id_type": ["crm_id"] * frame.height,
                    "linked_id_value": key,
                    "rule": [f"{system}_crm_{rule}_id"] * frame.height,
                    "confidence": [1.0] * frame.height,
                    "first_seen_at": created.value,
                    "last_seen_at": created.value,
                    "source_system": [system] * frame.height,
                    "source_id": raw_id,
                    "source_row": frame["source_row"],
                    REJECT_REASON: pl.select(
                        pl.when(problem.is_not_null())
                        .then(pl.format(f"`{col}`: {{}}", problem))
                        .otherwise(None)
                    ).to_series(),
                    "__has": value.is_not_null() & raw_id.is_not_null(),
                },
                schema_overrides={"id_type": pl.String, "linked_id_type": pl.String},
            )
        )
    link_frame = pl.concat(links).filter(pl.col("__has")).drop("__has") if links else None
    return people, link_frame, notes, created.assumed_time_zone


FileReader = Callable[
    [Path, pl.DataFrame, FileSniff, str, "bool | None", "DateRange | None"], LoadResult
]
"""``(path, frame, sniff, time_zone, dayfirst, date_range)`` → the file's result."""


def read_by_kind(
    path: Path,
    *,
    reader: str,
    kind_of: Callable[[frozenset[str]], str | None],
    readers: Mapping[str, FileReader],
    expected: str,
    time_zone: str,
    dayfirst: bool | None,
    date_range: DateRange | None = None,
) -> LoadResult:
    """Read one marketing-automation file with the reader for its kind.

    ``kind_of`` tells the kind (``"activities"``, ``"leads"``, ...) from the header
    names (:func:`~closedloop_kit.io._parse.normalize_name`-d); a file of no known kind
    raises :class:`SourceFormatError` naming ``expected`` and suggesting another reader.
    """
    fs = sniff(path)
    tabular = fs.kind in TABLE_KINDS
    kind = kind_of(frozenset(normalize_name(h) for h in fs.header)) if tabular else None
    if kind is None:
        from closedloop_kit.io._registry import suggest_reader

        other = suggest_reader(fs, exclude=(reader,)) if tabular else None
        hint = f"; it looks like a file for `{other}`" if other else ""
        msg = (
            f"{path.name}: expected {expected}; got a {fs.kind} file with header "
            f"{list(fs.header)[:10]}{hint}"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line or 1, suggestion=other)
    raw = read_table(path, sniff=fs)
    result = readers[kind](path, raw.frame, raw.sniff, time_zone, dayfirst, date_range)
    return add_notes(result, raw.layout_notes())
