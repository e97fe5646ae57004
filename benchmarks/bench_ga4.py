"""GA4 export loading: streaming aggregation of events to sessions, peak memory.

Usage: ``python benchmarks/bench_ga4.py [--full] [--events N]``

Generates a deterministic GA4 BigQuery export (NDJSON, one file per day, the real
nested shape: ``event_params`` key/value lists, ``collected_traffic_source``) in a
temporary folder, then loads it with :func:`closedloop_kit.io.ga4.read_ga4` in a
child process whose peak RSS (psutil, sampled) is reported next to the size of the
raw files. ``--full`` generates 10M events (≈ 5 GB of NDJSON; minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

QUICK_EVENTS = 200_000
DEFAULT_EVENTS = 1_000_000
FULL_EVENTS = 10_000_000

_SOURCES = [
    ("google", "cpc", "brand_search"),
    ("google", "organic", None),
    ("linkedin", "paid_social", "abm_q3"),
    ("newsletter", "email", "nov_digest"),
    (None, None, None),
]
_EVENTS = ["page_view", "scroll", "user_engagement", "click", "form_submit", "generate_lead"]
_EVENT_P = [0.55, 0.2, 0.17, 0.05, 0.02, 0.01]


def make_events(n_events: int, folder: Path, *, days: int = 10, seed: int = 0) -> list[Path]:
    """Write ``n_events`` GA4 events as ``events_YYYYMMDD.json`` files in ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_day = -(-n_events // days)
    files = []
    base_ts = 1_698_796_800_000_000  # 2023-11-01T00:00:00Z in µs
    written = 0
    for day in range(days):
        n = min(per_day, n_events - written)
        if n <= 0:
            break
        written += n
        chunk = 200_000
        path = folder / f"events_{20231101 + day}.json"
        with path.open("w", encoding="utf-8") as fh:
            for start in range(0, n, chunk):
                m = min(chunk, n - start)
                users = rng.integers(1, max(2, n_events // 200), m)
                session = rng.integers(0, 2, m)
                ts = base_ts + day * 86_400_000_000 + rng.integers(0, 86_400_000_000, m)
                ev = rng.choice(len(_EVENTS), m, p=_EVENT_P)
                src = rng.integers(0, len(_SOURCES), m)
                for i in range(m):
                    upid = f"{users[i]}.16987{users[i] % 100000:05d}"
                    sid = 1698796800 + day * 86400 + int(users[i] % 997) * 60 + int(session[i])
                    name = _EVENTS[ev[i]]
                    params = [
                        {"key": "ga_session_id", "value": {"int_value": str(sid)}},
                        {
                            "key": "page_location",
                            "value": {"string_value": f"https://example.com/p/{ev[i]}"},
                        },
                    ]
                    if name in ("form_submit", "generate_lead"):
                        params.append(
                            {"key": "crm_id", "value": {"string_value": f"00Q{users[i]:012d}"}}
                        )
                    s, med, camp = _SOURCES[src[i]]
                    rec: dict[str, object] = {
                        "event_date": f"{20231101 + day}",
                        "event_timestamp": str(int(ts[i])),
                        "event_name": name,
                        "event_params": params,
                        "user_pseudo_id": upid,
                    }
                    if s is not None:
                        rec["collected_traffic_source"] = {
                            "manual_source": s,
                            "manual_medium": med,
                            "manual_campaign_name": camp,
                        }
                    fh.write(json.dumps(rec, separators=(",", ":")))
                    fh.write("\n")
        files.append(path)
    return files


_CHILD = """
import sys, time
from closedloop_kit.io.ga4 import read_ga4
t = time.perf_counter()
res = read_ga4(sys.argv[1])
print(time.perf_counter() - t, res.tables["touchpoints"].height)
"""


def _measure(folder: Path) -> tuple[float, float, int]:
    import psutil

    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.NoSuchProcess:  # pragma: no cover - race at exit
            break
        time.sleep(0.05)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        msg = f"read_ga4 failed with exit code {proc.returncode}"
        raise RuntimeError(msg)
    seconds, rows = out.split()
    return float(seconds), peak / 1024**2, int(rows)


def run(quick: bool = False, *, n_events: int | None = None) -> list[dict[str, object]]:
    """Generate an export, load it streaming, and report time and peak RSS."""
    n = n_events or (QUICK_EVENTS if quick else DEFAULT_EVENTS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ga4"
        make_events(n, folder)
        raw_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1024**2
        t = time.perf_counter()
        ref_rows = (
            pl.scan_ndjson(sorted(folder.iterdir()), schema={"event_name": pl.String})
            .select(pl.len())
            .collect()
            .item()
        )
        ref_seconds = time.perf_counter() - t
        seconds, peak_mb, sessions = _measure(folder)
    return [
        {
            "benchmark": f"io: read_ga4 {n:,} events (NDJSON, {raw_mb:,.0f} MB) → sessions",
            "seconds": round(seconds, 2),
            "reference": "polars scan_ndjson row count",
            "reference_seconds": round(ref_seconds, 2),
            "ratio": round(seconds / ref_seconds, 2) if ref_seconds else None,
            "peak_rss_mb": round(peak_mb, 1),
            "notes": (
                f"{ref_rows:,} events → {sessions:,} touchpoints; peak RSS of the loading "
                f"process vs {raw_mb:,.0f} MB of raw NDJSON (streaming, events never held)"
            ),
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="10M events")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    n = FULL_EVENTS if args.full else args.events
    for row in run(quick=args.quick, n_events=n):
        print(row)


if __name__ == "__main__":
    main()
