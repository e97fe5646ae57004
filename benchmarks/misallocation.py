"""Misallocated credit of every attribution model against simulated truth; a docs table.

Usage: ``python benchmarks/misallocation.py [--journeys 30000] [--no-write]``

Worlds and seeds (none is used by the unit tests):

- count worlds: ``make_attribution_world(seed, kind="additive")``, seeds 3101–3103;
- order worlds: ``make_attribution_world(seed, kind="order")``, seeds 3201–3203 (``a
  before b`` effects), plus an interaction world (3301);
- realistic companies: ``make_b2b(seed)`` (400 accounts, 24 months), seeds 21–23, through
  ``clk.prepare`` (identity resolution, channels, milestones). Their truth is the
  simulation's :class:`ConversionTruth` (channels change the chance to become
  sales-ready; opportunity and win are drawn
  independently of channels, so the true revenue shares are the sales-ready shares).
  Two journey frames per company: person-level journeys to a **won** deal (730-day
  lookback, marketing touches) with the prepared model's stage times
  (``raw_lead_at``, ``mql_at``, ``sales_ready_at``, ``opportunity_at``, ``won_at``, the
  same milestones the funnel shows), which every model reads (``multistage`` chains
  raw lead → … → won); and person-level journeys to **sales-ready** (the conversion the
  truth acts on), which every model reads too (``multistage``'s default stages end at the
  conversion: raw lead → MQL → sales-ready). ``benchmarks/noise_floor.py`` measures the
  sampling noise at the companies' size.

Misallocation is ``½ Σ_c |share_c − true_share_c|`` (0 perfect). The table replaces the
block between ``<!-- misallocation:start -->`` and ``<!-- misallocation:end -->`` in
docs/attribution.md.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from pathlib import Path
from typing import Any

import polars as pl

DOC = Path(__file__).resolve().parents[1] / "docs" / "attribution.md"
COUNT_WORLDS = [(3101, 6), (3102, 8), (3103, 10)]
ORDER_WORLDS = [(3201, 6), (3202, 8), (3203, 10)]
INTERACTION_WORLDS = [(3301, 8)]
COMPANIES = [21, 22, 23]
STAGES = ["raw_lead_at", "mql_at", "sales_ready_at", "opportunity_at", "won_at"]
MODELS: list[tuple[str, dict[str, Any]]] = [
    ("first_touch", {}),
    ("last_touch", {}),
    ("last_non_direct", {}),
    ("linear", {}),
    ("time_decay", {}),
    ("position_based", {}),
    ("w_shaped", {}),
    ("markov", {"order": 1}),
    ("markov", {"order": 2}),
    ("shapley", {}),
    ("ordered_shapley", {}),
    ("fractribution", {}),
    ("logistic", {"features": "main"}),
    ("logistic", {}),
    ("multistage", {}),
]


def _label(name: str, params: dict[str, Any]) -> str:
    inner = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{name}({inner})" if inner else name


def _cases(n_journeys: int) -> list[tuple[str, pl.DataFrame, pl.DataFrame]]:
    import closedloop_kit as clk
    from closedloop_kit.datasets import make_attribution_world, make_b2b

    cases = []
    for kind, worlds in (
        ("count", COUNT_WORLDS),
        ("order", ORDER_WORLDS),
        ("interaction", INTERACTION_WORLDS),
    ):
        for seed, ch in worlds:
            w = make_attribution_world(
                seed,
                n_journeys=n_journeys,
                channels=ch,
                kind="additive" if kind == "count" else kind,  # type: ignore[arg-type]
            )
            cases.append((f"{kind} {ch} ch, seed {seed}", w.journeys, w.true_shares()))
    for seed in COMPANIES:
        company = make_b2b(seed)
        true = company.truth.true_shares()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prepared = clk.prepare(company.data)
            won = prepared.journeys(conversion="won", level="person", lookback="730d")
            ready = prepared.journeys(conversion="sales_ready", lookback="730d")
        n_won = won.filter(pl.col("converted"))["journey_id"].n_unique()
        n_ready = ready.filter(pl.col("converted"))["journey_id"].n_unique()
        cases.append((f"company {seed}: won ({n_won} deals)", won, true))
        cases.append((f"company {seed}: sales-ready ({n_ready})", ready, true))
    return cases


def score_all(n_journeys: int) -> pl.DataFrame:
    """One row per model, one column per world or company: misallocated share."""
    from closedloop_kit.attribution import attribute
    from closedloop_kit.datasets._truth import misallocation

    table: dict[str, dict[str, float | None]] = {_label(*m): {} for m in MODELS}
    columns = []
    for label, j, true in _cases(n_journeys):
        columns.append(label)
        row: dict[str, Any] = {"case": label}
        for name, params in MODELS:
            value: float | None = None
            needs = {"multistage": STAGES[0], "w_shaped": "is_lead_creation_touch"}
            if needs.get(name, "journey_id") in j.columns:
                t = time.perf_counter()
                res = attribute(j, model=name, **params)
                value = round(misallocation(res.shares(), true), 3)
                row[_label(name, params)] = (value, round(time.perf_counter() - t, 1))
            table[_label(name, params)][label] = value
        print(json.dumps(row), flush=True)
    return pl.DataFrame(
        [{"model": m, **{c: table[m].get(c) for c in columns}} for m in table],
        schema={"model": pl.String, **dict.fromkeys(columns, pl.Float64)},
    )


def markdown(frame: pl.DataFrame) -> str:
    """The score table as markdown; an empty cell is a model that does not apply."""
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.iter_rows():
        cells = [str(row[0])] + ["" if v is None else f"{v:.3f}" for v in row[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write(table: str) -> None:
    """Replace the generated block in docs/attribution.md."""
    text = DOC.read_text(encoding="utf-8")
    block = f"<!-- misallocation:start -->\n{table}\n<!-- misallocation:end -->"
    pattern = re.compile(r"<!-- misallocation:start -->.*?<!-- misallocation:end -->", re.S)
    if not pattern.search(text):
        msg = f"{DOC} has no <!-- misallocation:start --> … <!-- misallocation:end --> block"
        raise SystemExit(msg)
    DOC.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=30_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    frame = score_all(args.journeys)
    table = markdown(frame)
    print(table)
    if not args.no_write:
        write(table)


if __name__ == "__main__":
    main()
