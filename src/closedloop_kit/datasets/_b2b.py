"""``make_b2b``: a simulated B2B company whose causal truth is known.

Northstar Software sells three product lines (Analytics, Automation, Platform) through
three geographic sales divisions (North America, EMEA, APAC). North America and EMEA
run Salesforce (EMEA in EUR); APAC is an acquired business unit that still runs HubSpot.
Web analytics is GA4; paid media is Google Ads (search + display, USD) and LinkedIn
(EUR-billed). See docs/sample-company.md for the story, the parameters and the formula.

The causal core: every known person's journey of marketing touches (channels in time
order, up to the decision) is scored by a :class:`ConversionTruth`; the person becomes
sales-ready (meeting set) with that probability. Everything downstream (opportunity,
buying committee, win, cycle length) is drawn independently of the channels, so a
channel's true share of sales-ready leads is its share of the truth's lifts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from closedloop_kit.datasets import _company as co
from closedloop_kit.datasets._truth import ConversionTruth
from closedloop_kit.datasets._web import ga4_events, session_attributes

__all__ = ["B2BParams", "B2BTruth", "B2BWorld", "make_b2b"]

_MARKETING, _SALES, _PARTNER, _NONE = 0, 1, 2, 3
SF_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
             "Negotiation/Review")  # fmt: skip
HS_STAGES = ("Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled",
             "Decision Maker Bought-In", "Contract Sent")  # fmt: skip
_STAGE_FRAC = (0.0, 0.12, 0.3, 0.55, 0.8)
_MAX_CYCLE_DAYS = 5 * 365.0
"""Longest opportunity (creation → close): a lognormal tail would otherwise give close
dates decades out, which no CRM holds and the loaders refuse as implausible dates."""
_SF_PROB = (0.1, 0.2, 0.35, 0.65, 0.8)
_HS_PROB = (0.2, 0.4, 0.6, 0.8, 0.9)
_LEAD_SOURCE = {
    "Organic Search": "Organic Search",
    "Direct": "Web",
    "Paid Search": "Paid Search",
    "Email": "Email",
    "Display": "Advertisement",
    "Paid Social": "Social Media",
    "Referral": "Web",
    "Organic Social": "Social Media",
    "Webinar": "Webinar",
    "Content Syndication": "Content Syndication",
    "Trade Show": "Trade Show",
    "Partner": "Partner Referral",
}
_HS_SOURCE = {
    "Organic Search": "Organic Search",
    "Direct": "Direct Traffic",
    "Paid Search": "Paid Search",
    "Email": "Email Marketing",
    "Display": "Other Campaigns",
    "Paid Social": "Paid Social",
    "Referral": "Referrals",
    "Organic Social": "Organic Social",
    "Webinar": "Offline Sources",
    "Content Syndication": "Offline Sources",
    "Trade Show": "Offline Sources",
    "Partner": "Offline Sources",
}
_MEMBER_STATUS = {
    "Webinar": "Attended",
    "Trade Show": "Visited Booth",
    "Content Syndication": "Downloaded",
    "Partner": "Referred",
    "Email": "Clicked",
}
_TOUCH_TYPE = {
    "Webinar": "webinar",
    "Trade Show": "event",
    "Content Syndication": "campaign_response",
    "Partner": "campaign_response",
}


@dataclass(frozen=True)
class B2BParams:
    """Parameters of a simulated company (see :func:`make_b2b`)."""

    seed: int = 0
    accounts: int = 400
    months: int = 24
    start: dt.date = dt.date(2025, 1, 1)
    baseline: float = -2.3
    effects: Mapping[str, float] = field(default_factory=lambda: dict(co.DEFAULT_EFFECTS))
    order_effects: Mapping[tuple[str, str], float] = field(default_factory=dict)
    opportunity_days_median: float = 95.0
    opportunity_days_sigma: float = 0.7
    opportunity_rate: float = 0.7
    duplicate_rate: float = 0.06
    corporate_currency: str = "USD"


@dataclass(frozen=True)
class B2BTruth:
    """What really happened in a simulated company (the answers tests check against).

    Attributes
    ----------
    identity
        ``person_id`` → ``true_person_key``: every people row; duplicates of one human
        (case-variant emails, Salesforce + HubSpot records, lead + contact) share a key.
    visitors
        ``anonymous_id`` → ``true_person_key`` and ``person_id`` (the human's main CRM
        record, null for visitors who never identified themselves).
    conversion
        The :class:`ConversionTruth` that decided who became sales-ready.
    channel_effects
        ``channel``, ``effect`` (``β_c``).
    journeys
        The exact touch sequences the truth was applied to: ``journey_id`` (true person
        key), ``channel``, ``position``, ``occurred_at``, ``converted``.
    humans
        One row per simulated human: key, account, division, product line, origin,
        ``p_true``, ``decided``, ``sales_ready``, milestone times (``lead_at``, ``mql_at``,
        ``sales_ready_at``), main ``person_id``, and whether they sit on an opportunity's
        buying committee (``on_opportunity``, ``on_won_opportunity``).
    stage_counts
        ``stage``, ``count``, ``grain`` observed by the end of the period (people stages
        count humans; ``opportunity``/``won`` count opportunities). A moment no CRM can
        record is not counted: an MQL after a HubSpot contact joined a deal (its
        lifecycle only moves forward), a lead moment after sales typed the HubSpot
        contact in for a deal when no form, event response or Salesforce lead records it
        (nor, for such a person, an MQL stage their meeting would otherwise imply).
    stage_conversion
        ``from_stage``, ``to_stage``, ``rate`` between consecutive stages.
    cycle
        ``n_opportunities``, ``median_days_lead_to_close`` (true, uncensored),
        ``median_days_opportunity_to_close``, ``open_at_end``.
    segments
        ``product_line``, ``sales_division``, ``ad_spend_corporate``,
        ``program_cost_corporate``, ``spend_corporate``, ``sales_ready``,
        ``cost_per_sales_ready``.
    sales_ready
        One row per sales-ready human: the meeting that made them so
        (``true_person_key``, ``person_id`` the meeting is with, ``activity_id``,
        ``meeting_set_at`` = ``humans.sales_ready_at`` when it was booked, ``meeting_at``
        when it is held). No one else has a meeting set up with them.
    """

    identity: pl.DataFrame
    visitors: pl.DataFrame
    conversion: ConversionTruth
    channel_effects: pl.DataFrame
    journeys: pl.DataFrame
    humans: pl.DataFrame
    stage_counts: pl.DataFrame
    stage_conversion: pl.DataFrame
    cycle: pl.DataFrame
    segments: pl.DataFrame
    sales_ready: pl.DataFrame = field(default_factory=pl.DataFrame)

    def true_shares(self) -> pl.DataFrame:
        """Each channel's true share of sales-ready conversions (channel, lift, share)."""
        return self.conversion.true_shares(self.journeys)


@dataclass(frozen=True)
class B2BWorld:
    """A simulated company: canonical ``data``, its ``truth`` and the ``params`` used."""

    data: Any  # ClosedLoopData (imported lazily to keep the layer light)
    truth: B2BTruth
    params: B2BParams
    internals: Mapping[str, pl.DataFrame] = field(default_factory=dict, repr=False)
    """Frames the exporters need beyond the canonical tables (GA4 events, CRM users)."""

    def summary(self) -> pl.DataFrame:
        """Row count of every canonical table."""
        summary: pl.DataFrame = self.data.summary()
        return summary


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def _group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (groups are consecutive runs)."""
    cs = np.cumsum(values)
    starts = np.cumsum(counts) - counts
    nonempty = counts > 0
    offset = np.zeros(len(counts))
    offset[nonempty] = cs[starts[nonempty]] - values[starts[nonempty]]
    return cs - np.repeat(offset, counts)


def _case_variant(email: str) -> str:
    local, domain = email.split("@")
    parts = [p[:1].upper() + p[1:] for p in local.split(".")]
    return ".".join(parts) + "@" + domain[:1].upper() + domain[1:]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Sim:
    """Holds the random state and intermediate frames of one simulation."""

    def __init__(self, p: B2BParams) -> None:
        self.p = p
        self.rng = np.random.default_rng(p.seed)
        self.cal = co.Calendar(p.start, p.months)
        self.T = float(self.cal.days)
        self.truth = ConversionTruth(p.baseline, dict(p.effects), dict(p.order_effects))

    # ------------------------------------------------------------------ company
    def company(self) -> None:
        rng = self.rng
        self.acc = co.make_accounts(rng, self.p.accounts, self.cal)
        self.users = co.make_users(rng)
        scale = self.p.accounts / 400.0
        self.camps = co.make_campaigns(rng, self.cal, scale=scale)
        self.fx = co.make_fx(rng, self.cal)
        self.spend_raw = co.make_spend(rng, self.cal, self.camps, scale=scale)
        div = self.acc["sales_division"].to_numpy()
        n_sf = int((div != "APAC").sum())
        sf_acc = iter(co.sf_ids(rng, "001", n_sf))
        hs_acc = iter(co.numeric_ids(rng, self.acc.height - n_sf, 5_400_000_000, 9000))
        self.acc = self.acc.with_columns(
            pl.Series(
                "account_id",
                [f"hs:{next(hs_acc)}" if d == "APAC" else f"sf:{next(sf_acc)}" for d in div],
            )
        )
        self.camps = self.camps.with_columns(
            pl.Series("campaign_id", ["sf:" + x for x in co.sf_ids(rng, "701", self.camps.height)])
        )

    # ------------------------------------------------------------------ humans
    def humans(self) -> None:
        rng, T = self.rng, self.T
        A = self.acc.height
        n_per = 2 + rng.poisson(5, A)
        H = int(n_per.sum())
        acct = np.repeat(np.arange(A), n_per)
        origin = rng.choice(4, H, p=[0.5, 0.14, 0.06, 0.30])
        self.h = pl.DataFrame(
            {
                "h": np.arange(H),
                "true_person_key": [f"P{i:06d}" for i in range(H)],
                "acct": acct,
                "origin": origin,
                "product": rng.choice(3, H, p=[0.4, 0.35, 0.25]),
                "first": rng.integers(len(co.FIRST_NAMES), size=H),
                "last": rng.integers(len(co.LAST_NAMES), size=H),
                "title": rng.integers(len(co.TITLES), size=H),
                "t0": rng.uniform(0, T, H),
                "k": np.where(
                    origin == _MARKETING,
                    1 + rng.poisson(3.0, H),
                    np.where(origin == _NONE, 0, rng.poisson(1.5, H) + (origin == _PARTNER)),
                ),
            }
        ).join(
            self.acc.select("acct", "sales_division", "domain", "account_id", "name", "country"),
            on="acct",
            how="left",
            maintain_order="left",
        )
        first = [co.FIRST_NAMES[i] for i in self.h["first"]]
        last = [co.LAST_NAMES[i] for i in self.h["last"]]
        dom = self.h["domain"].to_list()
        # two namesakes at one company get distinct mailboxes (jane.doe@, jane.doe2@),
        # as a real mail server would: one address is one human
        emails: list[str] = []
        seen: dict[tuple[str, str], int] = {}
        for fn, ln, d in zip(first, last, dom, strict=True):
            local = f"{co.ascii_fold(fn).lower()}.{co.ascii_fold(ln).lower()}"
            n = seen.get((local, d), 0) + 1
            seen[(local, d)] = n
            emails.append(f"{local}{n if n > 1 else ''}@{d}")
        self.h = self.h.with_columns(
            pl.Series("first_name", first),
            pl.Series("last_name", last),
            pl.Series("email", emails),
            pl.Series("product_line", [co.PRODUCT_LINES[i] for i in self.h["product"]]),
            (pl.col("sales_division") == "APAC").alias("is_hs"),
        )

    # ------------------------------------------------------------------ touches
    def touches(self) -> None:
        rng, T = self.rng, self.T
        h = self.h
        k = h["k"].to_numpy()
        origin = h["origin"].to_numpy()
        n = int(k.sum())
        th = np.repeat(np.arange(h.height), k)
        tj = np.arange(n) - np.repeat(np.cumsum(k) - k, k)
        o = origin[th]
        gap = rng.exponential(9.0, n)
        gap = np.where(tj == 0, np.where(o == _SALES, rng.exponential(6.0, n), 0.0), gap)
        t = h["t0"].to_numpy()[th] + _group_cumsum(gap, k)
        pop = np.array([co.CHANNEL_POPULARITY[c] for c in co.CHANNELS])
        ch = rng.choice(len(co.CHANNELS), n, p=pop / pop.sum())
        partner_i = co.CHANNELS.index("Partner")
        ch = np.where((o == _PARTNER) & (tj == 0), partner_i, ch)
        chan = np.array(co.CHANNELS, dtype=object)[ch]
        is_off = np.isin(chan, co.OFFLINE_CHANNELS)
        can_capture = is_off | (~is_off & (chan != "Email") & (rng.random(n) < 0.3))
        tf = pl.DataFrame(
            {"h": th, "j": tj, "t": t, "channel": chan.astype(str), "cap": can_capture & (o == 0)}
        )
        cap = (
            tf.filter(pl.col("cap"))
            .group_by("h")
            .agg(pl.col("j").min().alias("cap_j"), pl.col("t").min_by("j").alias("cap_t"))
        )
        tf = tf.join(cap, on="h", how="left", maintain_order="left").join(
            h.select("h", "origin", "t0"), on="h", how="left", maintain_order="left"
        )
        # nobody gets a nurture email before they are known: those touches were searches
        pre = (pl.col("origin") == _MARKETING) & (
            pl.col("cap_j").is_null() | (pl.col("j") < pl.col("cap_j"))
        )
        tf = tf.with_columns(
            pl.when(pre & (pl.col("channel") == "Email"))
            .then(pl.lit("Organic Search"))
            .otherwise(pl.col("channel"))
            .alias("channel"),
            pl.lit(False).alias("post"),
        )
        # one response per person and offline campaign half-year: later repeats dropped
        tf = self._assign_campaigns(tf)
        off = pl.col("channel").is_in(co.OFFLINE_CHANNELS)
        tf = tf.filter(~off | (pl.col("t") == pl.col("t").min().over("h", "camp")))
        tf = tf.filter(pl.col("t") < T).sort("h", "t", maintain_order=True)
        tf = tf.with_columns(pl.int_range(pl.len()).over("h").alias("j"))
        # who is known, when (lead created), when the decision falls
        hc = h.join(cap.select("h", "cap_t"), on="h", how="left", maintain_order="left")
        last_t = tf.group_by("h").agg(pl.col("t").max().alias("last_t"), pl.len().alias("n_t"))
        hc = hc.join(last_t, on="h", how="left", maintain_order="left").with_columns(
            pl.col("n_t").fill_null(0)
        )
        lead_t = np.where(
            hc["origin"].to_numpy() == _MARKETING,
            hc["cap_t"].fill_null(np.nan).to_numpy(),
            np.where(hc["origin"].to_numpy() == _NONE, np.nan, hc["t0"].to_numpy()),
        )
        lead_t = np.where(lead_t < T, lead_t, np.nan)
        last = hc["last_t"].fill_null(np.nan).to_numpy()
        base_t = np.where(np.isnan(last), lead_t, np.maximum(last, lead_t))
        decide_t = base_t + rng.exponential(12.0, h.height)
        known = ~np.isnan(lead_t)
        # the causal truth decides sales-readiness
        jour = tf.join(h.select("h", "true_person_key"), on="h").filter(
            pl.col("h").is_in(hc["h"].filter(pl.Series(known)).to_list())
        )
        jj = jour.select(
            pl.col("true_person_key").alias("journey_id"), "channel", pl.col("j").alias("position")
        )
        pj = (
            self.truth.probability(jj)
            if jj.height
            else pl.DataFrame(schema={"journey_id": pl.String, "p": pl.Float64})
        )
        p_all = np.full(h.height, float(_sigmoid(np.array([self.p.baseline]))[0]))
        idx = (
            pl.DataFrame({"journey_id": h["true_person_key"]})
            .join(pj, on="journey_id", how="left", maintain_order="left")["p"]
            .to_numpy()
        )
        p_all = np.where(np.isnan(idx.astype(float)), p_all, idx.astype(float))
        draw = rng.random(h.height) < p_all
        decided = known & (decide_t < T)
        sr = draw & decided
        mql_extra = rng.random(h.height) < 0.35
        dq = rng.random(h.height) < 0.5
        o = hc["origin"].to_numpy()
        mql_t = np.where(
            o == _MARKETING,
            np.where(
                draw | (mql_extra & (hc["n_t"].to_numpy() >= 2)),
                lead_t + 0.5 * (decide_t - lead_t),
                np.nan,
            ),
            lead_t + rng.exponential(2.0, h.height),
        )
        mql_t = np.where(mql_t < T, mql_t, np.nan)
        self.h = hc.with_columns(
            pl.Series("lead_t", lead_t),
            pl.Series("decide_t", decide_t),
            pl.Series("p_true", p_all),
            pl.Series("decided", decided),
            pl.Series("draw", draw),
            pl.Series("sales_ready", sr),
            pl.Series("mql_t", mql_t),
            pl.Series("sr_t", np.where(sr, decide_t, np.nan)),
            pl.Series("dq_t", np.where(decided & ~sr & dq, decide_t, np.nan)),
            pl.Series("known", known),
        )
        self.journeys = (
            jour.join(self.h.select("h", "decided", "draw"), on="h")
            .filter(pl.col("decided"))
            .select(
                pl.col("true_person_key").alias("journey_id"),
                "channel",
                pl.col("j").cast(pl.Int64).alias("position"),
                self._stamp(pl.col("t")).alias("occurred_at"),
                pl.col("draw").alias("converted"),
            )
            .sort("journey_id", "position", maintain_order=True)
        )
        # after a meeting is set people keep visiting (not part of the decided journey)
        srh = self.h.filter(pl.col("sales_ready"))
        kk = 1 + rng.poisson(1.0, srh.height)
        m = int(kk.sum())
        pch = rng.choice(4, m, p=[0.3, 0.4, 0.2, 0.1])
        post = pl.DataFrame(
            {
                "h": np.repeat(srh["h"].to_numpy(), kk),
                "t": np.repeat(srh["decide_t"].to_numpy(), kk)
                + _group_cumsum(rng.exponential(15.0, m), kk),
                "channel": np.array(["Direct", "Email", "Organic Search", "Webinar"])[pch],
                "post": np.ones(m, dtype=bool),
            }
        )
        post = self._assign_campaigns(post.join(self.h.select("h", "origin"), on="h"))
        known_h = hc["h"].filter(pl.Series(known)).to_list()
        self.tf = (
            pl.concat([tf.select(post.columns), post], how="vertical_relaxed")
            .filter(pl.col("t") < T)
            .filter(pl.col("h").is_in(known_h) | ~pl.col("channel").is_in(co.OFFLINE_CHANNELS))
            .sort("h", "t", maintain_order=True)
        )

    def _stamp(self, expr: pl.Expr) -> pl.Expr:
        us = (pl.lit(self.cal.start_us) + (expr * 86400.0).floor().cast(pl.Int64)) * 1_000_000
        return us.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")

    def _assign_campaigns(self, tf: pl.DataFrame) -> pl.DataFrame:
        """Attach the CRM campaign (``camp``) a touch belongs to (paid, offline, email)."""
        halves = np.sort(
            self.camps.filter(pl.col("channel") == "Webinar")["start_days"].unique().to_numpy()
        )
        hp = self.h.select("h", "product_line", "sales_division")
        tf = tf.join(hp, on="h", how="left", maintain_order="left").with_columns(
            pl.Series("half", np.searchsorted(halves, tf["t"].to_numpy(), side="right") - 1).clip(0)
        )
        c = self.camps.with_columns(
            pl.Series(
                "half",
                np.searchsorted(halves, self.camps["start_days"].to_numpy(), side="right") - 1,
            )
        )

        def key(ch: pl.Expr, p: pl.Expr, d: pl.Expr, half: pl.Expr) -> pl.Expr:
            star = pl.lit("*")
            return (
                pl.when(ch.is_in(["Paid Search", "Paid Social"]))
                .then(pl.concat_str(ch, p, d, star, separator="|"))
                .when(ch.is_in(["Display", "Partner"]))
                .then(pl.concat_str(ch, star, d, star, separator="|"))
                .when(ch.is_in(["Webinar", "Content Syndication"]))
                .then(pl.concat_str(ch, p, star, half.cast(pl.String), separator="|"))
                .when(ch == "Trade Show")
                .then(pl.concat_str(ch, star, d, half.cast(pl.String), separator="|"))
                .when(ch == "Email")
                .then(pl.concat_str(ch, p, star, star, separator="|"))
                .otherwise(pl.lit(None, pl.String))
            )

        ck = c.select(
            key(
                pl.col("channel"), pl.col("product_line"), pl.col("sales_division"), pl.col("half")
            ).alias("__key"),
            "camp",
            "ad_name",
        ).filter(pl.col("__key").is_not_null())
        out = tf.with_columns(
            key(
                pl.col("channel"), pl.col("product_line"), pl.col("sales_division"), pl.col("half")
            ).alias("__key")
        ).join(ck, on="__key", how="left", maintain_order="left")
        return out.drop("__key", "half", "product_line", "sales_division")

    # ------------------------------------------------------------------ opportunities
    def opportunities(self) -> None:
        rng, T, p = self.rng, self.T, self.p
        h = self.h
        acct = h["acct"].to_numpy()
        members_of: dict[int, np.ndarray] = {}
        for key, grp in h.group_by("acct"):
            members_of[int(key[0])] = np.sort(grp["h"].to_numpy())  # type: ignore[arg-type]
        emp = self.acc["employee_count"].to_numpy()
        div = self.acc["sales_division"].to_list()
        srs = h.filter(pl.col("sales_ready")).sort("decide_t", "h", maintain_order=True)
        opps: list[dict[str, Any]] = []
        committee: list[tuple[int, int, bool, float]] = []
        contact_t: dict[int, float] = {}
        conv: dict[int, tuple[float, int | None]] = {}
        open_by: dict[int, list[int]] = {}
        won_by: dict[int, float] = {}
        base = {"Analytics": 28000.0, "Automation": 42000.0, "Platform": 85000.0}
        roles = [r for _, r in co.TITLES]
        titles = h["title"].to_numpy()
        for row in srs.iter_rows(named=True):
            hh: int = int(row["h"])
            a: int = int(acct[hh])
            td: float = float(row["decide_t"])
            cur = [
                o for o in open_by.get(a, [])
                if opps[o]["created"] <= td < opps[o]["close"] and td - opps[o]["created"] < 180
            ]  # fmt: skip
            if cur:
                committee.append((cur[-1], hh, False, td))
                conv.setdefault(hh, (td, None))
                contact_t.setdefault(hh, td)
                continue
            if rng.random() >= p.opportunity_rate:
                continue
            created = td + float(rng.uniform(1, 10))
            if created >= T:
                continue
            pool = members_of[a][members_of[a] != hh]
            size = min(1 + int(rng.binomial(5, 0.45)), len(pool) + 1)
            others = rng.choice(pool, size - 1, replace=False) if size > 1 else np.array([])
            pwin = 0.14 + 0.05 * size
            won = bool(rng.random() < pwin)
            dur = float(
                np.exp(rng.normal(np.log(p.opportunity_days_median), p.opportunity_days_sigma))
            )
            dur = min(max(dur * (1.0 if won else 0.8), 7.0), _MAX_CYCLE_DAYS)
            reached = 5 if won else int(rng.integers(1, 6))
            d = div[a]
            amount = base[row["product_line"]] * (emp[a] / 400.0) ** 0.25
            amount *= float(np.exp(rng.normal(0, 0.35)))
            if d == "EMEA":
                amount /= 1.08
            o = len(opps)
            opps.append(
                {
                    "o": o,
                    "acct": a,
                    "h": hh,
                    "created": created,
                    "close": created + dur,
                    "won": won,
                    "reached": reached,
                    "size": size,
                    "amount": float(np.round(amount, -2)),
                    "product_line": row["product_line"],
                    "sales_division": d,
                    "origin": int(row["origin"]),
                    "type": "Existing Business"
                    if won_by.get(a, np.inf) < created
                    else "New Business",
                    "expected_shift": float(rng.normal(0, 20)),
                }
            )
            if won:
                won_by[a] = min(won_by.get(a, np.inf), created + dur)
            open_by.setdefault(a, []).append(o)
            committee.append((o, hh, True, created))
            conv[hh] = (created, o)
            contact_t.setdefault(hh, created)
            for m in others:
                mi = int(m)
                committee.append((o, mi, False, created))
                contact_t.setdefault(mi, created)
                if bool(h["known"][mi]) and h["lead_t"][mi] < created:
                    conv.setdefault(mi, (created, None))
        self.opps = pl.DataFrame(
            opps,
            schema={
                "o": pl.Int64, "acct": pl.Int64, "h": pl.Int64, "created": pl.Float64,
                "close": pl.Float64, "won": pl.Boolean, "reached": pl.Int64, "size": pl.Int64,
                "amount": pl.Float64, "product_line": pl.String, "sales_division": pl.String,
                "origin": pl.Int64, "type": pl.String, "expected_shift": pl.Float64,
            },
        )  # fmt: skip
        self.committee = pl.DataFrame(
            committee,
            schema={"o": pl.Int64, "h": pl.Int64, "is_primary": pl.Boolean, "t": pl.Float64},
            orient="row",
        ).with_columns(pl.Series("role", [roles[titles[c[1]]] for c in committee], dtype=pl.String))
        self.committee = self.committee.unique(["o", "h"], keep="first", maintain_order=True)
        self.contact_t = contact_t
        self.conv = conv


def make_b2b(
    seed: int = 0,
    *,
    accounts: int = 400,
    months: int = 24,
    start: str | dt.date = "2025-01-01",
    effects: Mapping[str, float] | None = None,
    order_effects: Mapping[tuple[str, str], float] | None = None,
    baseline: float = -2.3,
    opportunity_days_median: float = 95.0,
    opportunity_days_sigma: float = 0.7,
    opportunity_rate: float = 0.7,
    duplicate_rate: float = 0.06,
) -> B2BWorld:
    """Simulate a B2B company with known causal truth.

    Parameters
    ----------
    seed
        Seed of the one ``numpy.random.default_rng`` every draw comes from.
    accounts
        Number of target accounts (each with 2 + Poisson(5) people).
    months
        Length of the simulated period, from ``start``.
    start
        First day (ISO date or ``datetime.date``).
    effects
        True effect ``β_c`` of each channel on the log-odds of becoming sales-ready
        (default :data:`closedloop_kit.datasets._company.DEFAULT_EFFECTS`; Direct and
        Display have none).
    order_effects
        Optional ``γ_ab`` added when channel ``a`` first appears before channel ``b``.
    baseline
        ``b0``: log-odds of becoming sales-ready with no marketing touch.
    opportunity_days_median, opportunity_days_sigma
        Lognormal opportunity duration (creation → close; lost deals 20 % shorter; at
        most five years).
    opportunity_rate
        Chance a sales-ready person (not joining an open deal) gets an opportunity.
    duplicate_rate
        Share of Salesforce leads that get a duplicate lead (case-variant email).

    Returns
    -------
    B2BWorld
        ``.data`` (a ``ClosedLoopData`` with every canonical table, loader-shaped keys),
        ``.truth`` (:class:`B2BTruth`) and ``.params``.

    Notes
    -----
    A person becomes sales-ready with probability (see :class:`ConversionTruth`)::

        logit p = b0 + Σ_c β_c log(1 + n_c) + Σ_(a,b) γ_ab [a before b]

    over the marketing touches of their journey before the decision.

    Examples
    --------
    >>> world = make_b2b(seed=1, accounts=20, months=6)
    >>> world.data.people.height > 0
    True
    >>> world.truth.stage_counts["stage"].to_list()
    ['lead', 'mql', 'sales_ready', 'opportunity', 'won']
    """
    from closedloop_kit.datasets._assemble import assemble

    start_d = dt.date.fromisoformat(start) if isinstance(start, str) else start
    params = B2BParams(
        seed=seed,
        accounts=accounts,
        months=months,
        start=start_d,
        baseline=baseline,
        effects=dict(effects if effects is not None else co.DEFAULT_EFFECTS),
        order_effects=dict(order_effects or {}),
        opportunity_days_median=opportunity_days_median,
        opportunity_days_sigma=opportunity_days_sigma,
        opportunity_rate=opportunity_rate,
        duplicate_rate=duplicate_rate,
    )
    if accounts < 1 or months < 1:
        msg = f"`accounts` and `months` must be positive, got {accounts!r} and {months!r}"
        raise ValueError(msg)
    unknown = sorted(set(params.effects) - set(co.CHANNELS))
    if unknown:
        msg = f"`effects` has unknown channel(s) {unknown}; channels are {co.CHANNELS}"
        raise ValueError(msg)
    sim = _Sim(params)
    sim.company()
    sim.humans()
    sim.touches()
    sim.opportunities()
    data, truth, internals = assemble(sim)
    return B2BWorld(data=data, truth=truth, params=params, internals=internals)


__all__ += ["ga4_events", "session_attributes"]  # re-used by the exporters
