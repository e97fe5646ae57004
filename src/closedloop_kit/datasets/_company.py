"""The simulated company's fixed parts: catalogue, accounts, users, campaigns, FX and spend.

Everything here is drawn from one ``numpy.random.Generator`` handed in by
:func:`closedloop_kit.datasets.make_b2b`, so a seed fixes every value.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

import numpy as np
import polars as pl

from closedloop_kit.schema.keys import salesforce_id18_expr

__all__ = [
    "CHANNELS",
    "DIVISIONS",
    "OFFLINE_CHANNELS",
    "PAID_CHANNELS",
    "PRODUCT_LINES",
    "WEB_CHANNELS",
    "Calendar",
]

PRODUCT_LINES = ("Analytics", "Automation", "Platform")
"""Product lines sold (each opportunity is for one)."""

DIVISIONS = ("North America", "EMEA", "APAC")
"""Sales divisions (geographic). EMEA sells in EUR; APAC runs HubSpot instead of Salesforce."""

DIVISION_REGION = {"North America": "AMER", "EMEA": "EMEA", "APAC": "APAC"}
DIVISION_COUNTRIES = {
    "North America": (("United States", 0.8), ("Canada", 0.2)),
    "EMEA": (("Germany", 0.35), ("United Kingdom", 0.3), ("France", 0.2), ("Spain", 0.15)),
    "APAC": (("Australia", 0.45), ("Singapore", 0.3), ("Japan", 0.25)),
}
DIVISION_CURRENCY = {"North America": "USD", "EMEA": "EUR", "APAC": "USD"}

WEB_CHANNELS = (
    "Organic Search",
    "Direct",
    "Paid Search",
    "Email",
    "Display",
    "Paid Social",
    "Referral",
    "Organic Social",
)
"""Channels whose touches are web sessions (GA4 default channel group names)."""

OFFLINE_CHANNELS = ("Webinar", "Content Syndication", "Trade Show", "Partner")
"""Channels whose touches are CRM campaign responses (campaign type names)."""

CHANNELS = WEB_CHANNELS + OFFLINE_CHANNELS
"""The 12 marketing channels, in ``touchpoints.channel`` spelling."""

PAID_CHANNELS = {
    "Paid Search": "google_ads",
    "Display": "google_ads",
    "Paid Social": "linkedin_ads",
}
"""Channels with daily ad spend, and the platform that bills them."""

CHANNEL_POPULARITY = {
    "Organic Search": 0.20,
    "Direct": 0.15,
    "Paid Search": 0.13,
    "Email": 0.12,
    "Display": 0.08,
    "Paid Social": 0.08,
    "Referral": 0.05,
    "Organic Social": 0.05,
    "Webinar": 0.05,
    "Content Syndication": 0.04,
    "Trade Show": 0.02,
    "Partner": 0.03,
}
"""How often a marketing touch is of each channel (before capture rules)."""

DEFAULT_EFFECTS = {
    "Organic Search": 0.45,
    "Direct": 0.0,
    "Paid Search": 0.55,
    "Email": 0.30,
    "Display": 0.0,
    "Paid Social": 0.35,
    "Referral": 0.40,
    "Organic Social": 0.10,
    "Webinar": 0.90,
    "Content Syndication": 0.20,
    "Trade Show": 0.70,
    "Partner": 0.80,
}
"""Default true effects ``β_c`` (log-odds per ``log(1 + touches)``); Direct, Display: none."""

INDUSTRIES = (
    "Manufacturing",
    "Financial Services",
    "Healthcare",
    "Retail",
    "Technology",
    "Logistics",
    "Energy",
    "Education",
)
_NAME_A = (
    "Acme", "Northwind", "Blue Harbor", "Crescent", "Summit", "Redwood", "Ironclad",
    "Silverline", "Granite", "Brightwater", "Keystone", "Lumen", "Orion", "Pioneer",
    "Quantum", "Riverbend", "Sterling", "Tidewater", "Vertex", "Westfield", "Alder",
    "Beacon", "Cobalt", "Delta Ridge", "Evergreen", "Falcon", "Harbor Point", "Juniper",
)  # fmt: skip
_NAME_B = (
    "Industries", "Logistics", "Health", "Foods", "Energy", "Systems", "Capital",
    "Manufacturing", "Retail Group", "Labs", "Holdings", "Partners", "Networks", "Works",
    "Mobility", "Insurance",
)  # fmt: skip
_NAME_C = ("Global", "United", "Pacific", "Atlantic", "Digital", "Advanced", "National")
FIRST_NAMES = (
    "Jane", "John", "Maria", "David", "Sarah", "Michael", "Emma", "James", "Olivia",
    "Robert", "Sophie", "Daniel", "Laura", "Thomas", "Anna", "Lukas", "Chloé", "José",
    "François", "Jürgen", "Søren", "Ana", "Mei", "Hiroshi", "Priya", "Raj", "Wei", "Yuki",
    "Liam", "Noah", "Isabel", "Carlos", "Fatima", "Omar", "Ingrid", "Björn", "Zoë",
    "René", "Hélène", "Matteo",
)  # fmt: skip
LAST_NAMES = (
    "Doe", "Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Müller", "Schmidt",
    "Ibáñez", "Núñez", "Dubois", "Lefèvre", "Rossi", "Jensen", "Åberg", "Tanaka", "Sato",
    "Chen", "Wang", "Patel", "Singh", "Kim", "Nguyen", "O'Brien", "Murphy", "Wilson",
    "Taylor", "Anderson", "Thomas", "Moreau", "Fernández", "Kowalski", "Novak", "Larsen",
    "Becker", "Schäfer", "Cohen", "Lopez", "Martin",
)  # fmt: skip
TITLES = (
    ("Chief Marketing Officer", "Economic Buyer"),
    ("VP Operations", "Decision Maker"),
    ("Head of Data", "Decision Maker"),
    ("IT Director", "Technical Buyer"),
    ("Marketing Manager", "Influencer"),
    ("Data Engineer", "Evaluator"),
    ("Operations Analyst", "Business User"),
    ("Procurement Manager", "Other"),
    ("CFO", "Economic Buyer"),
    ("Product Manager", "Influencer"),
)
"""Job titles and the contact role they usually hold on a deal."""

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def ascii_fold(text: str) -> str:
    """``"Müller"`` → ``"muller"``-style ASCII for email local parts (``ß``/``ø``/``'`` handled)."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("'", "")
    text = text.replace(" ", "")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def sf_ids(rng: np.random.Generator, key_prefix: str, n: int, *, pod: str = "5g") -> list[str]:
    """``n`` increasing, unique 18-character Salesforce ids with ``key_prefix`` (e.g. "00Q")."""
    if n == 0:
        return []
    start = int(rng.integers(62**3, 62**4))
    nums = start + np.cumsum(rng.integers(1, 900, n))
    digits = []
    for k in range(5):
        digits.append(nums // 62 ** (4 - k) % 62)
    tails = ["".join(_B62[int(d[i])] for d in digits) for i in range(n)]
    base = [f"{key_prefix}{pod}00000{t}" for t in tails]
    s = pl.Series("id", base, dtype=pl.String)
    return pl.select(salesforce_id18_expr(pl.lit(s))).to_series().to_list()


def numeric_ids(rng: np.random.Generator, n: int, low: int, step: int = 7) -> np.ndarray:
    """``n`` increasing unique integers starting near ``low`` (HubSpot-style numeric ids)."""
    return low + np.cumsum(rng.integers(1, step + 1, n))


@dataclass(frozen=True)
class Calendar:
    """Simulation time: day offsets (float days since ``start``) ↔ UTC timestamps."""

    start: dt.date
    months: int

    @property
    def end(self) -> dt.date:
        """First day after the simulated period (exclusive)."""
        y, m = divmod(self.start.month - 1 + self.months, 12)
        return dt.date(self.start.year + y, m + 1, 1 if self.start.day == 1 else self.start.day)

    @property
    def days(self) -> int:
        """Length of the period in days."""
        return (self.end - self.start).days

    @property
    def start_us(self) -> int:
        """``start`` as µs since the Unix epoch (UTC midnight)."""
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return int((dt.datetime.combine(self.start, dt.time(), dt.UTC) - epoch).total_seconds())

    def us(self, days: np.ndarray) -> np.ndarray:
        """Day offsets → whole-second µs epoch integers."""
        secs = np.floor(np.asarray(days, dtype=np.float64) * 86400.0).astype(np.int64)
        return (self.start_us + secs) * 1_000_000

    def stamps(self, days: np.ndarray | list[float], name: str) -> pl.Series:
        """Day offsets → ``Datetime("us", "UTC")`` series (whole seconds); NaN → null."""
        arr = np.asarray(days, dtype=np.float64)
        ok = ~np.isnan(arr)
        out = np.where(ok, self.us(np.where(ok, arr, 0.0)), 0)
        s = pl.Series(name, out, dtype=pl.Int64)
        s = pl.select(pl.when(pl.lit(pl.Series(ok))).then(pl.lit(s))).to_series().rename(name)
        return s.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")

    def dates(self, days: np.ndarray | list[float], name: str) -> pl.Series:
        """Day offsets → ``Date`` series; NaN → null."""
        return self.stamps(days, name).dt.date()

    def month_starts(self) -> list[dt.date]:
        """First day of each simulated month, plus the one after the end."""
        out = []
        for k in range(self.months + 1):
            y, m = divmod(self.start.month - 1 + k, 12)
            out.append(dt.date(self.start.year + y, m + 1, 1))
        return out


def lineage(system: str, source_file: str, source_ids: list[str] | pl.Series) -> dict[str, object]:
    """Lineage columns for rows written to ``source_file`` in the given (sorted) order."""
    ids = pl.Series("source_id", source_ids, dtype=pl.String)
    rank = ids.rank("ordinal").cast(pl.Int64) + 1  # header is line 1
    return {
        "source_system": pl.Series([system] * len(ids), dtype=pl.String),
        "source_id": ids,
        "source_file": pl.Series([source_file] * len(ids), dtype=pl.String),
        "source_row": rank,
    }


def make_accounts(rng: np.random.Generator, n: int, cal: Calendar) -> pl.DataFrame:
    """Accounts: name, domain, industry, size, country, division (internal frame, no ids)."""
    division = rng.choice(len(DIVISIONS), n, p=[0.45, 0.35, 0.20])
    names: list[str] = []
    seen: set[str] = set()
    for i in range(n):
        a, b = _NAME_A[rng.integers(len(_NAME_A))], _NAME_B[rng.integers(len(_NAME_B))]
        name = f"{a} {b}"
        for extra in _NAME_C:
            if name not in seen:
                break
            name = f"{a} {extra} {b}"
        if name in seen:
            name = f"{a} {b} {i}"
        seen.add(name)
        names.append(name)
    domains = [ascii_fold(x).lower().replace("&", "and") + ".com" for x in names]
    countries = []
    for d in division:
        opts = DIVISION_COUNTRIES[DIVISIONS[d]]
        idx = rng.choice(len(opts), p=[w for _, w in opts])
        countries.append(opts[idx][0])
    employees = np.round(np.exp(rng.normal(6.2, 1.2, n))).astype(np.int64) + 10
    created = -rng.uniform(30, 2000, n)  # accounts mostly predate the period
    return pl.DataFrame(
        {
            "acct": np.arange(n),
            "name": names,
            "domain": domains,
            "industry": [INDUSTRIES[i] for i in rng.integers(len(INDUSTRIES), size=n)],
            "employee_count": employees,
            "country": countries,
            "sales_division": [DIVISIONS[d] for d in division],
            "created_days": created,
        }
    )


def make_users(rng: np.random.Generator) -> pl.DataFrame:
    """Sales and marketing users: SDRs and AEs per division, and a marketing integration user."""
    rows = []
    for d in DIVISIONS:
        rows += [{"division": d, "role": "SDR", "n": k} for k in range(2)]
        rows += [{"division": d, "role": "AE", "n": k} for k in range(3)]
    rows.append({"division": "", "role": "Marketing", "n": 0})
    users = pl.DataFrame(rows)
    sf = ["sf:" + x for x in sf_ids(rng, "005", users.height, pod="1t")]
    hs = [f"hs:{x}" for x in numeric_ids(rng, users.height, 31_000_000, 900)]
    return users.with_columns(
        pl.Series("sf_user_id", sf), pl.Series("hs_owner_id", hs, dtype=pl.String)
    )


def _halves(cal: Calendar) -> list[tuple[str, float, float]]:
    out = []
    h = 0
    while h * 6 < cal.months:
        s = cal.month_starts()[h * 6]
        e = cal.month_starts()[min(h * 6 + 6, cal.months)]
        label = f"H{1 + (s.month - 1) // 6} {s.year}"
        out.append((label, float((s - cal.start).days), float((e - cal.start).days)))
        h += 1
    return out


def make_campaigns(rng: np.random.Generator, cal: Calendar, *, scale: float = 1.0) -> pl.DataFrame:
    """Salesforce campaigns: paid (always on), programs per half-year, partner, nurture.

    Columns: ``camp`` (index), name, type, channel, product_line, sales_division, start/end
    day offsets, ``ad_name`` (utm_campaign for paid), budgeted/actual cost, currency.
    """
    rows: list[dict[str, object]] = []
    abbr = {"North America": "NA", "EMEA": "EMEA", "APAC": "APAC"}
    full = (0.0, float(cal.days))
    for ch, prefix in (("Paid Search", "gads_search"), ("Paid Social", "li_sponsored")):
        for p in PRODUCT_LINES:
            for d in DIVISIONS:
                rows.append(
                    {
                        "name": f"{ch} - {p} - {abbr[d]}",
                        "type": ch,
                        "channel": ch,
                        "product_line": p,
                        "sales_division": d,
                        "span": full,
                        "ad_name": f"{prefix}_{p.lower()}_{abbr[d].lower()}",
                    }
                )
    for d in DIVISIONS:
        rows.append(
            {
                "name": f"Display Retargeting - {abbr[d]}",
                "type": "Display",
                "channel": "Display",
                "product_line": "Platform",
                "sales_division": d,
                "span": full,
                "ad_name": f"gdn_retargeting_{abbr[d].lower()}",
            }
        )
    for label, s, e in _halves(cal):
        for p in PRODUCT_LINES:
            for ch in ("Webinar", "Content Syndication"):
                rows.append(
                    {
                        "name": f"{ch} - {p} {label}",
                        "type": ch,
                        "channel": ch,
                        "product_line": p,
                        "sales_division": "North America" if ch == "Webinar" else "EMEA",
                        "span": (s, e),
                        "ad_name": None,
                    }
                )
        for d in DIVISIONS:
            rows.append(
                {
                    "name": f"Trade Shows {label} - {abbr[d]}",
                    "type": "Trade Show",
                    "channel": "Trade Show",
                    "product_line": "Platform",
                    "sales_division": d,
                    "span": (s, e),
                    "ad_name": None,
                }
            )
    for d in DIVISIONS:
        rows.append(
            {
                "name": f"Partner Program - {abbr[d]}",
                "type": "Partner",
                "channel": "Partner",
                "product_line": "Platform",
                "sales_division": d,
                "span": full,
                "ad_name": None,
            }
        )
    for p in PRODUCT_LINES:
        rows.append(
            {
                "name": f"Email Nurture - {p}",
                "type": "Email",
                "channel": "Email",
                "product_line": p,
                "sales_division": "North America",
                "span": full,
                "ad_name": f"nurture_{p.lower()}",
            }
        )
    n = len(rows)
    unit = {
        "Webinar": 6000.0,
        "Content Syndication": 12000.0,
        "Trade Show": 30000.0,
        "Partner": 20000.0,
        "Email": 4000.0,
    }
    budget: list[float | None] = []
    actual: list[float | None] = []
    for r in rows:
        if r["type"] in unit:
            b = unit[str(r["type"])] * scale * float(rng.uniform(0.7, 1.4))
            budget.append(round(b, -2))
            actual.append(round(b * float(rng.uniform(0.8, 1.1)), 2))
        else:
            budget.append(None)  # paid media: cost is in `spend`
            actual.append(None)
    cur = [DIVISION_CURRENCY[str(r["sales_division"])] for r in rows]
    return pl.DataFrame(
        {
            "camp": np.arange(n),
            "name": [r["name"] for r in rows],
            "type": [r["type"] for r in rows],
            "channel": [r["channel"] for r in rows],
            "product_line": [r["product_line"] for r in rows],
            "sales_division": [r["sales_division"] for r in rows],
            "start_days": [r["span"][0] for r in rows],  # type: ignore[index]
            "end_days": [r["span"][1] - 1 for r in rows],  # type: ignore[index]
            "ad_name": [r["ad_name"] for r in rows],
            "budgeted_cost": budget,
            "actual_cost": actual,
            "currency": cur,
        },
        schema_overrides={"budgeted_cost": pl.Float64, "actual_cost": pl.Float64},
    )


def make_fx(rng: np.random.Generator, cal: Calendar) -> pl.DataFrame:
    """Monthly EUR→USD rates (``month_start``, ``next_start``, ``rate`` USD per EUR)."""
    starts = cal.month_starts()
    steps = rng.normal(0.0, 0.012, cal.months)
    # stored as a CRM stores it (Salesforce ConversionRate: EUR per 1 USD, 6 decimals), so
    # the rate read back from the exports is exactly the one the simulation used
    conversion = np.round(1.0 / (1.08 * np.exp(np.cumsum(steps))), 6)
    rates = 1.0 / conversion
    return pl.DataFrame(
        {
            "valid_from": starts[:-1],
            "valid_to": starts[1:],
            "rate": rates,
        }
    )


def make_spend(
    rng: np.random.Generator, cal: Calendar, campaigns: pl.DataFrame, *, scale: float = 1.0
) -> pl.DataFrame:
    """Daily cost, impressions and clicks of every paid campaign (internal frame).

    Budgets are sized for a 400-account company and multiplied by ``scale``.
    """
    paid = campaigns.filter(pl.col("channel").is_in(list(PAID_CHANNELS)))
    n_days = cal.days
    base = {"Paid Search": 180.0, "Paid Social": 130.0, "Display": 70.0}
    mult = {"North America": 1.0, "EMEA": 0.7, "APAC": 0.45}
    cpm = {"Paid Search": 45.0, "Paid Social": 38.0, "Display": 4.0}
    ctr = {"Paid Search": 0.045, "Paid Social": 0.006, "Display": 0.0015}
    day = np.arange(n_days)
    weekday = np.array([(cal.start + dt.timedelta(days=int(d))).weekday() for d in day]) >= 5
    frames = []
    for row in paid.iter_rows(named=True):
        ch = row["channel"]
        level = base[ch] * mult[row["sales_division"]] * scale
        cost = level * np.where(weekday, 0.55, 1.0) * np.exp(rng.normal(0, 0.25, n_days))
        cost = np.round(cost, 2)
        imps = np.round(cost / cpm[ch] * 1000 * np.exp(rng.normal(0, 0.1, n_days))).astype(int)
        clicks = rng.binomial(imps, ctr[ch])
        frames.append(
            pl.DataFrame(
                {
                    "camp": np.full(n_days, row["camp"]),
                    "day": day,
                    "cost": cost,
                    "impressions": imps.astype(np.int64),
                    "clicks": clicks.astype(np.int64),
                }
            )
        )
    return pl.concat(frames)
