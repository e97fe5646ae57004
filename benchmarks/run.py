"""Run every benchmark and write docs/benchmarks.md.

Usage: ``python benchmarks/run.py [--quick] [--full] [--only io,attribution]``

Each ``benchmarks/bench_<area>.py`` exposes ``run(quick: bool = False) -> list[dict]``
(``run(quick, full)`` when it has a larger ladder for ``--full``) with rows
``{"benchmark", "seconds", "reference", "reference_seconds", "ratio", "peak_rss_mb",
"notes"}``. Results are written to ``benchmarks/results/<area>.json``
and the page is regenerated from all result files, with the machine they ran on, so
the numbers quoted in the docs always come from one recorded run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PAGE = HERE.parent / "docs" / "benchmarks.md"
COLUMNS = (
    "benchmark",
    "seconds",
    "reference",
    "reference_seconds",
    "ratio",
    "peak_rss_mb",
    "notes",
)


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024**2:.0f} GiB"
                break
    except OSError:
        pass
    import polars as pl

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "python": sys.version.split()[0],
        "polars": pl.__version__,
        "platform": platform.platform(),
    }


def _fmt(v: object) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v).replace("|", "/")


def _with_ratio(row: dict[str, object]) -> list[object]:
    """The row's cells, ``ratio`` always ``seconds / reference_seconds`` (one convention)."""
    sec, ref = row.get("seconds"), row.get("reference_seconds")
    ratio = row.get("ratio")
    if isinstance(sec, int | float) and isinstance(ref, int | float) and ref > 0:
        ratio = round(sec / ref, 2)
    return [ratio if c == "ratio" else row.get(c) for c in COLUMNS]


def render() -> str:
    lines = [
        "# Benchmarks",
        "",
        "Speed is measured by `make bench` (`python benchmarks/run.py`), never by timed tests.",
        "Each table below is one recorded run; `ratio` is `seconds / reference_seconds`,",
        "the reference measured in the same run on the same machine (below 1: faster than",
        "the reference, e.g. 0.30 = 3.3× faster). Regenerate with `make bench`.",
        "",
    ]
    files = sorted(RESULTS.glob("*.json"))
    if not files:
        lines.append("No results recorded yet: run `make bench`.")
    for f in files:
        rec = json.loads(f.read_text())
        m = rec["machine"]
        lines += [
            f"## {rec['area']}",
            "",
            f"Run {rec['run_at']} ({'quick' if rec.get('quick') else 'full'} sizes) on "
            f"{m['cpu']}, {m['cores']} cores, {m['memory']}, Python {m['python']}, "
            f"polars {m['polars']}.",
            "",
            "| " + " | ".join(COLUMNS) + " |",
            "|" + "---|" * len(COLUMNS),
        ]
        for row in rec["rows"]:
            lines.append("| " + " | ".join(_fmt(v) for v in _with_ratio(row)) + " |")
        if rec.get("error"):
            lines += ["", f"The run failed: `{rec['error']}`"]
        lines.append("")
    return "\n".join(lines)


def _takes_full(func: object) -> bool:
    import inspect

    return "full" in inspect.signature(func).parameters  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--full", action="store_true", help="the largest sizes (hours, not minutes)")
    ap.add_argument("--only", default="", help="comma-separated areas, e.g. io,attribution")
    args = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    only = {a for a in args.only.split(",") if a}
    status = 0
    for path in sorted(HERE.glob("bench_*.py")):
        area = path.stem.removeprefix("bench_")
        if only and area not in only:
            continue
        print(f"== {area}", flush=True)
        spec = importlib.util.spec_from_file_location(f"bench_{area}", path)
        if spec is None or spec.loader is None:
            continue
        mod = importlib.util.module_from_spec(spec)
        rec: dict[str, object] = {
            "area": area,
            "quick": args.quick,
            "full": args.full,
            "run_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "rows": [],
        }
        try:
            spec.loader.exec_module(mod)
            full = {"full": True} if args.full and _takes_full(mod.run) else {}
            rec["rows"] = mod.run(quick=args.quick, **full)
        except Exception as exc:  # a failing benchmark is recorded, the others still run
            traceback.print_exc()
            rec["error"] = f"{type(exc).__name__}: {exc}"
            status = 1
        for row in rec["rows"]:  # type: ignore[attr-defined]
            print("   ", {k: row.get(k) for k in COLUMNS if row.get(k) is not None})
        (RESULTS / f"{area}.json").write_text(json.dumps(rec, indent=2, default=str) + "\n")
    PAGE.write_text(render() + "\n", encoding="utf-8")
    print(f"wrote {PAGE.relative_to(HERE.parent)}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
