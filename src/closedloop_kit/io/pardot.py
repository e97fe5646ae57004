"""Read Pardot (Marketing Cloud Account Engagement) prospect and visitor-activity exports.

* Prospect export (UI labels such as ``CRM Lead FID`` or API names ``crm_lead_fid`` /
  ``crmLeadFid``) → ``people`` (``prospect``) and ``identity_links`` to the synced
  Salesforce lead / contact (``sf:<18-char id>``).
* Visitor activities (``type`` codes, :data:`ACTIVITY_TYPES`) → ``touchpoints``.
* The warehouse-synced ``campaign`` table (``id, name, cost, _fivetran_synced``) →
  ``campaigns`` (``pardot:<id>``).

See ``docs/howto-marketo-pardot.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from closedloop_kit._core.frames import null_series
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
from closedloop_kit.io._result import REJECT_REASON, LoadResult, finish
from closedloop_kit.io._sheet import TABLE_KINDS
from closedloop_kit.io._text import FileSniff

__all__ = [
    "ACTIVITY_COLUMNS",
    "ACTIVITY_TYPES",
    "CAMPAIGN_COLUMNS",
    "PROSPECT_COLUMNS",
    "read_pardot",
]

ACTIVITY_TYPES: Final[dict[int, tuple[str, str | None]]] = {
    1: ("Click", "web_click"),
    2: ("View", "web_visit"),
    3: ("Error", None),
    4: ("Success", "form_fill"),
    5: ("Session", None),
    6: ("Sent", "email_send"),
    7: ("Search", None),
    8: ("New Opportunity", None),
    9: ("Opportunity Won", None),
    10: ("Opportunity Lost", None),
    11: ("Open", "email_open"),
    12: ("Unsubscribe Page", "email_unsubscribe"),
    13: ("Bounced", None),
    14: ("Spam Complaint", None),
    17: ("Click (Third Party)", "web_click"),
    20: ("Visit", "web_session"),
    21: ("Custom URL click", "web_click"),
    22: ("Olark Chat", "chat"),
    24: ("Attended Webinar", "webinar"),
    25: ("Registered for Webinar", "webinar_registration"),
    27: ("Video View", "video_view"),
    28: ("Event Registered", "event_registration"),
    29: ("Event Checked In", "event"),
}
"""Visitor activity ``type`` → (Pardot name, touch_type; None = not a touch, rejected
with the reason). A ``Click`` (1) carrying an ``email_id`` is an ``email_click``."""

EMAIL_TOUCHES: Final[frozenset[str]] = frozenset(
    {"email_send", "email_open", "email_click", "email_unsubscribe"}
)

PROSPECT_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "person_id": ("Id", "Prospect Id", "id"),
    "email": ("Email",),
    "first_name": ("First Name", "first_name", "firstName"),
    "last_name": ("Last Name", "last_name", "lastName"),
    "title": ("Job Title", "job_title", "jobTitle"),
    "company_name": ("Company",),
    "lead_source": ("Source",),
    "country": ("Country",),
    "created_at": ("Created Date", "Created", "created_at", "createdAt"),
    "crm_lead_id": ("CRM Lead FID", "crm_lead_fid", "crmLeadFid"),
    "crm_contact_id": ("CRM Contact FID", "crm_contact_fid", "crmContactFid"),
    "crm_account_id": ("CRM Account FID", "crm_account_fid", "crmAccountFid"),
    "score": ("Score",),
    "grade": ("Grade",),
    "campaign_name": ("Campaign", "campaign_name"),
}
"""Prospect export: canonical column → Pardot column names (UI labels, v3/v4, v5)."""

ACTIVITY_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "id": ("id", "Id", "Visitor Activity ID"),
    "prospect_id": ("prospect_id", "Prospect ID"),
    "visitor_id": ("visitor_id", "Visitor ID"),
    "type": ("type", "Type"),
    "type_name": ("type_name", "Type Name"),
    "details": ("details", "Details"),
    "email_id": ("email_id", "Email ID"),
    "campaign_id": ("campaign_id", "Campaign ID"),
    "campaign": ("campaign", "Campaign", "campaign_name"),
    "created_at": ("created_at", "Created At", "Created Date", "created"),
}
"""Visitor activity export: canonical name → Pardot column names."""


def _read_activities(
    path: Path,
    f: pl.DataFrame,
    fs: FileSniff,
    tz: str,
    dayfirst: bool | None,
    date_range: DateRange | None = None,
) -> LoadResult:
    header = [c for c in f.columns if c != "source_row"]
    cols = {k: find_column(header, v) for k, v in ACTIVITY_COLUMNS.items()}
    missing = [k for k in ("id", "type", "created_at") if cols[k] is None]
    if missing:
        want = {k: ACTIVITY_COLUMNS[k] for k in missing}
        msg = (
            f"{path.name}: line {fs.header_line}: Pardot visitor activities need column(s) "
            f"{want}; the file has {header}"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line, column=missing[0])
    type_text = text_col(f, cols["type"], "type")
    code = type_text.cast(pl.Int64, strict=False)
    by_name = {normalize_name(v[0]): k for k, v in ACTIVITY_TYPES.items()}
    named = pl.Series(
        [None if v is None else by_name.get(normalize_name(v)) for v in type_text], dtype=pl.Int64
    )
    code = code.fill_null(named)
    targets = {k: v[1] for k, v in ACTIVITY_TYPES.items() if v[1] is not None}
    names = {k: v[0] for k, v in ACTIVITY_TYPES.items()}
    touch = code.replace_strict(targets, default=None, return_dtype=pl.String)
    email_id = text_col(f, cols["email_id"], "email_id")
    touch = pl.select(
        pl.when((touch == "web_click") & (code == 1) & email_id.is_not_null())
        .then(pl.lit("email_click"))
        .otherwise(touch)
    ).to_series()
    is_email = touch.is_in(list(EMAIL_TOUCHES))
    when = parse_datetime(
        text_col(f, cols["created_at"], "created_at"),
        tz=tz,
        dayfirst=dayfirst,
        column=cols["created_at"],
        path=path,
        date_range=date_range,
    )
    prospect = text_col(f, cols["prospect_id"], "prospect_id")
    visitor = text_col(f, cols["visitor_id"], "visitor_id")
    act_id = text_col(f, cols["id"], "id")
    details = text_col(f, cols["details"], "details")
    campaign = text_col(f, cols["campaign"], "campaign")
    not_touch = pl.select(
        pl.when(touch.is_null())
        .then(
            pl.format(
                "visitor activity type {} ({}) is not a marketing touch",
                type_text.fill_null("?"),
                code.replace_strict(names, default="unknown type", return_dtype=pl.String),
            )
        )
        .otherwise(None)
    ).to_series()
    nobody = pl.select(
        pl.when(prospect.is_null() & visitor.is_null())
        .then(pl.lit("no `prospect_id` or `visitor_id`"))
        .otherwise(None)
    ).to_series()
    touches = pl.DataFrame(
        {
            "touchpoint_id": pl.select(pl.lit("pardot:") + act_id).to_series(),
            "person_id": pl.select(pl.lit("pardot:") + prospect).to_series(),
            "anonymous_id": pl.select(pl.lit("pardot:visitor:") + visitor).to_series(),
            "occurred_at": when.value,
            "touch_type": touch.fill_null("pardot_activity"),
            "is_marketing": [True] * f.height,
            "channel": pl.select(pl.when(is_email).then(pl.lit("Email"))).to_series(),
            "source": pl.select(pl.when(is_email).then(pl.lit("pardot"))).to_series(),
            "medium": pl.select(pl.when(is_email).then(pl.lit("email"))).to_series(),
            "campaign_name": campaign,
            "campaign_id": pl.select(
                pl.lit("pardot:") + text_col(f, cols["campaign_id"], "c")
            ).to_series(),
            "content": details,
            "source_system": ["pardot"] * f.height,
            "source_id": act_id,
            "source_row": f["source_row"],
            REJECT_REASON: combine_problems(not_touch, nobody, when.problem),
        }
    )
    return finish(
        path=path,
        reader="pardot",
        source_system="pardot",
        object="visitor activities",
        primary="touchpoints",
        tables={"touchpoints": touches},
        rows_read=f.height,
        raw=f,
        sniff=fs,
        format="pardot visitor activity export",
        time_zone_assumed=when.assumed_time_zone,
    )


def _read_prospects(
    path: Path,
    f: pl.DataFrame,
    fs: FileSniff,
    tz: str,
    dayfirst: bool | None,
    date_range: DateRange | None = None,
) -> LoadResult:
    people, links, notes, assumed = people_and_links(
        f,
        PROSPECT_COLUMNS,
        system="pardot",
        prefix="pardot",
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
        reader="pardot",
        source_system="pardot",
        object="prospects",
        primary="people",
        tables=tables,
        rows_read=f.height,
        raw=f,
        sniff=fs,
        format="pardot prospect export",
        time_zone_assumed=assumed,
        notes=notes,
    )


CAMPAIGN_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "source_id": ("id",),
    "name": ("name",),
    "actual_cost": ("cost",),
}
"""Warehouse-synced ``campaign`` table (dbt_pardot_source): canonical → source column."""


def _read_campaigns(
    path: Path,
    raw_frame: pl.DataFrame,
    fs: FileSniff,
    tz: str,
    dayfirst: bool | None,
    date_range: DateRange | None = None,
) -> LoadResult:
    from closedloop_kit.io._parse import parse_bool, parse_number

    del tz, dayfirst, date_range  # no dates in the table
    f = raw_frame
    header = [c for c in f.columns if c != "source_row"]
    cols = {k: find_column(header, names) for k, names in CAMPAIGN_COLUMNS.items()}
    ident = text_col(f, cols["source_id"], "id").str.strip_chars()
    cost = parse_number(text_col(f, cols["actual_cost"], "cost"), column=cols["actual_cost"])
    notes: list[str] = []
    deleted_col = find_column(header, ("_fivetran_deleted",))
    if deleted_col is not None:
        deleted = parse_bool(f[deleted_col]).value.fill_null(False)
        if bool(deleted.any()):
            notes.append(
                f"{int(deleted.sum())} campaign(s) deleted in Pardot (`_fivetran_deleted`) "
                "kept: touches may still name them"
            )
    n_cost = int(cost.value.is_not_null().sum())
    if n_cost:
        # a cost without its currency is never kept (the table does not state it)
        notes.append(
            f"`cost` of {n_cost} campaign(s) not kept: the table does not state the Pardot "
            "account currency"
        )
    campaigns = pl.DataFrame(
        {
            "campaign_id": pl.select(
                pl.when(ident.str.len_chars() > 0).then(pl.lit("pardot:") + ident)
            ).to_series(),
            "name": text_col(f, cols["name"], "name"),
            "actual_cost": null_series(f.height, pl.Float64, "actual_cost"),
            "source_system": ["pardot"] * f.height,
            "source_id": ident,
            "source_row": f["source_row"],
            REJECT_REASON: combine_problems(
                cost.problem,
                pl.select(
                    pl.when(ident.is_null() | (ident == "")).then(pl.lit("no campaign `id`"))
                ).to_series(),
            ),
        },
        schema_overrides={"name": pl.String, "actual_cost": pl.Float64},
    )
    return finish(
        path=path,
        reader="pardot",
        source_system="pardot",
        object="campaign",
        primary="campaigns",
        tables={"campaigns": campaigns},
        rows_read=f.height,
        raw=f,
        sniff=fs,
        format="pardot campaign table (warehouse)",
        notes=notes,
    )


def _kind(h: frozenset[str]) -> str | None:
    if {"id", "name", "cost", "fivetransynced"} <= h and not ({"email", "prospectid"} & h):
        return "campaigns"
    if "type" in h and ({"prospectid", "visitorid"} & h) and ("typename" in h or "details" in h):
        return "activities"
    if {"crmleadfid", "crmcontactfid"} & h:
        return "prospects"
    if {"grade", "score", "email"} <= h and ("id" in h or "prospectid" in h):
        return "prospects"
    return None


def _read_file(
    path: Path,
    time_zone: str,
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
) -> LoadResult:
    return read_by_kind(
        path,
        reader="pardot",
        kind_of=_kind,
        readers={
            "activities": _read_activities,
            "prospects": _read_prospects,
            "campaigns": _read_campaigns,
        },
        expected=(
            "a Pardot prospect export (Id, Email, CRM Lead FID, ...) or visitor activities "
            "(id, prospect_id, type, ...)"
        ),
        time_zone=time_zone,
        dayfirst=dayfirst,
        date_range=date_range,
    )


def read_pardot(
    path: str | Path,
    *,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
) -> LoadResult:
    r"""Read Pardot prospect exports and visitor activities.

    Parameters
    ----------
    path
        A file, folder or glob; each file's kind is detected from its header.
    tz
        Zone of date-times written without an offset (Pardot UI exports write the
        user's local time: pass it, e.g. ``"America/New_York"``).
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
        Prospects: ``people`` (``person_id`` ``pardot:<Id>``, ``prospect``; ``score``,
        ``grade`` and ``campaign_name`` kept as extra columns) and ``identity_links``
        ``person_id`` → ``crm_id`` ``sf:<18-char id>`` from the CRM Lead / Contact FIDs.
        Activities: ``touchpoints``; non-touch types are rejected with the reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "prospects.csv"
    >>> _ = p.write_text("Id,Email,CRM Lead FID,Score,Grade\n7,a@x.com,00Q5e00000AbCdE,40,B\n")
    >>> read_pardot(p)["identity_links"]["linked_id_value"].to_list()
    ['sf:00Q5e00000AbCdEEAV']
    """
    return read_paths(
        path,
        _read_file,
        reader="pardot",
        time_zone=tz,
        dayfirst=dayfirst,
        date_range=date_range,
    )


def _detect(fs: FileSniff) -> float:
    header = frozenset(normalize_name(h) for h in fs.header)
    kind = _kind(header) if fs.kind in TABLE_KINDS else None
    if kind is None:
        return 0.0
    if kind == "campaigns":  # a generic column set: surer when the name says Pardot
        return 0.8 if "pardot" in fs.name.lower() else 0.6
    return 0.9


register("pardot", source_system="pardot", detect=_detect, read=read_pardot, kinds=TABLE_KINDS)
