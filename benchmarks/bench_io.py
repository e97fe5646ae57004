"""Benchmark: load + validate a 1M-row Salesforce Lead export vs a bare ``pl.read_csv``.

The export is generated deterministically (seeded numpy) into a temporary folder in the
Data Export shape (API-name headers, 18-character ids, ISO datetimes with ``+0000``) and
deleted afterwards. Goal (issue 3): ``read_salesforce`` ≤ 3× ``pl.read_csv`` of the same
file, measured in the same run.
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

STATUSES = [
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
]
SOURCES = ["Web", "Partner Referral", "Trade Show", "Purchased List", "Phone Inquiry"]


def write_leads(path: Path, n: int, *, seed: int = 0) -> Path:
    """Write ``n`` Salesforce Lead rows (Data Export shape) to ``path``."""
    from closedloop_kit.schema import salesforce_id18_expr

    rng = np.random.default_rng(seed)
    i = pl.col("i").cast(pl.String)
    seconds = rng.integers(1_735_689_600, 1_767_225_600, n)
    frame = pl.DataFrame(
        {
            "i": np.arange(n),
            "FirstName": rng.choice(["Ann", "Bo", "Chen", "Dana", "Émile"], n),
            "Title": rng.choice(["CTO", "VP Marketing", "Analyst", ""], n),
            "LeadSource": rng.choice(SOURCES, n),
            "Status": rng.choice(STATUSES, n),
            "Country": rng.choice(["USA", "Germany", "France", "Japan"], n),
            "conv": rng.random(n) < 0.1,
            "secs": seconds,
        }
    ).select(
        pl.concat_str([pl.lit("00Q"), i.str.zfill(12)]).alias("Id"),
        "FirstName",
        pl.concat_str([pl.lit("Name"), (pl.col("i") % 9973).cast(pl.String)]).alias("LastName"),
        pl.concat_str([pl.lit("p"), i, pl.lit("@example.com")]).alias("Email"),
        pl.concat_str([pl.lit("Company "), (pl.col("i") % 50_000).cast(pl.String)]).alias(
            "Company"
        ),
        "Title",
        "LeadSource",
        "Status",
        "Country",
        pl.col("conv").cast(pl.String).str.to_lowercase().alias("IsConverted"),
        pl.lit("false").alias("IsDeleted"),
        pl.from_epoch("secs", time_unit="s")
        .dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        .alias("CreatedDate"),
        pl.lit("0055e000001AbCdEAA").alias("OwnerId"),
    )
    frame = frame.with_columns(salesforce_id18_expr(pl.col("Id")).alias("Id"))
    # converted leads need a conversion date
    frame = frame.with_columns(
        pl.when(pl.col("IsConverted") == "true")
        .then(pl.col("CreatedDate"))
        .otherwise(pl.lit(""))
        .alias("ConvertedDate")
    )
    frame.write_csv(path)
    return path


def _peak_rss_mb() -> float | None:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except ImportError:  # pragma: no cover - non-POSIX
        return None


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best = float("inf")
    out = None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Time ``read_salesforce`` (load + validate) against ``pl.read_csv``."""
    from closedloop_kit.io import read_salesforce

    n = 100_000 if quick else 1_000_000
    repeat = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        path = write_leads(Path(tmp) / "Lead.csv", n)
        read_salesforce(write_leads(Path(tmp) / "warmup.csv", 100), object="Lead")  # imports
        ref_s, ref = _best(lambda: pl.read_csv(path), repeat)
        ours_s, res = _best(lambda: read_salesforce(path, object="Lead"), repeat)
        rep = res.report.row(0, named=True)
        assert rep["rows_read"] == n == ref.height
        assert rep["rows_kept"] + rep["rows_rejected"] + rep["rows_merged"] == n
    return [
        {
            "benchmark": f"read_salesforce Lead export, {n:,} rows (load + validate)",
            "seconds": round(ours_s, 3),
            "reference": "pl.read_csv of the same file",
            "reference_seconds": round(ref_s, 3),
            "ratio": round(ours_s / ref_s, 2),
            "peak_rss_mb": _peak_rss_mb(),
            "notes": f"goal ≤ 3×; {rep['rows_kept']:,} kept, {rep['rows_rejected']:,} rejected",
        }
    ]


if __name__ == "__main__":
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(row)
