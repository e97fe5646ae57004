"""GA4 export loading: one scan of all daily files → sessions.

Usage: ``python benchmarks/bench_ga4.py [--quick] [--full] [--events N ...]``

Generates a deterministic GA4 BigQuery export (NDJSON, one file per day, the real
nested shape: ``event_params`` key/value lists, ``collected_traffic_source``) in a
temporary folder, then times :func:`closedloop_kit.io.ga4.read_ga4` of the folder
(events → touchpoints and identity links, validated) against a bare ``pl.scan_ndjson``
of the same files with a ``group_by`` on the visitor (the floor for "parse every event
and aggregate"), each in a fresh child process whose peak RSS is sampled
(:func:`measure`; ``bench_load.py`` uses it for ``clk.load`` of the sample).

Both wall and CPU seconds are recorded: on a shared machine the wall time depends on
the load, the CPU time much less. Sizes: ``--quick`` 200k events; default 1M and 4M;
``--events 1000000 4000000 16000000`` for the full ladder of docs/benchmarks.md (16M is
≈ 5.6 GB of NDJSON: generate it where the disk and the time allow).
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

QUICK_SIZES = (200_000,)
DEFAULT_SIZES = (1_000_000, 4_000_000)
FULL_SIZES = (1_000_000, 4_000_000, 16_000_000)

_SOURCES = [
    ("google", "cpc", "brand_search"),
    ("google", "organic", None),
    ("linkedin", "paid_social", "abm_q3"),
    ("newsletter", "email", "nov_digest"),
    (None, None, None),
]
_EVENTS = ["page_view", "scroll", "user_engagement", "click", "form_submit", "generate_lead"]
_EVENT_P = [0.55, 0.2, 0.17, 0.05, 0.02, 0.01]


def _text(*parts: str | pl.Expr) -> pl.Expr:
    """Concatenate literal text and expressions (JSON braces make ``pl.format`` awkward)."""
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def make_events(n_events: int, folder: Path, *, days: int = 10, seed: int = 0) -> list[Path]:
    """Write ``n_events`` GA4 events as ``events_YYYYMMDD.json`` files in ``folder``.

    Vectorised (each line is built by polars string expressions): 1M events ≈ 370 MB.
    Sessions: visitor × day × one of two session ids; 3 % of events are form / lead
    events carrying a ``crm_id`` parameter.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_day = -(-n_events // days)
    base_ts = 1_698_796_800_000_000  # 2023-11-01T00:00:00Z in µs
    sources = {
        i: (
            f',"collected_traffic_source":{{"manual_source":"{s}","manual_medium":"{m}",'
            f'"manual_campaign_name":{json.dumps(c)}}}'
            if s
            else ""
        )
        for i, (s, m, c) in enumerate(_SOURCES)
    }
    files, written = [], 0
    for day in range(days):
        n = min(per_day, n_events - written)
        if n <= 0:
            break
        written += n
        day_s = str(20231101 + day)
        frame = pl.DataFrame(
            {
                "u": rng.integers(1, max(2, n_events // 200), n),
                "s": rng.integers(0, 2, n),
                "ts": np.sort(base_ts + day * 86_400_000_000 + rng.integers(0, 86_400_000_000, n)),
                "ev": rng.choice(len(_EVENTS), n, p=_EVENT_P),
                "src": rng.integers(0, len(_SOURCES), n),
            }
        )
        u = pl.col("u").cast(pl.String)
        upid = _text(u, ".16987", (pl.col("u") % 100_000).cast(pl.String).str.zfill(5))
        sid = (1_698_796_800 + day * 86_400 + (pl.col("u") % 997) * 60 + pl.col("s")).cast(
            pl.String
        )
        crm = (
            pl.when(pl.col("ev") >= 4)
            .then(_text(',{"key":"crm_id","value":{"string_value":"00Q', u.str.zfill(12), '"}}'))
            .otherwise(pl.lit(""))
        )
        params = _text(
            '[{"key":"ga_session_id","value":{"int_value":"',
            sid,
            '"}},{"key":"page_location","value":{"string_value":"https://example.com/p/',
            pl.col("ev").cast(pl.String),
            '"}}',
            crm,
            "]",
        )
        name = pl.col("ev").replace_strict(dict(enumerate(_EVENTS)), return_dtype=pl.String)
        line = _text(
            f'{{"event_date":"{day_s}","event_timestamp":"',
            pl.col("ts").cast(pl.String),
            '","event_name":"',
            name,
            '","event_params":',
            params,
            ',"user_pseudo_id":"',
            upid,
            '"',
            pl.col("src").replace_strict(sources, return_dtype=pl.String),
            "}",
        )
        path = folder / f"events_{day_s}.json"
        frame.select(line).write_csv(path, include_header=False, quote_style="never")
        files.append(path)
    return files


_READ_GA4 = """
import json, resource, sys, time
from closedloop_kit.io.ga4 import read_ga4
from closedloop_kit.io._registry import registered
registered()
c, t = time.process_time(), time.perf_counter()
res = read_ga4(sys.argv[1])
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "rows": res["touchpoints"].height, "ok": res.reconciles}))
"""

_BARE_GA4 = """
import json, pathlib, sys, time
import polars as pl
files = sorted(str(p) for p in pathlib.Path(sys.argv[1]).glob("*.json"))
c, t = time.process_time(), time.perf_counter()
out = (
    pl.scan_ndjson(files, schema={"user_pseudo_id": pl.String, "event_timestamp": pl.String})
    .group_by("user_pseudo_id").agg(pl.col("event_timestamp").min(), pl.len())
    .collect(engine="streaming")
)
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "rows": out.height, "ok": True}))
"""


def measure(code: str, arg: Path) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; its JSON result plus peak RSS (MB, sampled)."""
    import psutil

    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(arg)], stdout=subprocess.PIPE, text=True
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
        msg = f"benchmark child failed with exit code {proc.returncode}"
        raise RuntimeError(msg)
    res: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    res["peak_mb"] = peak / 1024**2
    return res


def result_row(
    benchmark: str, got: dict[str, float], reference: str, bare: dict[str, float], notes: str
) -> dict[str, object]:
    """A result row of ``got`` against the ``bare`` reference (:func:`measure` results)."""
    return {
        "benchmark": benchmark,
        "seconds": round(got["wall"], 2),
        "reference": reference,
        "reference_seconds": round(bare["wall"], 2),
        "ratio": round(got["wall"] / bare["wall"], 2),
        "peak_rss_mb": round(got["peak_mb"], 1),
        "notes": notes,
    }


def _ga4_row(n: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ga4"
        t = time.perf_counter()
        make_events(n, folder)
        gen = time.perf_counter() - t
        raw_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1024**2
        bare = measure(_BARE_GA4, folder)
        got = measure(_READ_GA4, folder)
    return result_row(
        f"read_ga4: {n:,} events (NDJSON, {raw_mb:,.0f} MB, 10 daily files) → touchpoints",
        got,
        "bare pl.scan_ndjson + group_by(user_pseudo_id) of the same files",
        bare,
        f"CPU {got['cpu']:.1f} s vs {bare['cpu']:.1f} s "
        f"(ratio {got['cpu'] / bare['cpu']:.1f}); "
        f"{1e6 * got['wall'] / n:.1f} µs/event wall, {1e6 * got['cpu'] / n:.1f} µs/event CPU; "
        f"{got['rows']:,} touchpoints, reconciles={got['ok']}; "
        f"bare peak RSS {bare['peak_mb']:,.0f} MB; data generated in {gen:.0f} s",
    )


def run(
    quick: bool = False, full: bool = False, *, sizes: tuple[int, ...] | None = None
) -> list[dict[str, object]]:
    """Time ``read_ga4`` at each size (fresh processes).

    Sizes: ``sizes`` if given, else 200k events (``quick``), 1M, 4M and 16M (``full``),
    or 1M and 4M.
    """
    rows = []
    default = FULL_SIZES if full else DEFAULT_SIZES
    for n in sizes or (QUICK_SIZES if quick else default):
        rows.append(_ga4_row(n))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true", help="1M, 4M and 16M events")
    parser.add_argument("--events", type=int, nargs="*", default=None)
    args = parser.parse_args()
    sizes = tuple(args.events) if args.events else None
    for row in run(quick=args.quick, full=args.full, sizes=sizes):
        print(row, flush=True)


if __name__ == "__main__":
    main()
