"""Read call-tracking exports (CallRail-style calls) into activities and touchpoints.

A call-tracking system answers a tracked phone number and records where the caller came
from (source, medium, campaign, keywords, landing page, ``gclid``). One file of calls
becomes:

* ``activities``: one inbound ``call`` per row (status answered / missed / voicemail,
  the lead qualification as ``outcome``, duration in seconds);
* ``touchpoints``: the call as a marketing touch (``touch_type='call'``) of the caller,
  keyed by phone number as ``anonymous_id`` (``call:+15551234567``), with its
  acquisition fields for channel classification;
* ``identity_links``: caller phone → e-mail when the export names the caller's e-mail,
  so identity resolution can join the call to the CRM person.

Both the UI export (``Start Time``, ``Phone Number``, ``Tracking Number``, ``Call
Status``, ``Lead Status``, ...) and the API / warehouse columns (``start_time``,
``customer_phone_number``, ``tracking_phone_number``, ``answered``, ``lead_status``,
``landing_page_url``, ...) are understood. See docs/loading.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._parse import map_columns, normalize_name
from closedloop_kit.io._registry import read_paths, register
from closedloop_kit.io._result import REJECT_REASON, LoadResult, finish
from closedloop_kit.io._sheet import TABLE_KINDS, read_table
from closedloop_kit.io._text import FileSniff, sniff

__all__ = ["CALL_COLUMNS", "read_calls"]

SYSTEM = "call_tracking"
_PREFIX = "call:"

CALL_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "source_id": ("id", "Call ID", "Call Id", "call_id"),
    "occurred_at": ("start_time", "Start Time", "Call Start Time", "Call Date"),
    "duration_seconds": ("duration", "Duration", "Duration (seconds)", "Call Duration"),
    "caller": (
        "customer_phone_number",
        "Phone Number",
        "Caller Number",
        "Customer Phone Number",
        "Caller ID",
    ),
    "email": ("customer_email", "Email", "Customer Email", "Caller Email"),
    "direction": ("direction", "Direction", "Call Direction"),
    "status": ("formatted_call_type", "Call Status"),
    "subtype": ("call_type", "Call Type"),
    "answered": ("answered", "Answered"),
    "outcome": ("lead_status", "Lead Status", "Call Outcome"),
    "source": ("source", "Source", "utm_source"),
    "medium": ("medium", "Medium", "utm_medium"),
    "campaign_name": ("campaign", "Campaign", "utm_campaign"),
    "term": ("keywords", "Keywords", "Keyword", "utm_term"),
    "content": ("utm_content", "Content"),
    "landing_page": ("landing_page_url", "Landing Page", "Landing Page URL"),
    "referrer": ("referring_url", "Referrer", "Referring URL", "Referrer URL"),
    "click_id": ("gclid", "GCLID", "Google Click ID", "msclkid", "fbclid"),
}
"""Canonical (or helper) column → CallRail export column aliases."""

_SIGNATURE = frozenset(
    {
        "customerphonenumber",
        "trackingphonenumber",
        "starttime",
        "duration",
        "answered",
        "leadstatus",
        "firstcall",
        "phonenumber",
        "trackingnumber",
        "callstatus",
    }
)
_DTYPES: dict[str, pl.DataType] = {
    "occurred_at": pl.Datetime("us", "UTC"),
    "duration_seconds": pl.Int64(),
    "answered": pl.Boolean(),
}


def read_calls(path: str | Path, *, tz: str = "UTC", dayfirst: bool | None = None) -> LoadResult:
    r"""Read call-tracking call exports (file, folder or glob) into canonical tables.

    Parameters
    ----------
    path
        A file, a folder (every data file in it) or a glob.
    tz
        Time zone of start times written without an offset (the account's zone);
        reported as assumed.
    dayfirst
        Order of ``d/m/y`` dates when the data cannot decide it.

    Returns
    -------
    LoadResult
        ``activities`` (one per call), ``touchpoints`` (calls with a caller number) and
        ``identity_links`` (caller number → e-mail).

    Raises
    ------
    SourceFormatError
        The file has no start time or no caller number column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "calls.csv"
    >>> _ = p.write_text(
    ...     "Start Time,Phone Number,Tracking Number,Duration,Call Status,Source,Medium\n"
    ...     "2026-01-05 14:03,(555) 123-4567,(555) 000-1111,95,Answered Call,Google Ads,cpc\n"
    ... )
    >>> res = read_calls(p, tz="UTC")
    >>> res["activities"].select("type", "direction", "duration_seconds").row(0)
    ('call', 'inbound', 95)
    >>> res["touchpoints"].select("anonymous_id", "touch_type", "medium").row(0)
    ('call:5551234567', 'call', 'cpc')
    """
    return read_paths(path, _read_file, reader="calls", tz=tz, dayfirst=dayfirst)


def _phone_key(expr: pl.Expr) -> pl.Expr:
    """``call:`` + the number's digits (a leading ``+`` kept), null when it has none."""
    digits = expr.str.replace_all(r"[^\d+]", "").str.replace(r"(.)\+", "$1")
    return pl.when(digits.str.contains(r"\d{5,}")).then(pl.concat_str(pl.lit(_PREFIX), digits))


def _read_file(path: Path, **opts: Any) -> LoadResult:
    table = read_table(path, sniff=sniff(path))
    fs, raw = table.sniff, table.frame
    m = map_columns(
        raw,
        CALL_COLUMNS,
        _DTYPES,
        tz=opts.get("tz") or "UTC",
        dayfirst=opts.get("dayfirst"),
        path=path,
    )
    missing = [c for c in ("occurred_at", "caller") if c not in m.used]
    if missing:
        cols = [CALL_COLUMNS[c][1] for c in missing]
        msg = (
            f"{fs.name}: a call-tracking export needs column(s) {cols} (start time and caller "
            f"number); the file has {raw.columns[:10]}"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line or 1, column=cols[0])
    notes = [*table.layout_notes(), *m.notes]
    df = m.frame
    if "source_id" not in df.columns:
        notes.append("no call id column: calls keyed by start time and caller number")
        df = df.with_columns(
            pl.concat_str(
                [pl.col("occurred_at").dt.strftime("%Y%m%dT%H%M%S"), pl.col("caller")],
                separator="-",
            ).alias("source_id")
        )
    direction = (
        pl.col("direction").str.to_lowercase() if "direction" in df.columns else pl.lit("inbound")
    )
    status = pl.col("status") if "status" in df.columns else pl.lit(None, pl.String)
    if "answered" in df.columns:
        answered = pl.when(pl.col("answered")).then(pl.lit("Answered")).otherwise(pl.lit("Missed"))
        status = pl.coalesce(status, answered)
    key = pl.concat_str(pl.lit(_PREFIX), pl.col("source_id"))
    lineage = [
        pl.lit(SYSTEM).alias("source_system"),
        pl.col("source_id"),
        pl.lit(str(path)).alias("source_file"),
        pl.col("source_row"),
    ]
    problem = pl.when(pl.col("source_id").is_null()).then(pl.lit("no call id"))
    reason = pl.concat_str([pl.lit(m.problem), problem], separator="; ", ignore_nulls=True)
    df = df.with_columns(pl.when(reason != "").then(reason).alias(REJECT_REASON))
    text = lambda c: (pl.col(c) if c in df.columns else pl.lit(None, pl.String)).alias(c)  # noqa: E731
    activities = df.select(
        key.alias("activity_id"),
        pl.lit("call").alias("type"),
        text("subtype"),
        status.alias("status"),
        text("outcome"),
        direction.alias("direction"),
        "occurred_at",
        (
            pl.col("duration_seconds")
            if "duration_seconds" in df.columns
            else pl.lit(None, pl.Int64)
        ).alias("duration_seconds"),
        pl.lit(False).alias("is_deleted"),
        *lineage,
        REJECT_REASON,
    )
    caller = _phone_key(pl.col("caller"))
    touch_cols = ("source", "medium", "campaign_name", "term", "content", "landing_page",
                  "referrer", "click_id")  # fmt: skip
    touches = df.filter(caller.is_not_null() & pl.col(REJECT_REASON).is_null()).select(
        key.alias("touchpoint_id"),
        caller.alias("anonymous_id"),
        "occurred_at",
        pl.lit("call").alias("touch_type"),
        pl.lit(True).alias("is_marketing"),
        *[pl.col(c) for c in touch_cols if c in df.columns],
        *lineage,
    )
    no_number = df.height - touches.height
    if no_number:
        notes.append(f"{no_number} call(s) without a caller number: activities only, no touch")
    tables = {"activities": activities, "touchpoints": touches}
    if "email" in df.columns:
        links = touches.join(df.select("source_id", "email"), on="source_id", how="left").filter(
            pl.col("email").str.contains("@")
        )
        if links.height:
            tables["identity_links"] = links.select(
                pl.lit("anonymous_id").alias("id_type"),
                pl.col("anonymous_id").alias("id_value"),
                pl.lit("email").alias("linked_id_type"),
                pl.col("email").str.strip_chars().str.to_lowercase().alias("linked_id_value"),
                pl.lit("call_tracking_caller_email").alias("rule"),
                pl.lit(1.0).alias("confidence"),
                pl.col("occurred_at").alias("first_seen_at"),
                pl.col("occurred_at").alias("last_seen_at"),
                *lineage,
            )
    return finish(
        path=path,
        reader="calls",
        source_system=SYSTEM,
        object="calls",
        primary="activities",
        tables=tables,
        rows_read=raw.height,
        raw=raw,
        sniff=fs,
        format="call-tracking export",
        time_zone_assumed=m.assumed_time_zone,
        notes=notes,
    )


def _detect(fs: FileSniff) -> float:
    if fs.kind not in TABLE_KINDS:
        return 0.0
    cols = {normalize_name(h) for h in fs.header}
    hits = len(cols & _SIGNATURE)
    tracked = bool(cols & {"trackingnumber", "trackingphonenumber"})
    if tracked and hits >= 4:  # a tracked number, a caller and a start: nothing else has these
        return 0.95
    if tracked and hits >= 3:
        return 0.7
    return 0.0


def _read_for_registry(path: str | Path, **opts: Any) -> LoadResult:
    return read_calls(path, **opts)


register(
    "calls",
    source_system=SYSTEM,
    detect=_detect,
    read=_read_for_registry,
    kinds=TABLE_KINDS,
    function="clk.io.read_calls",
)
