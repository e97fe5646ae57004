"""The store is plain Delta Lake: polars and DuckDB read it without closedloop_kit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from closedloop_kit.store import open_store
from tests.store.tiny import load

# what docs/store.md shows; runs in a fresh interpreter that never imports closedloop_kit
READER = """
import json, sys
from pathlib import Path

import duckdb
import polars as pl
from deltalake import DeltaTable

store = Path(sys.argv[1])
# the latest complete store version: the highest record in _store/versions/
record = json.loads(max((store / "_store" / "versions").glob("*.json")).read_text())
version = record["tables"]["people"]["delta_version"]

people = pl.read_delta(str(store / "people"), version=version)
n_lazy = pl.scan_delta(str(store / "people"), version=version).select(pl.len()).collect().item()

dataset = DeltaTable(str(store / "people"), version=version).to_pyarrow_dataset()
n_duck, n_deleted = duckdb.sql(
    "select count(*), count(*) filter (where is_deleted) from dataset"
).fetchall()[0]

assert "closedloop_kit" not in sys.modules
print(json.dumps({"store_version": record["store_version"], "polars": people.height,
                  "lazy": n_lazy, "duckdb": n_duck, "deleted": n_deleted}))
"""


@pytest.mark.slow
def test_polars_and_duckdb_read_the_store_without_closedloop_kit(tmp_path):
    store = tmp_path / "w"
    load(0).save(store)
    load(1).save(store, mode="upsert")
    out = subprocess.run(
        [sys.executable, "-c", READER, str(store)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    got = json.loads(out.stdout)
    expected = open_store(store).frame("people")
    assert got == {
        "store_version": 2,
        "polars": expected.height,  # 25 people: 0..19 then 5..24
        "lazy": 25,
        "duckdb": 25,
        "deleted": int(expected["is_deleted"].sum()),
    }
