"""Read Marketo exports: bulk activity extracts and lead exports.

* Bulk activity extract CSV (``marketoGUID, leadId, activityDate, activityTypeId,
  campaignId, primaryAttributeValueId, primaryAttributeValue, attributes``): each
  activity type is a touch, a tracked field change or ignored, per
  :data:`ACTIVITY_TYPES`; ``attributes`` is one JSON cell, either an object
  (``{"Webpage URL": "/pricing"}``) or a list of ``{"name", "value"}`` pairs.
* Lead export (REST / bulk lead extract field names or the UI's labels) → ``people``
  (``prospect``) and ``identity_links`` to the synced Salesforce lead/contact.

See ``docs/howto-marketo-pardot.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._marketo_people import people_and_links, read_by_kind, text_col
from closedloop_kit.io._parse import (
    DateRange,
    combine_problems,
    find_column,
    normalize_name,
    parse_datetime,
)
from closedloop_kit.io._registry import read_paths, register
from closedloop_kit.io._result import REJECT_REASON, LoadResult, combine_results, finish
from closedloop_kit.io._sheet import TABLE_KINDS
from closedloop_kit.io._text import FileSniff

__all__ = ["ACTIVITY_TYPES", "DATA_VALUE_FIELDS", "LEAD_COLUMNS", "read_marketo"]

Kind = Literal["touch", "change", "ignore"]

ACTIVITY_TYPES: Final[dict[int, tuple[str, Kind, str | None]]] = {
    1: ("Visit Web Page", "touch", "web_visit"),
    2: ("Fill Out Form", "touch", "form_fill"),
    3: ("Click Link", "touch", "web_click"),
    6: ("Send Email", "touch", "email_send"),
    7: ("Email Delivered", "touch", "email_delivered"),
    8: ("Email Bounced", "ignore", None),
    9: ("Unsubscribe Email", "touch", "email_unsubscribe"),
    10: ("Open Email", "touch", "email_open"),
    11: ("Click Email", "touch", "email_click"),
    12: ("New Lead", "ignore", None),
    13: ("Change Data Value", "change", None),
    19: ("Sync Lead to SFDC", "ignore", None),
    22: ("Change Score", "change", "score"),
    24: ("Add to List", "ignore", None),
    25: ("Remove from List", "ignore", None),
    27: ("Email Bounced Soft", "ignore", None),
    32: ("Merge Leads", "ignore", None),
    46: ("Interesting Moment", "ignore", None),
    104: ("Change Status in Progression", "change", "program_status"),
}
"""activityTypeId → (Marketo name, kind, touch_type or history field)."""

EMAIL_TOUCHES: Final[frozenset[str]] = frozenset(
    {"email_send", "email_delivered", "email_unsubscribe", "email_open", "email_click"}
)

DATA_VALUE_FIELDS: Final[dict[str, str]] = {
    "leadstatus": "status",
    "status": "status",
    "lifecyclestage": "lifecycle_stage",
    "leadlifecyclestage": "lifecycle_stage",
    "lifecyclestatus": "lifecycle_stage",
    "leadscore": "score",
    "score": "score",
    "leadsource": "lead_source",
}
"""Change Data Value attribute names (normalised) → canonical history field."""

LEAD_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "person_id": ("id", "Id", "Lead ID", "Marketo ID"),
    "email": ("email", "Email Address"),
    "first_name": ("firstName", "First Name"),
    "last_name": ("lastName", "Last Name"),
    "title": ("title", "Job Title"),
    "company_name": ("company", "Company Name"),
    "lead_source": ("leadSource", "Lead Source"),
    "status_raw": ("leadStatus", "Lead Status"),
    "country": ("country",),
    "created_at": ("createdAt", "Created At", "Created Date"),
    "crm_lead_id": ("sfdcLeadId", "SFDC Lead ID", "SFDC Id"),
    "crm_contact_id": ("sfdcContactId", "SFDC Contact ID"),
    "crm_account_id": ("sfdcAccountId", "SFDC Account ID"),
    "score": ("leadScore", "Lead Score", "score"),
}
"""Lead export: canonical column → Marketo field names (API names, then UI labels)."""

ACTIVITY_COLUMNS: Final[tuple[str, ...]] = (
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "primaryAttributeValue",
)


def _attributes(cells: pl.Series) -> tuple[list[dict[str, Any]], list[str | None]]:
    """Parse each ``attributes`` cell (JSON object or name/value list) into a dict."""
    out: list[dict[str, Any]] = []
    problems: list[str | None] = []
    for cell in cells.to_list():
        if cell is None or not str(cell).strip():
            out.append({})
            problems.append(None)
            continue
        try:
            obj = json.loads(cell)
        except json.JSONDecodeError as exc:
            out.append({})
            problems.append(f"`attributes`: not valid JSON ({exc.msg})")
            continue
        if isinstance(obj, list):
            obj = {
                str(a.get("name")): a.get("value")
                for a in obj
                if isinstance(a, dict) and "name" in a
            }
        if not isinstance(obj, dict):
            out.append({})
            problems.append("`attributes`: not a JSON object or list of name/value pairs")
            continue
        out.append({normalize_name(str(k)): v for k, v in obj.items()})
        problems.append(None)
    return out, problems


def _flat_attributes(frame: pl.DataFrame, core: set[str]) -> list[dict[str, Any]]:
    """Attributes of a warehouse-synced activity table: its other columns, per row."""
    rest = [
        c for c in frame.columns if c not in core and c != "source_row" and not c.startswith("_")
    ]
    keys = [normalize_name(c) for c in rest]
    return [
        {k: v for k, v in zip(keys, row, strict=True) if v not in (None, "")}
        for row in frame.select(rest).iter_rows()
    ]


def _get(attrs: list[dict[str, Any]], *names: str) -> pl.Series:
    keys = [normalize_name(n) for n in names]
    values: list[str | None] = []
    for a in attrs:
        v = next((a[k] for k in keys if a.get(k) not in (None, "")), None)
        values.append(None if v is None else str(v))
    return pl.Series(values, dtype=pl.String)


def _utm(query: pl.Series, name: str) -> pl.Series:
    return query.str.extract(rf"(?:^|[?&]){name}=([^&#]*)", 1)


def _read_activities(
    path: Path,
    raw_frame: pl.DataFrame,
    fs: FileSniff,
    tz: str,
    dayfirst: bool | None,
    date_range: DateRange | None = None,
) -> LoadResult:
    header = [c for c in raw_frame.columns if c != "source_row"]
    cols = {c: find_column(header, (c,)) for c in (*ACTIVITY_COLUMNS, "attributes", "campaignId")}
    # warehouse-synced activity_* tables (Fivetran): snake_case names, the activity id
    # in `id`, the attributes flattened into columns
    warehouse = cols["marketoGUID"] is None and cols["attributes"] is None
    if warehouse:
        cols["marketoGUID"] = find_column(header, ("id",))
    missing = [c for c in ACTIVITY_COLUMNS if cols[c] is None]
    if missing:
        msg = (
            f"{path.name}: line {fs.header_line}: a Marketo activity extract needs column(s) "
            f"{missing}; the file has {header}"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line, column=missing[0])
    f = raw_frame
    type_text = text_col(f, cols["activityTypeId"], "type")
    type_id = type_text.cast(pl.Int64, strict=False)
    kinds = {k: v[1] for k, v in ACTIVITY_TYPES.items()}
    names = {k: v[0] for k, v in ACTIVITY_TYPES.items()}
    targets = {k: v[2] for k, v in ACTIVITY_TYPES.items() if v[2] is not None}
    kind = type_id.replace_strict(kinds, default="ignore", return_dtype=pl.String)
    attr_problems: list[str | None]
    if warehouse:
        attrs = _flat_attributes(f, {c for c in cols.values() if c})
        attr_problems = [None] * f.height
    else:
        attrs, attr_problems = _attributes(text_col(f, cols["attributes"], "attributes"))
    when = parse_datetime(
        text_col(f, cols["activityDate"], "activityDate"),
        tz=tz,
        dayfirst=dayfirst,
        column="activityDate",
        path=path,
        date_range=date_range,
    )
    lead = text_col(f, cols["leadId"], "leadId")
    guid = text_col(f, cols["marketoGUID"], "marketoGUID")
    primary = text_col(f, cols["primaryAttributeValue"], "primaryAttributeValue")
    base_problem = combine_problems(
        when.problem,
        pl.Series(attr_problems, dtype=pl.String),
        pl.select(pl.when(lead.is_null()).then(pl.lit("no `leadId`")).otherwise(None)).to_series(),
    )
    type_name = type_id.replace_strict(names, default=None, return_dtype=pl.String)
    ignored = pl.select(
        pl.when(kind == "ignore")
        .then(
            pl.format(
                "activity type {} ({}) is neither a touch nor a tracked field change",
                type_text.fill_null("?"),
                type_name.fill_null("not in ACTIVITY_TYPES"),
            )
        )
        .otherwise(None)
    ).to_series()
    person = pl.select(pl.lit("mkto:") + lead).to_series()
    query = _get(attrs, "Query Parameters")
    touch_type = type_id.replace_strict(targets, default=None, return_dtype=pl.String)
    is_email = touch_type.is_in(list(EMAIL_TOUCHES))
    page = pl.select(
        pl.when(type_id == 1).then(primary).otherwise(_get(attrs, "Webpage URL"))
    ).to_series()
    touches = pl.DataFrame(
        {
            "touchpoint_id": pl.select(pl.lit("mkto:") + guid).to_series(),
            "person_id": person,
            "occurred_at": when.value,
            "touch_type": touch_type.fill_null("marketo_activity"),
            "is_marketing": [True] * f.height,
            "channel": pl.select(pl.when(is_email).then(pl.lit("Email"))).to_series(),
            "source": pl.select(
                pl.when(is_email).then(pl.lit("marketo")).otherwise(_utm(query, "utm_source"))
            ).to_series(),
            "medium": pl.select(
                pl.when(is_email).then(pl.lit("email")).otherwise(_utm(query, "utm_medium"))
            ).to_series(),
            "campaign_name": pl.select(
                pl.when(is_email).then(primary).otherwise(_utm(query, "utm_campaign"))
            ).to_series(),
            "content": pl.select(
                pl.when(type_id == 2).then(primary).otherwise(_get(attrs, "Link"))
            ).to_series(),
            "referrer": _get(attrs, "Referrer URL"),
            "landing_page": page,
            "source_system": ["marketo"] * f.height,
            "source_id": guid,
            "source_row": f["source_row"],
            REJECT_REASON: combine_problems(ignored, base_problem),
        }
    )
    # field changes
    attr_name = pl.select(
        pl.when(type_id == 13)
        .then(pl.coalesce(_get(attrs, "Attribute Name"), primary))
        .otherwise(None)
    ).to_series()
    normed = pl.Series(
        [None if v is None else normalize_name(v) for v in attr_name], dtype=pl.String
    )
    field = pl.select(
        pl.when(type_id == 13)
        .then(
            normed.replace_strict(
                DATA_VALUE_FIELDS, default=None, return_dtype=pl.String
            ).fill_null(attr_name.str.to_lowercase().str.replace_all(r"[^a-z0-9]+", "_"))
        )
        .otherwise(type_id.replace_strict(targets, default=None, return_dtype=pl.String))
    ).to_series()
    is_program = type_id == 104
    history = pl.DataFrame(
        {
            "entity_type": ["person"] * f.height,
            "entity_id": person,
            "field": field,
            "old_value": pl.select(
                pl.when(is_program)
                .then(_get(attrs, "Old Status"))
                .otherwise(_get(attrs, "Old Value"))
            ).to_series(),
            "new_value": pl.select(
                pl.when(is_program)
                .then(_get(attrs, "New Status"))
                .otherwise(_get(attrs, "New Value"))
            ).to_series(),
            "changed_at": when.value,
            "campaign_id": pl.select(
                pl.when(is_program)
                .then(pl.lit("mkto:") + text_col(f, cols.get("campaignId"), "c"))
                .otherwise(None)
            ).to_series(),
            "campaign_name": pl.select(pl.when(is_program).then(primary)).to_series(),
            "source_system": ["marketo"] * f.height,
            "source_id": guid,
            "source_row": f["source_row"],
            REJECT_REASON: base_problem,
        }
    )
    is_change = kind == "change"
    results = [
        finish(
            path=path,
            reader="marketo",
            source_system="marketo",
            object="activities",
            primary="touchpoints",
            tables={"touchpoints": touches.filter(~is_change)},
            rows_read=int((~is_change).sum()),
            raw=f,
            sniff=fs,
            format="marketo bulk activity extract",
            time_zone_assumed=when.assumed_time_zone,
            notes=("touch and ignored activity types (see ACTIVITY_TYPES)",),
        )
    ]
    if bool(is_change.any()):
        results.append(
            finish(
                path=path,
                reader="marketo",
                source_system="marketo",
                object="activities (field changes)",
                primary="stage_history",
                tables={"stage_history": history.filter(is_change)},
                rows_read=int(is_change.sum()),
                raw=f,
                sniff=fs,
                format="marketo bulk activity extract",
                time_zone_assumed=when.assumed_time_zone,
                notes=("Change Data Value / Change Score / Change Status in Progression",),
            )
        )
    return combine_results(results)


def _read_leads(
    path: Path,
    raw_frame: pl.DataFrame,
    fs: FileSniff,
    tz: str,
    dayfirst: bool | None,
    date_range: DateRange | None = None,
) -> LoadResult:
    people, links, notes, assumed = people_and_links(
        raw_frame,
        LEAD_COLUMNS,
        system="marketo",
        prefix="mkto",
        path=path,
        time_zone=tz,
        dayfirst=dayfirst,
        date_range=date_range,
    )
    tables = {"people": people}
    if links is not None:
        tables["identity_links"] = links
    return finish(
        path=path,
        reader="marketo",
        source_system="marketo",
        object="leads",
        primary="people",
        tables=tables,
        rows_read=raw_frame.height,
        raw=raw_frame,
        sniff=fs,
        format="marketo lead export",
        time_zone_assumed=assumed,
        notes=notes,
    )


def _kind(h: frozenset[str]) -> str | None:
    if {"marketoguid", "activitytypeid"} <= h or {"activitytypeid", "leadid"} <= h:
        return "activities"
    if "id" in h and ({"sfdcleadid", "sfdccontactid"} & h or {"leadstatus", "leadscore"} & h):
        return "leads"
    if {"marketoid", "emailaddress"} <= h or {"leadid", "emailaddress"} <= h:
        return "leads"
    return None


def _read_file(
    path: Path,
    time_zone: str,
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
) -> LoadResult:
    return read_by_kind(
        path,
        reader="marketo",
        kind_of=_kind,
        readers={"activities": _read_activities, "leads": _read_leads},
        expected=(
            "a Marketo activity extract (marketoGUID, leadId, activityTypeId, ...) or lead "
            "export (id, email, sfdcLeadId, ...)"
        ),
        time_zone=time_zone,
        dayfirst=dayfirst,
        date_range=date_range,
    )


def read_marketo(
    path: str | Path,
    *,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
) -> LoadResult:
    r"""Read Marketo activity extracts and lead exports.

    Parameters
    ----------
    path
        A file, folder or glob; each file's kind (activities or leads) is detected
        from its header.
    tz
        Zone of date-times written without an offset (the API writes UTC ``Z``).
    dayfirst
        Order of ``d/m/y`` dates when the data cannot decide it (an export re-saved in
        a day-first locale whose days are all ≤ 12).
    date_range
        Plausible dates ``(earliest, latest)`` (dates or ISO strings, both kept); a
        date outside rejects its row with the reason, as in ``read_salesforce``.
        Default 1990-01-01 to today + 10 years.

    Returns
    -------
    LoadResult
        Activities: ``touchpoints`` (``touchpoint_id`` ``mkto:<marketoGUID>``,
        ``person_id`` ``mkto:<leadId>``) for touch types and ``stage_history`` for
        field changes (each file reported twice: touches + ignored types, then
        changes). Ignored types (lists, bounces, merges) are rejected with the reason.
        Leads: ``people`` (``prospect``) and ``identity_links`` to ``sf:`` CRM ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "activities.csv"
    >>> _ = p.write_text(
    ...     "marketoGUID,leadId,activityDate,activityTypeId,campaignId,"
    ...     "primaryAttributeValueId,primaryAttributeValue,attributes\n"
    ...     '1,42,2023-11-01T10:00:00Z,10,7,3,Nov Newsletter,"{""Device"": ""PC""}"\n')
    >>> read_marketo(p)["touchpoints"].select("person_id", "touch_type", "channel").rows()
    [('mkto:42', 'email_open', 'Email')]
    """
    return read_paths(
        path,
        _read_file,
        reader="marketo",
        time_zone=tz,
        dayfirst=dayfirst,
        date_range=date_range,
    )


def _detect(fs: FileSniff) -> float:
    header = frozenset(normalize_name(h) for h in fs.header)
    return 0.9 if fs.kind in TABLE_KINDS and _kind(header) is not None else 0.0


register("marketo", source_system="marketo", detect=_detect, read=read_marketo, kinds=TABLE_KINDS)
