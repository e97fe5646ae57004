"""The simulated website: session attributes by channel and GA4 BigQuery-export events.

:func:`session_attributes` gives each web session the UTMs / referrer / landing page a
visitor from that channel would arrive with (so GA4's default channel grouping maps it
back to the channel). :func:`ga4_events` expands sessions into the events GA4 would
export (``first_visit``, ``session_start``, ``page_view``, ``generate_lead``), with the
file (``ga4/events_YYYYMMDD.json``) and 1-based line each event is written to.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["SITE", "ga4_events", "session_attributes"]

SITE = "https://www.northstar-software.com"
"""The simulated company's website."""

_PATHS = {
    "Analytics": ("/products/analytics", "/blog/dashboards-that-work", "/pricing"),
    "Automation": ("/products/automation", "/blog/workflow-automation-guide", "/pricing"),
    "Platform": ("/platform", "/blog/data-platform-checklist", "/customers"),
}
_KEYWORDS = {
    "Analytics": "b2b analytics software",
    "Automation": "workflow automation tool",
    "Platform": "customer data platform",
}
_REFERRERS = ("https://www.g2.com/", "https://www.capterra.com/", "https://news.ycombinator.com/")
_SEARCH = (("google", "https://www.google.com/"), ("bing", "https://www.bing.com/"))


def session_attributes(
    sessions: pl.DataFrame, rng: np.random.Generator, *, ad_names: pl.Series
) -> pl.DataFrame:
    """Add source, medium, campaign_name, term, referrer, click_id, landing_page.

    ``sessions`` has ``channel``, ``product_line`` and ``ad_name`` (the utm_campaign of
    the paid or email campaign the session belongs to, else null); ``ad_names`` is
    unused beyond type checks of callers.
    """
    n = sessions.height
    ch = sessions["channel"].to_list()
    prod = sessions["product_line"].to_list()
    ad = sessions["ad_name"].to_list()
    pick = rng.integers(0, 3, n)
    se = rng.integers(0, 10, n)
    ref = rng.integers(0, len(_REFERRERS), n)
    clk = rng.integers(10**15, 10**16, n)
    src, med, camp, term, referrer, click, landing = [], [], [], [], [], [], []
    for i in range(n):
        c, p = ch[i], prod[i]
        path = _PATHS[p][int(pick[i])]
        s = m = cn = t = r = k = None
        if c == "Organic Search":
            s, r = _SEARCH[0] if se[i] < 8 else _SEARCH[1]
            m = "organic"
        elif c == "Direct":
            s, m = "(direct)", "(none)"
            path = "/" if pick[i] == 0 else path
        elif c == "Paid Search":
            s, m, cn, t = "google", "cpc", ad[i], _KEYWORDS[p]
            r, k = "https://www.google.com/", f"gclid:Cj0KCQ{clk[i]}"
        elif c == "Display":
            s, m, cn = "google", "display", ad[i]
            k = f"gclid:EAIaIQ{clk[i]}"
        elif c == "Paid Social":
            s, m, cn = "linkedin", "paid_social", ad[i]
            r, k = "https://www.linkedin.com/", f"li_fat_id:{clk[i]}"
        elif c == "Email":
            s, m, cn = "newsletter", "email", ad[i]
        elif c == "Referral":
            r = _REFERRERS[int(ref[i])]
            s, m = r.split("/")[2].removeprefix("www."), "referral"
        elif c == "Organic Social":
            s, m, r = "linkedin.com", "referral", "https://www.linkedin.com/"
        src.append(s)
        med.append(m)
        camp.append(cn)
        term.append(t)
        referrer.append(r)
        click.append(k)
        landing.append(SITE + path)
    return sessions.with_columns(
        pl.Series("source", src, dtype=pl.String),
        pl.Series("medium", med, dtype=pl.String),
        pl.Series("campaign_name", camp, dtype=pl.String),
        pl.Series("term", term, dtype=pl.String),
        pl.Series("referrer", referrer, dtype=pl.String),
        pl.Series("click_id", click, dtype=pl.String),
        pl.Series("landing_page", landing, dtype=pl.String),
    )


def ga4_events(sessions: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """One row per GA4 event, with ``file`` and ``line`` (1-based) in the daily NDJSON.

    ``sessions``: ``user_pseudo_id``, ``ga_session_id`` (int seconds), ``ts_us`` (session
    start, µs), ``session_number``, ``is_first``, ``form_ts_us`` (null when no form fill),
    ``email_sha256``, ``country``, plus the attributes of :func:`session_attributes`.
    """
    n = sessions.height
    extra = rng.integers(0, 3, n)
    s = sessions.with_columns(
        pl.Series("__extra", extra, dtype=pl.Int64),
        pl.Series("__device", rng.integers(0, 10, n) < 7),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__sess"),
    )
    base = s.select(
        "__sess",
        "ts_us",
        pl.col("is_first"),
        pl.col("form_ts_us"),
        pl.col("__extra"),
    )
    first = base.filter(pl.col("is_first")).select(
        "__sess", pl.col("ts_us"), pl.lit("first_visit").alias("event_name"), pl.lit(0).alias("k")
    )
    start = base.select(
        "__sess", "ts_us", pl.lit("session_start").alias("event_name"), pl.lit(1).alias("k")
    )
    view = base.select(
        "__sess", "ts_us", pl.lit("page_view").alias("event_name"), pl.lit(2).alias("k")
    )
    extras = (
        base.filter(pl.col("__extra") > 0)
        .with_columns(pl.int_ranges(1, pl.col("__extra") + 1).alias("__j"))
        .explode("__j")
        .select(
            "__sess",
            (pl.col("ts_us") + pl.col("__j") * 47_000_000).alias("ts_us"),
            pl.lit("page_view").alias("event_name"),
            (pl.col("__j") + 2).cast(pl.Int32).alias("k"),
        )
    )
    form = base.filter(pl.col("form_ts_us").is_not_null()).select(
        "__sess",
        pl.col("form_ts_us").alias("ts_us"),
        pl.lit("generate_lead").alias("event_name"),
        pl.lit(9).alias("k"),
    )
    ev = pl.concat(
        [x.with_columns(pl.col("k").cast(pl.Int32)) for x in (first, start, view, extras, form)]
    )
    ev = ev.join(s.drop("ts_us", "form_ts_us"), on="__sess", how="left", maintain_order="left")
    ev = ev.with_columns(
        pl.from_epoch(pl.col("ts_us"), time_unit="us").dt.strftime("%Y%m%d").alias("event_date")
    ).sort("event_date", "ts_us", "user_pseudo_id", "ga_session_id", "k", maintain_order=True)
    ev = ev.with_columns(
        pl.concat_str(pl.lit("ga4/events_"), "event_date", pl.lit(".json")).alias("file"),
        (pl.int_range(pl.len(), dtype=pl.Int64).over("event_date") + 1).alias("line"),
    )
    return ev.drop("__extra")
