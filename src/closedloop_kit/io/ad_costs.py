"""Read ad-platform cost exports into the canonical ``spend`` table.

Google Ads (UI report downloads, including the UTF-16 "CSV (Excel)" variant, and API /
Ads-script exports with ``metrics.cost_micros``), Microsoft Advertising, LinkedIn
Campaign Manager and Meta Ads Manager. Which export a file is, is decided from its
header (:data:`PLATFORMS` lists the column names each platform writes); the mapping of
source columns to canonical columns is data (:data:`PLATFORMS`), not code branches.
See ``docs/howto-ad-costs.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import polars as pl

from closedloop_kit._core.frames import null_series
from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._parse import (
    DateRange,
    combine_problems,
    currency_from_text,
    decimal_marks,
    numeric_id_exprs,
    parse_date,
    parse_number,
)
from closedloop_kit.io._registry import read_paths, register
from closedloop_kit.io._result import REJECT_REASON, LoadResult, finish
from closedloop_kit.io._sheet import TABLE_KINDS, read_table
from closedloop_kit.io._text import FileSniff, sniff

__all__ = ["PLATFORMS", "AdPlatform", "PlatformSpec", "read_ad_costs"]

AdPlatform = Literal["google_ads", "microsoft_ads", "linkedin_ads", "meta_ads"]


@dataclass(frozen=True)
class Lookup:
    """A dimension table a warehouse connector syncs beside a stats table.

    Attributes
    ----------
    table
        Its name in the connector (``campaign_history``), for notes and errors.
    needs, lacks
        Header names (lower case) it has, and ones it has not (to tell
        ``campaign_history`` from ``ad_history``, which share ``id`` and ``name``).
    key
        Its key column.
    on
        Columns of the stats rows holding that key (first present wins; may be a
        helper column an earlier lookup added).
    take
        Its column -> helper column added to the stats rows.
    latest
        Columns ordering its versions (history tables keep one row per change): the
        latest version of each key is used.
    required
        Refuse the stats file when the lookup is not beside it (Meta's ``basic_ad``
        rows are per ad: without ``ad_history`` no campaign is known).
    """

    table: str
    needs: frozenset[str]
    key: str
    on: tuple[str, ...]
    take: dict[str, str]
    latest: tuple[str, ...] = ()
    lacks: frozenset[str] = frozenset()
    required: bool = False


@dataclass(frozen=True)
class PlatformSpec:
    """How one platform's export maps onto ``spend``.

    Attributes
    ----------
    name
        Canonical ``platform`` value (also the ``source_system``).
    columns
        Canonical column → source column names the platform uses (first present wins,
        compared case-insensitively).
    signature
        Header names (lower case) that identify the platform; all must be present.
    cost_scale
        Divide the cost by this (``cost_micros`` → 1e6).
    dayfirst
        Day/month order of slash dates, when the platform fixes it (LinkedIn: M/D/YYYY).
    channel
        Channel of the spend, or a column → value map (Google Ads campaign type).
    lookups
        Dimension tables read from beside a warehouse-synced stats table (campaign
        names and types, the account currency, the campaign of an ad).
    local_cost
        (cost in the account currency, cost in USD) columns of a table that has both
        (LinkedIn): the local one when the account currency is known, else USD.
    """

    name: AdPlatform
    columns: dict[str, tuple[str, ...]]
    signature: tuple[tuple[str, ...], ...]
    cost_scale: float = 1.0
    dayfirst: bool | None = None
    channel: str = "Paid Search"
    channel_by_type: dict[str, str] = field(default_factory=dict)
    lookups: tuple[Lookup, ...] = ()
    local_cost: tuple[str, str] | None = None


_GOOGLE_TYPES: Final[dict[str, str]] = {
    "search": "Paid Search",
    "display": "Display",
    "video": "Paid Video",
    "shopping": "Paid Shopping",
    "performance max": "Cross-network",
    "demand gen": "Cross-network",
    "discovery": "Cross-network",
    "app": "Cross-network",
    "smart": "Cross-network",
}

PLATFORMS: Final[dict[str, PlatformSpec]] = {
    "google_ads_api": PlatformSpec(
        name="google_ads",
        columns={
            "date": ("segments.date",),
            "ad_account_id": ("customer.id",),
            "ad_campaign_id": ("campaign.id",),
            "ad_campaign_name": ("campaign.name",),
            "campaign_type": ("campaign.advertising_channel_type",),
            "currency": ("customer.currency_code",),
            "cost": ("metrics.cost_micros",),
            "impressions": ("metrics.impressions",),
            "clicks": ("metrics.clicks",),
        },
        signature=(("segments.date", "metrics.cost_micros"),),
        cost_scale=1e6,
        channel_by_type=_GOOGLE_TYPES,
    ),
    "google_ads": PlatformSpec(
        name="google_ads",
        columns={
            "date": ("Day", "Date"),
            "ad_account_id": ("Customer ID", "Account ID"),
            "ad_campaign_id": ("Campaign ID",),
            "ad_campaign_name": ("Campaign",),
            "campaign_type": ("Campaign type", "Advertising channel type"),
            "currency": ("Currency code", "Currency"),
            "cost": ("Cost",),
            "impressions": ("Impr.", "Impressions"),
            "clicks": ("Clicks",),
        },
        signature=(("campaign", "cost", "impr."), ("campaign", "cost", "currency code")),
        channel_by_type=_GOOGLE_TYPES,
    ),
    "microsoft_ads": PlatformSpec(
        name="microsoft_ads",
        columns={
            "date": ("Gregorian date", "TimePeriod", "Day", "Date"),
            "ad_account_id": ("Account number", "AccountNumber", "Account ID", "AccountId"),
            "ad_campaign_id": ("Campaign ID", "CampaignId"),
            "ad_campaign_name": ("Campaign name", "CampaignName", "Campaign"),
            "currency": ("Currency code", "CurrencyCode", "Currency"),
            "cost": ("Spend",),
            "impressions": ("Impressions", "Impr."),
            "clicks": ("Clicks",),
        },
        signature=(("campaignname", "spend"), ("campaign name", "spend")),
    ),
    "linkedin_ads": PlatformSpec(
        name="linkedin_ads",
        columns={
            "date": ("Start Date (in UTC)", "Start Date", "Date"),
            "ad_account_id": ("Account ID",),
            "ad_campaign_id": ("Campaign ID",),
            "ad_campaign_name": ("Campaign Name", "Campaign"),
            "currency": ("Currency",),
            "cost": ("Total Spent", "Amount Spent"),
            "impressions": ("Impressions",),
            "clicks": ("Clicks",),
        },
        signature=(("total spent", "campaign name"), ("start date (in utc)", "total spent")),
        dayfirst=False,
        channel="Paid Social",
    ),
    "meta_ads": PlatformSpec(
        name="meta_ads",
        columns={
            "date": ("Day", "Reporting starts"),
            "ad_account_id": ("Account ID",),
            "ad_campaign_id": ("Campaign ID",),
            "ad_campaign_name": ("Campaign name", "Campaign Name"),
            "currency": ("Currency",),
            "cost": ("Amount spent", "Amount spent (*)"),
            "impressions": ("Impressions",),
            "clicks": ("Link clicks", "Clicks (all)", "Clicks"),
        },
        signature=(("reporting starts", "campaign name"),),
        channel="Paid Social",
    ),
    # --- warehouse-synced tables (Fivetran connectors; dbt_*_source column names)
    "google_ads_warehouse": PlatformSpec(
        name="google_ads",
        columns={
            "date": ("date",),
            "ad_account_id": ("customer_id",),
            "ad_campaign_id": ("campaign_id", "id"),
            "ad_campaign_name": ("__campaign_name",),
            "campaign_type": ("__campaign_type",),
            "currency": ("__currency",),
            "cost": ("cost_micros",),
            "impressions": ("impressions",),
            "clicks": ("clicks",),
        },
        # campaign_stats (id = campaign id) and ad_stats (campaign_id, ad_id)
        signature=(("customer_id", "date", "cost_micros"),),
        cost_scale=1e6,
        channel_by_type=_GOOGLE_TYPES,
        lookups=(
            Lookup(
                table="campaign_history",
                needs=frozenset({"id", "name", "advertising_channel_type", "updated_at"}),
                key="id",
                on=("campaign_id", "id"),
                take={"name": "__campaign_name", "advertising_channel_type": "__campaign_type"},
                latest=("updated_at",),
            ),
            Lookup(
                table="account_history",
                needs=frozenset({"id", "currency_code", "updated_at"}),
                key="id",
                on=("customer_id",),
                take={"currency_code": "__currency"},
                latest=("updated_at", "_fivetran_synced"),
            ),
        ),
    ),
    "meta_ads_warehouse": PlatformSpec(
        name="meta_ads",
        columns={
            "date": ("date",),
            "ad_account_id": ("account_id",),
            "ad_campaign_id": ("__campaign_id",),
            "ad_campaign_name": ("__campaign_name",),
            "currency": ("__currency",),
            "cost": ("spend",),
            "impressions": ("impressions",),
            "clicks": ("inline_link_clicks",),
        },
        signature=(("ad_id", "date", "account_id", "spend", "inline_link_clicks"),),
        channel="Paid Social",
        lookups=(
            Lookup(
                table="ad_history",
                needs=frozenset({"id", "ad_set_id", "campaign_id", "creative_id"}),
                key="id",
                on=("ad_id",),
                take={"campaign_id": "__campaign_id"},
                latest=("updated_time", "_fivetran_synced"),
                required=True,
            ),
            Lookup(
                table="campaign_history",
                needs=frozenset({"id", "account_id", "name", "updated_time"}),
                lacks=frozenset({"ad_set_id", "campaign_id", "creative_id", "daily_budget"}),
                key="id",
                on=("__campaign_id",),
                take={"name": "__campaign_name"},
                latest=("updated_time", "_fivetran_synced"),
            ),
            Lookup(
                table="account_history",
                needs=frozenset({"id", "name", "currency"}),
                lacks=frozenset({"account_id"}),
                key="id",
                on=("account_id",),
                take={"currency": "__currency"},
                latest=("_fivetran_synced",),
            ),
        ),
    ),
    "linkedin_ads_warehouse": PlatformSpec(
        name="linkedin_ads",
        columns={
            "date": ("day",),
            "ad_account_id": ("__account_id",),
            "ad_campaign_id": ("campaign_id",),
            "ad_campaign_name": ("__campaign_name",),
            "currency": ("__currency",),
            "cost": ("__cost",),
            "impressions": ("impressions",),
            "clicks": ("clicks",),
        },
        signature=(("campaign_id", "day", "cost_in_usd", "cost_in_local_currency"),),
        channel="Paid Social",
        local_cost=("cost_in_local_currency", "cost_in_usd"),
        lookups=(
            Lookup(
                table="campaign_history",
                needs=frozenset({"id", "account_id", "campaign_group_id", "name"}),
                key="id",
                on=("campaign_id",),
                take={"name": "__campaign_name", "account_id": "__account_id"},
                latest=("last_modified_time", "version_tag"),
            ),
            Lookup(
                table="account_history",
                needs=frozenset({"id", "currency", "version_tag", "last_modified_time"}),
                lacks=frozenset({"account_id"}),
                key="id",
                on=("__account_id",),
                take={"currency": "__currency"},
                latest=("last_modified_time", "version_tag"),
            ),
        ),
    ),
}
"""Every supported export: source columns per canonical ``spend`` column."""

LOOKUP_ONLY: Final[dict[str, tuple[str, ...]]] = {
    name: tuple(sorted({lk.table for lk in spec.lookups}))
    for name, spec in PLATFORMS.items()
    if spec.lookups
}
"""Warehouse platforms and the dimension tables they read beside their stats table."""

_AMOUNT_HEADER = re.compile(r"^(amount spent|cost|spend|total spent)\s*\(([A-Z]{3})\)$", re.I)


def _find(header: list[str], names: tuple[str, ...]) -> str | None:
    lower = {h.lower(): h for h in header}
    for n in names:
        if n.lower() in lower:
            return lower[n.lower()]
    # "Amount spent (EUR)": the currency is part of the column name
    for n in names:
        for h in header:
            m = _AMOUNT_HEADER.match(h)
            if m and m.group(1).lower() == n.lower().replace(" (*)", ""):
                return h
    return None


def detect_platform(header: tuple[str, ...] | list[str]) -> str | None:
    """Key of :data:`PLATFORMS` whose signature the header matches, or None.

    Examples
    --------
    >>> detect_platform(["segments.date", "campaign.name", "metrics.cost_micros"])
    'google_ads_api'
    >>> detect_platform(["Reporting starts", "Campaign name", "Amount spent (EUR)"])
    'meta_ads'
    """
    lower = {h.lower() for h in header}
    for key, spec in PLATFORMS.items():
        if any(set(sig) <= lower for sig in spec.signature):
            return key
    return None


def _read_file(
    path: Path,
    platform: str | None,
    currency: str | None,
    fs: FileSniff | None = None,
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
) -> LoadResult:
    fs = fs or sniff(path)
    if fs.kind not in TABLE_KINDS:
        from closedloop_kit.io._registry import suggest_reader

        other = suggest_reader(fs, exclude=("ad_costs",)) or (
            "clk.io.read_mapped" if fs.kind == "parquet" else None
        )
        msg = (
            f"{path.name}: expected an ad-platform cost report (CSV, TSV or an Excel "
            f"workbook), got a {fs.kind} file" + (f"; read it with `{other}`" if other else "")
        )
        raise SourceFormatError(msg, path=str(path), line=1, suggestion=other)
    raw = read_table(path, sniff=fs)  # an unreadable workbook raises here, naming it
    fs = raw.sniff
    header_lower = frozenset(h.lower() for h in raw.header)
    dimension = _lookup_kind(header_lower) if platform is None else None
    if dimension is not None:
        owner, lk = dimension
        n = raw.frame.height
        return finish(
            path=path,
            reader="ad_costs",
            source_system=PLATFORMS[owner].name,
            object=lk.table,
            primary=None,
            tables={},
            rows_read=n,
            rows_merged=n,
            sniff=fs,
            format=f"{owner} table",
            notes=[
                f"{PLATFORMS[owner].name} `{lk.table}`: a dimension table, read as a lookup "
                f"by the stats table beside it ({sorted(lk.take.values())}); no spend rows"
            ],
        )
    key = _platform_key(platform, fs)
    spec = PLATFORMS[key]
    frame = raw.frame
    notes: list[str] = []
    if spec.lookups:
        frame, lookup_notes = _apply_lookups(path, frame, spec)
        notes += lookup_notes
    header = [c for c in frame.columns if c != "source_row"]
    cols = {c: _find(header, names) for c, names in spec.columns.items()}
    missing = [c for c in ("date", "cost") if cols[c] is None]
    if missing:
        want = {c: spec.columns[c] for c in missing}
        msg = (
            f"{path.name}: line {fs.header_line}: a {spec.name} cost report needs the "
            f"column(s) {want}; the file has {header}"
        )
        raise SourceFormatError(msg, path=str(path), line=fs.header_line, column=missing[0])
    # "Total: ..." rows anywhere (Google Ads writes one per network/status)
    is_total = pl.any_horizontal(
        [
            pl.col(h).str.strip_chars().str.contains(r"(?i)^total(s)?\b")
            for h in header
            if not h.startswith("__")
        ]
    )
    totals = frame.filter(is_total)
    if totals.height:
        frame = frame.filter(~is_total)
        notes.append(f"{totals.height} 'Total' row(s) dropped")
    notes += raw.layout_notes()
    if raw.preamble:
        notes.append(f"{len([p for p in raw.preamble if p.strip()])} preamble line(s) skipped")

    def text(canon: str) -> pl.Series:
        col = cols.get(canon)
        if col is None:
            return null_series(frame.height, pl.String, canon)
        return frame[col].alias(canon)

    order = spec.dayfirst if dayfirst is None else dayfirst
    date = parse_date(
        text("date"), dayfirst=order, column=cols["date"], path=path, date_range=date_range
    )
    # one decimal mark per column, decided with the report's other number columns
    marks = decimal_marks({c: text(c) for c in ("cost", "impressions", "clicks")})
    cost = parse_number(text("cost"), column=cols["cost"], decimal=marks["cost"])
    impressions = parse_number(
        text("impressions"), column=cols["impressions"], decimal=marks["impressions"]
    )
    clicks = parse_number(text("clicks"), column=cols["clicks"], decimal=marks["clicks"])
    notes += [*date.notes, *cost.notes]
    ends = _find(header, ("Reporting ends",))
    starts = _find(header, ("Reporting starts",))
    if starts is not None and cols["date"] == starts and ends is not None:
        if bool((frame[ends] != frame[starts]).any()):
            notes.append("rows cover several days: spend dated at 'Reporting starts'")
    # currency: column, else "(EUR)" in the cost header, else a symbol in the amount
    header_ccy = _AMOUNT_HEADER.match(cols["cost"] or "")
    ccy = text("currency").str.strip_chars().str.to_uppercase()
    ccy = pl.select(pl.when(ccy.str.len_chars() > 0).then(ccy)).to_series()
    if header_ccy:
        ccy = ccy.fill_null(header_ccy.group(2).upper())
        notes.append(f"currency {header_ccy.group(2).upper()} from the column name")
    ccy = ccy.fill_null(currency_from_text(text("cost")))
    if currency is not None:
        ccy = ccy.fill_null(currency.upper())
    no_ccy = pl.select(
        pl.when(ccy.is_null() & cost.value.is_not_null())
        .then(pl.lit("no currency: state `currency=`"))
        .otherwise(None)
    ).to_series()
    if spec.channel_by_type:
        ctype = text("campaign_type").str.strip_chars().str.to_lowercase().str.replace_all("_", " ")
        channel = ctype.replace_strict(spec.channel_by_type, default=spec.channel)
    else:
        channel = pl.Series("channel", [spec.channel] * frame.height, dtype=pl.String)
    prefix = {
        "google_ads": "gads",
        "microsoft_ads": "msads",
        "linkedin_ads": "li",
        "meta_ads": "meta",
    }[spec.name]

    def key_of(canon: str) -> pl.Series:
        # an id saved through Excel: "1234567890.0" repaired, "1.23457E+10" nulled (noted)
        value, problem = numeric_id_exprs(pl.col("v"), cols.get(canon) or canon)
        ids = pl.DataFrame({"v": text(canon)}).select(value, problem)
        lost = text(canon).filter(ids["problem"].is_not_null())
        if lost.len():
            notes.append(
                f"`{cols.get(canon) or canon}`: {lost.len()} id(s) in scientific notation "
                f"(saved through Excel, digits lost) set to null, e.g. {lost[0]!r}"
            )
        s = ids["v"].str.replace_all("-", "")
        return pl.select(
            pl.when(s.str.len_chars() > 0).then(pl.lit(f"{prefix}:") + s).otherwise(None)
        ).to_series()

    spend = pl.DataFrame(
        {
            "date": date.value,
            "platform": [spec.name] * frame.height,
            "ad_account_id": key_of("ad_account_id"),
            "ad_campaign_id": key_of("ad_campaign_id"),
            "ad_campaign_name": text("ad_campaign_name").str.strip_chars(),
            "channel": channel,
            "currency": ccy,
            "cost": cost.value,  # unscaled: micros are summed exactly, then scaled
            "impressions": impressions.value.round(0).cast(pl.Int64),
            "clicks": clicks.value.round(0).cast(pl.Int64),
            "source_system": [spec.name] * frame.height,
            "source_id": text("ad_campaign_id"),
            "source_row": frame["source_row"],
            REJECT_REASON: combine_problems(
                date.problem, cost.problem, impressions.problem, clicks.problem, no_ccy
            ),
        },
        schema_overrides={"channel": pl.String, "currency": pl.String},
    )
    spend, merged = _merge_segments(spend)
    # to the micro-unit: sums of cents stay exact to the cent (no 153.06000000000003)
    spend = spend.with_columns((pl.col("cost") / spec.cost_scale).round(6))
    if merged:
        notes.append(f"{merged} segment row(s) (device/network) summed into their day")
    return finish(
        path=path,
        reader="ad_costs",
        source_system=spec.name,
        object=key,
        primary="spend",
        tables={"spend": spend},
        rows_read=frame.height,
        raw=frame.select(c for c in frame.columns if not c.startswith("__")),
        rows_merged=merged,
        sniff=raw.sniff,
        format=f"{key} table" if spec.lookups else f"{key} report",
        notes=notes,
    )


def _lookup_kind(header: frozenset[str]) -> tuple[str, Lookup] | None:
    """(platform key, lookup) a dimension table's header belongs to, if any."""
    for key, spec in PLATFORMS.items():
        for lk in spec.lookups:
            if (
                lk.needs <= header
                and not (lk.lacks & header)
                and detect_platform(sorted(header)) is None
            ):
                return key, lk
    return None


def _find_lookup(path: Path, lk: Lookup) -> Path | None:
    """The file beside ``path`` holding the dimension table ``lk`` (by its header)."""
    for other in sorted(path.parent.iterdir()):
        if other == path or not other.is_file() or other.suffix.lower() not in _SUFFIXES:
            continue
        try:
            header = frozenset(h.lower() for h in sniff(other).header)
        except OSError:
            continue
        if lk.needs <= header and not (lk.lacks & header):
            return other
    return None


def _apply_lookups(
    path: Path, frame: pl.DataFrame, spec: PlatformSpec
) -> tuple[pl.DataFrame, list[str]]:
    """Add the helper columns of ``spec.lookups`` (latest version of each key)."""
    notes: list[str] = []
    for lk in spec.lookups:
        on = next((c for c in lk.on if c in frame.columns), None)
        found = _find_lookup(path, lk) if on is not None else None
        if found is None:
            if lk.required:
                msg = (
                    f"{path.name}: a {spec.name} `{path.stem}` table is per ad; the "
                    f"`{lk.table}` table (columns {sorted(lk.needs)}) must be beside it to "
                    f"know each ad's campaign"
                )
                raise SourceFormatError(msg, path=str(path), column=lk.on[0])
            notes.append(f"no `{lk.table}` beside it: {sorted(lk.take.values())} unknown")
            continue
        dim = read_table(found).frame
        order = [c for c in lk.latest if c in dim.columns]
        if order:
            dim = dim.sort(order, descending=True, nulls_last=True)
        take = {src: dst for src, dst in lk.take.items() if src in dim.columns}
        dim = dim.unique(lk.key, keep="first", maintain_order=True).select(
            pl.col(lk.key).alias("__lookup_key"), *[pl.col(s).alias(d) for s, d in take.items()]
        )
        assert on is not None
        before = frame.height
        frame = frame.join(dim, left_on=on, right_on="__lookup_key", how="left")
        assert frame.height == before
        missing = int(frame[next(iter(take.values()))].is_null().sum()) if take else 0
        notes.append(
            f"{sorted(take.values())} from `{found.name}` ({lk.table}, latest version per "
            f"{lk.key})" + (f"; {missing} row(s) without a match" if missing else "")
        )
    if spec.local_cost is not None:
        local, usd = spec.local_cost
        known = "__currency" in frame.columns and frame["__currency"].null_count() < frame.height
        if known:
            frame = frame.with_columns(pl.col(local).alias("__cost"))
            notes.append(f"cost from `{local}` in the account currency")
        else:
            frame = frame.with_columns(
                pl.col(usd).alias("__cost"), pl.lit("USD").alias("__currency")
            )
            notes.append(f"cost from `{usd}` (account currency unknown: no account_history)")
    return frame, notes


def _merge_segments(spend: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Sum rows of one day and campaign (reports segmented by device or network)."""
    key = ["date", "platform", "ad_account_id", "ad_campaign_id", "ad_campaign_name", "currency"]
    good = spend.filter(pl.col(REJECT_REASON).is_null())
    bad = spend.filter(pl.col(REJECT_REASON).is_not_null())
    summed = good.group_by(key, maintain_order=True).agg(
        pl.col("cost").sum(),
        pl.col("impressions").sum(),
        pl.col("clicks").sum(),
        pl.col("impressions").is_null().all().alias("__no_impr"),
        pl.col("clicks").is_null().all().alias("__no_clicks"),
        pl.first("channel", "source_system", "source_id", "source_row", REJECT_REASON),
    )
    summed = summed.with_columns(
        pl.when(pl.col("__no_impr"))
        .then(None)
        .otherwise(pl.col("impressions"))
        .alias("impressions"),
        pl.when(pl.col("__no_clicks")).then(None).otherwise(pl.col("clicks")).alias("clicks"),
    ).drop("__no_impr", "__no_clicks")
    merged = good.height - summed.height
    out = pl.concat([summed.select(spend.columns), bad], how="vertical_relaxed")
    return out, merged


def _platform_key(platform: str | None, fs: FileSniff) -> str:
    if platform is None:
        key = detect_platform(fs.header)
        if key is None:
            from closedloop_kit.io._registry import suggest_reader

            other = suggest_reader(fs, exclude=("ad_costs",))
            hint = f"; it looks like a file for `{other}`" if other else ""
            msg = (
                f"{fs.name}: line {fs.header_line}: not a known ad-cost report (header "
                f"{list(fs.header)[:10]}); pass `platform=` one of "
                f"('google_ads', 'microsoft_ads', 'linkedin_ads', 'meta_ads'){hint}"
            )
            raise SourceFormatError(msg, path=str(fs.path), line=fs.header_line, suggestion=other)
        return key
    if platform == "google_ads":
        return "google_ads_api" if detect_platform(fs.header) == "google_ads_api" else platform
    if platform not in ("microsoft_ads", "linkedin_ads", "meta_ads"):
        msg = (
            "`platform` must be one of ('google_ads', 'microsoft_ads', 'linkedin_ads', "
            f"'meta_ads'), got {platform!r}"
        )
        raise ValueError(msg)
    return platform


def read_ad_costs(
    path: str | Path,
    platform: AdPlatform | None = None,
    *,
    currency: str | None = None,
    dayfirst: bool | None = None,
    date_range: DateRange | None = None,
) -> LoadResult:
    r"""Read ad-platform cost reports into the ``spend`` table.

    Parameters
    ----------
    path
        A report file, a folder of them or a glob.
    platform
        ``"google_ads"``, ``"microsoft_ads"``, ``"linkedin_ads"`` or ``"meta_ads"``;
        detected from the header when None.
    currency
        ISO code of the account currency, for reports that state none (no currency
        column, none in the cost header, no symbol in the amounts). Without it such
        rows are rejected with ``"no currency: state `currency=`"``.
    dayfirst
        Order of ``d/m/y`` dates when the data cannot decide it (a report in a
        day-first locale whose days are all ≤ 12); LinkedIn's are month-first.
    date_range
        Plausible days ``(earliest, latest)`` (dates or ISO strings, both kept); a row
        dated outside is rejected with the reason, as in ``read_salesforce``.
        Default 1990-01-01 to today + 10 years.

    Returns
    -------
    LoadResult
        ``spend``: one row per day × campaign (segment rows summed; counted as merged),
        ``cost`` in the report's currency (``cost_micros / 1e6`` for API exports),
        ``ad_campaign_name`` kept as written (it is usually the ``utm_campaign``),
        ``campaign_id`` left null (map it to CRM campaigns downstream).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "gads.csv"
    >>> _ = p.write_text(
    ...     "segments.date,campaign.id,campaign.name,customer.currency_code,metrics.cost_micros\n"
    ...     "2023-11-01,111,brand,USD,1020500000\n")
    >>> read_ad_costs(p)["spend"].select("platform", "ad_campaign_id", "cost").rows()
    [('google_ads', 'gads:111', 1020.5)]
    """
    return read_paths(
        path,
        _read_file,
        reader="ad_costs",
        suffixes=_SUFFIXES,
        platform=platform,
        currency=currency,
        dayfirst=dayfirst,
        date_range=date_range,
    )


_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls")


def _detect(fs: FileSniff) -> float:
    if fs.kind not in TABLE_KINDS:
        return 0.0
    if detect_platform(fs.header) is not None:
        return 0.9
    header = frozenset(h.lower() for h in fs.header)
    # a dimension table synced beside a stats table: listed, read with the stats table
    dimension = _lookup_kind(header)
    if dimension is None:
        return 0.0
    return 0.6 if "_fivetran_synced" in header or len(dimension[1].needs) >= 4 else 0.0


register(
    "ad_costs",
    source_system="google_ads",
    detect=_detect,
    read=read_ad_costs,
    kinds=TABLE_KINDS,
)
