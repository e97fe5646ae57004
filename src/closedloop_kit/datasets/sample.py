"""Write the sample company's vendor exports: ``python -m closedloop_kit.datasets.sample``.

``python -m closedloop_kit.datasets.sample --out sample_data [--seed 7] [--accounts 200]
[--months 12]`` simulates the company with :func:`closedloop_kit.datasets.make_b2b` and
writes Salesforce, HubSpot, GA4, Google Ads and LinkedIn exports plus the ground truth.
The output is byte-identical for the same arguments.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from closedloop_kit.datasets._b2b import make_b2b
from closedloop_kit.datasets._exports import write_exports

__all__ = ["EXPORT_CONFIG", "main", "write_sample_data"]

EXPORT_CONFIG: dict[str, Any] = {"seed": 7, "accounts": 200, "months": 12, "start": "2025-01-01"}
"""Parameters of the company written to ``sample_data/``."""

_MANAGED = ("salesforce", "hubspot", "ga4", "ads", "truth")


def write_sample_data(
    out: str | Path,
    *,
    seed: int = EXPORT_CONFIG["seed"],
    accounts: int = EXPORT_CONFIG["accounts"],
    months: int = EXPORT_CONFIG["months"],
    start: str = EXPORT_CONFIG["start"],
) -> list[dict[str, Any]]:
    """Simulate the company and write its exports under ``out`` (replacing earlier ones).

    Returns the expected load outcome per file (see
    :func:`closedloop_kit.datasets._exports.write_exports`).
    """
    root = Path(out)
    for sub in _MANAGED:
        if (root / sub).is_dir():
            shutil.rmtree(root / sub)
    world = make_b2b(seed, accounts=accounts, months=months, start=start)
    return write_exports(world, root)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m closedloop_kit.datasets.sample",
        description="Write the simulated company's vendor exports and ground truth.",
    )
    parser.add_argument("--out", default="sample_data", help="output folder")
    parser.add_argument("--seed", type=int, default=EXPORT_CONFIG["seed"])
    parser.add_argument("--accounts", type=int, default=EXPORT_CONFIG["accounts"])
    parser.add_argument("--months", type=int, default=EXPORT_CONFIG["months"])
    parser.add_argument("--start", default=EXPORT_CONFIG["start"])
    args = parser.parse_args(argv)
    rows = write_sample_data(
        args.out, seed=args.seed, accounts=args.accounts, months=args.months, start=args.start
    )
    total = sum(r["data_rows"] for r in rows)
    print(f"wrote {len(rows)} exports ({total} data rows) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
