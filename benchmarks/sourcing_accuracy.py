"""How often ``sourced_by`` names the simulation's true origin, with and without the owner rule.

``python benchmarks/sourcing_accuracy.py [--write]``: simulates companies the tests do
not use (``make_b2b`` seeds 21 and 22, 120 accounts, 12 months), writes their exports,
reads them back with ``clk.load``, prepares them with the default taxonomy and with
``owner_role_map={}`` (the owner-role rule off), and prints per company the share of
people (funnel entities) whose ``sourced_by`` equals the true origin of the simulated
human behind them (``truth.humans.origin``; the entity's records are mapped to humans
through the exported ``truth/identity.csv``, majority vote). ``--write`` puts the table
into docs/funnel.md between the ``sourcing`` markers.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import tempfile
import warnings
from pathlib import Path

import polars as pl

import closedloop_kit as clk
from closedloop_kit.datasets.sample import write_exports

SEEDS = (21, 22)
DOC = Path(__file__).resolve().parents[1] / "docs" / "funnel.md"


def accuracy(seed: int) -> tuple[float, float, int]:
    world = clk.datasets.make_b2b(seed, accounts=120, months=12)
    with tempfile.TemporaryDirectory() as tmp:
        write_exports(world, tmp)
        data = clk.load(tmp, progress=False)
        identity = pl.read_csv(Path(tmp) / "truth" / "identity.csv")
    people = data.frame("people")
    key = pl.coalesce(
        [c for c in ("golden_person_id", "merged_into_id", "person_id") if c in people.columns]
    )
    humans = (
        people.select(key.alias("entity_id"), "person_id")
        .join(identity, on="person_id")
        .group_by("entity_id")
        .agg(pl.col("true_person_key").mode().sort().first())
        .join(world.truth.humans.select("true_person_key", "origin"), on="true_person_key")
    )
    out = []
    default = clk.Taxonomy.default()
    for tax in (default, dataclasses.replace(default, owner_role_map={})):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = clk.prepare(data, taxonomy=tax).funnel("person")
        j = f.join(humans, on="entity_id", how="inner")
        out.append(float((j["sourced_by"] == j["origin"]).mean()))
    return out[0], out[1], j.height


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/funnel.md")
    args = parser.parse_args()
    rows = ["| company | people | with owner rule | without |", "|---|---|---|---|"]
    for seed in SEEDS:
        with_rule, without, n = accuracy(seed)
        rows.append(f"| make_b2b seed {seed} | {n} | {with_rule:.3f} | {without:.3f} |")
    table = "\n".join(rows)
    print(table)
    if args.write:
        text = DOC.read_text(encoding="utf-8")
        block = f"<!-- sourcing:start -->\n{table}\n<!-- sourcing:end -->"
        text = re.sub(r"<!-- sourcing:start -->.*?<!-- sourcing:end -->", block, text, flags=re.S)
        DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
