"""``clk.load("sample_data/")`` against a bare polars read of the same files.

Usage: ``python benchmarks/bench_load.py [--repeat N]``

Each side runs in a fresh interpreter (imports done before timing; peak RSS sampled,
see ``bench_ga4.measure``), ``repeat`` times (3 by default); the fastest run of each
side is recorded, so a busy moment on a shared machine does not decide the ratio. The
bare read is ``scan_ndjson`` of the 365 GA4 daily files with the reader's columns and
``read_csv`` of every other file: what any loader must at least do. The goal of issue 16
is ``clk.load`` within 3× of it.

A second row (not with ``--quick``) does the same for the exports of a simulated company
ten times the sample's size (``make_b2b(11, accounts=2000, months=24)``, written by
``write_exports``): the reader's cost per file is much the same at any size, so the
ratio at this size shows how much of the sample's ratio is that fixed cost.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ga4 import measure, result_row

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
LARGE = {"seed": 11, "accounts": 2000, "months": 24}
"""The larger company of the second row (``make_b2b`` arguments)."""

_LOAD = """
import json, sys, time
import closedloop_kit as clk
from closedloop_kit.io._registry import registered
registered()
c, t = time.process_time(), time.perf_counter()
data = clk.load(sys.argv[1], progress=False)
rep = data.load_report
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "rows": int(rep["rows_read"].sum()), "ok": bool(
                      (rep["rows_read"] == rep["rows_kept"] + rep["rows_rejected"]
                       + rep["rows_merged"]).all())}))
"""

_BARE_LOAD = """
import json, sys, time
import polars as pl
from closedloop_kit.io._ga4_events import EVENT_SCHEMA
from closedloop_kit.io._registry import expand_paths
files = expand_paths(sys.argv[1])
c, t = time.process_time(), time.perf_counter()
ga4 = [str(f) for f in files if f.name.startswith("events_")]
rows = pl.scan_ndjson(ga4, schema=EVENT_SCHEMA).collect().height if ga4 else 0
for f in files:
    if f.suffix == ".csv":  # report exports have preamble lines: read them ragged
        rows += pl.read_csv(
            f, infer_schema=False, truncate_ragged_lines=True, encoding="utf8-lossy"
        ).height
    elif not f.name.startswith("events_"):
        rows += len(f.read_bytes()) > 0
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "rows": rows, "ok": True}))
"""


def _best(code: str, folder: Path, repeat: int) -> dict[str, float]:
    runs = [measure(code, folder) for _ in range(repeat)]
    return min(runs, key=lambda r: r["wall"])


def _row(benchmark: str, folder: Path, repeat: int) -> dict[str, object]:
    bare, got = _best(_BARE_LOAD, folder, repeat), _best(_LOAD, folder, repeat)
    mb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1024**2
    notes = (
        f"goal ≤ 3×; best of {repeat} fresh processes each; CPU {got['cpu']:.1f} s vs "
        f"{bare['cpu']:.1f} s (ratio {got['cpu'] / bare['cpu']:.1f}); imports done before "
        f"timing; {mb:,.0f} MB, {got['rows']:,} rows read, reconciles={got['ok']}"
    )
    return result_row(
        benchmark, got, "bare polars read of the same files (scan_ndjson + read_csv)", bare, notes
    )


def run(quick: bool = False, *, repeat: int = 3) -> list[dict[str, object]]:
    """The load of the sample (and, unless ``quick``, of a company ten times its size)
    against the bare read, best of ``repeat`` fresh processes."""
    if not SAMPLE.is_dir():
        return []
    repeat = 1 if quick else repeat
    rows = [_row('clk.load("sample_data/") (365 GA4 daily files + CRM / ads CSVs)', SAMPLE, repeat)]
    if quick:
        return rows
    import closedloop_kit as clk
    from closedloop_kit.datasets.sample import write_exports

    with tempfile.TemporaryDirectory() as tmp:
        write_exports(clk.datasets.make_b2b(**LARGE), tmp)  # type: ignore[arg-type]
        n_files = sum(1 for f in Path(tmp).rglob("*") if f.is_file())
        rows.append(
            _row(
                f"clk.load of a simulated company 10× the sample ({LARGE['accounts']:,} "
                f"accounts, {LARGE['months']} months: {n_files} files)",
                Path(tmp),
                repeat,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for row in run(repeat=args.repeat):
        print(row, flush=True)


if __name__ == "__main__":
    main()
