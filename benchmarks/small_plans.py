"""Why the readers run small plans in memory and parse small date columns with strftime.

Usage: ``python benchmarks/small_plans.py [--repeat 15]``

Prints, as the median of ``repeat`` runs in this process:

* the mapping plan of the bundled sample's ``salesforce/Lead.csv`` (``map_columns``:
  every column cleaned, parsed and flagged) collected on polars' streaming engine (what
  a plain ``collect()`` picks in polars 2) and on its in-memory engine
  (:func:`closedloop_kit._core.frames.collect_in_memory`);
* ISO date-time text read by polars' strftime parser and by the numpy fixed-width
  reader (:func:`closedloop_kit.io._iso.fixed_width_iso`) at 300, 3,000 and 30,000
  values, for the layouts CRM exports write — the crossover behind
  ``closedloop_kit.io._parse.FIXED_WIDTH_MIN``.

The numbers quoted in docs/loading.md and in those docstrings come from this script.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
LAYOUTS = {  # strftime format to read, format the values are written in
    "Salesforce 2026-01-05T14:03:22.000+0000": (
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S.000+0000",
    ),
    "HubSpot 2026-01-05 14:03": ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M"),
    "warehouse 2026-01-05 14:03:22": ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"),
}


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * sorted(times)[len(times) // 2]


def lead_mapping_plan() -> pl.LazyFrame:
    """The lazy plan ``map_columns`` collects for the sample's Lead file."""
    from closedloop_kit.io import _parse
    from closedloop_kit.io.salesforce import read_salesforce

    captured: list[pl.LazyFrame] = []
    original = _parse.collect_in_memory

    def capture(lf: pl.LazyFrame) -> pl.DataFrame:
        captured.append(lf)
        return original(lf)

    _parse.collect_in_memory = capture  # type: ignore[assignment]
    try:
        read_salesforce(SAMPLE / "salesforce" / "Lead.csv")
    finally:
        _parse.collect_in_memory = original
    return captured[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    from closedloop_kit.io._iso import fixed_width_iso

    plan = lead_mapping_plan()
    width = len(plan.collect_schema())
    print(f"Lead.csv mapping plan ({width} columns), median of {args.repeat}:")
    for engine in ("streaming", "in-memory"):
        ms = _median_ms(lambda e=engine: plan.collect(engine=e), args.repeat)
        print(f"  {engine:>9} engine: {ms:6.1f} ms")
    instants = pl.datetime_range(
        pl.datetime(2020, 1, 1), pl.datetime(2026, 1, 1), "1m", eager=True
    ).sample(30_000, seed=1)
    print("date-time text, strftime parser vs numpy fixed-width reader (ms):")
    for name, (fmt, written) in LAYOUTS.items():
        zone = "UTC" if "%z" in fmt or "%#z" in fmt else None
        for n in (300, 3_000, 30_000):
            text = instants.head(n).dt.strftime(written)

            def strptime(t: pl.Series = text, f: str = fmt, z: str | None = zone) -> pl.Series:
                return t.str.to_datetime(f, strict=False, time_unit="us", time_zone=z)

            def numpy(t: pl.Series = text, aware: bool = zone is not None) -> object:
                return fixed_width_iso(t, aware=aware)

            a, b = _median_ms(strptime, args.repeat), _median_ms(numpy, args.repeat)
            print(f"  {name:<42} {n:>6,}: strftime {a:6.2f}  numpy {b:6.2f}")


if __name__ == "__main__":
    main()
