"""``import closedloop_kit`` beside ``import polars``: the package's own import cost.

Each timing is a fresh interpreter (best of 5), so nothing is cached in the process.
The goal (formerly a timed test, which failed on loaded machines): well under a second,
a small multiple of polars' own import.
"""

from __future__ import annotations

import subprocess
import sys


def _best(code: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", f"import time; t = time.perf_counter(); {code}; "
             "print(time.perf_counter() - t)"],
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        times.append(float(out.stdout.strip()))
    return min(times)


def run(quick: bool = False) -> list[dict[str, object]]:
    repeat = 3 if quick else 5
    ours = _best("import closedloop_kit", repeat)
    ref = _best("import polars", repeat)
    return [
        {
            "benchmark": f"import closedloop_kit (fresh process, best of {repeat})",
            "seconds": ours,
            "reference": "import polars",
            "reference_seconds": ref,
            "ratio": ours / ref if ref else None,
            "peak_rss_mb": None,
            "notes": "goal: < 1 s; heavy parts (pandera, altair, statsmodels) load on use",
        }
    ]
