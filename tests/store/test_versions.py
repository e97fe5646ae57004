"""Store versions: upserts, idempotence, CRM deletes and merges, time travel, changes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from closedloop_kit.errors import SourceFormatError, StoreLockedError
from closedloop_kit.store import (
    ClosedLoopData,
    changes,
    compact,
    history,
    open_store,
    read_manifest,
    vacuum,
)
from closedloop_kit.store._lock import writer_lock
from tests.store.tiny import load, merge_links, opportunities, people, snapshot


def test_weekly_upserts_keep_every_version(tmp_path):
    store = tmp_path / "w"
    for week in range(3):
        load(week).save(store, mode="upsert")
    now = open_store(store)
    assert now.store_version == 3
    # people ids 0..19, 5..24, 10..29: 30 distinct keys, never duplicated
    assert now.frame("people")["person_id"].n_unique() == now.frame("people").height == 30
    assert now.frame("touchpoints").height == 3 * 2000
    # last week wins for the keys it re-sent
    emails = dict(now.frame("people").select("person_id", "email").iter_rows())
    assert emails["hs:0"] == "w0-0@x.com"
    assert emails["hs:12"] == "w2-12@x.com"
    # version 1 is still there, whole
    first = open_store(store, version=1)
    assert first.frame("people").height == 20
    assert first.frame("touchpoints").height == 2000
    assert open_store(f"{store}@v2").frame("people").height == 25
    # the load report of each version, and the rejects of every upsert so far
    assert first.load_report["path"].to_list() == ["week0.csv"]
    assert now.load_report["path"].to_list() == ["week2.csv"]
    assert now.rejected["source_file"].to_list() == ["week0.csv", "week1.csv", "week2.csv"]
    assert first.rejected["source_file"].to_list() == ["week0.csv"]
    assert history(store)["store_version"].to_list() == [1, 2, 3]


def test_same_exports_twice_change_nothing(tmp_path):
    store = tmp_path / "w"
    load(0).save(store, mode="upsert")
    before = snapshot(open_store(store))
    load(0).save(store, mode="upsert")
    after = open_store(store)
    assert after.store_version == 2
    for name, frame in before.items():
        assert_frame_equal(snapshot(after)[name], frame)
    # nothing differed, so no Delta table got a new commit
    v1, v2 = read_manifest(store, version=1), read_manifest(store, version=2)
    assert {t: e["delta_version"] for t, e in v1["tables"].items()} == {
        t: e["delta_version"] for t, e in v2["tables"].items()
    }
    assert after.rejected.height == 1  # the same reject is not counted twice
    res = changes(store, 1, 2)
    assert res.rows.height == 0


def test_deletes_and_crm_merges_are_applied(tmp_path):
    store = tmp_path / "w"
    ClosedLoopData({"people": people([1, 2, 3]), "opportunities": opportunities([1, 2])}).save(
        store
    )
    # next week: hs:2 deleted in the CRM, hs:3 merged into hs:1 (HubSpot merge audit),
    # sf:2 merged into sf:1 by Salesforce (MasterRecordId on the deleted loser)
    opp = opportunities([2]).with_columns(
        pl.lit(True).alias("is_deleted"), pl.lit("sf:1").alias("merged_into_id")
    )
    ClosedLoopData(
        {
            "people": people([2], deleted=frozenset({2})),
            "opportunities": opp,
            "identity_links": merge_links([(3, 1), (99, 1)]),  # hs:99 is not in the store
        }
    ).save(store, mode="upsert")
    got = open_store(store).frame("people").sort("person_id")
    assert got["person_id"].to_list() == ["hs:1", "hs:2", "hs:3"]  # kept, flagged
    assert got["is_deleted"].to_list() == [False, True, False]
    assert got["merged_into_id"].to_list() == [None, None, "hs:1"]
    deals = open_store(store).frame("opportunities").sort("opportunity_id")
    assert deals["merged_into_id"].to_list() == [None, "sf:1"]
    res = changes(store, 1, 2)
    rows = res.rows.filter(pl.col("table") != "identity_links")
    assert dict(rows.select("key", "change").iter_rows()) == {
        "hs:2": "deleted", "hs:3": "merged", "sf:2": "deleted",
    }  # fmt: skip
    assert res.table.filter(pl.col("table") == "identity_links")["new"].item() == 2


def test_changes_counts_and_stage_moves(tmp_path):
    store = tmp_path / "w"
    ClosedLoopData({"opportunities": opportunities([1, 2, 3])}).save(store)
    moved = pl.concat([opportunities([1]), opportunities([2, 4], stage="Proposal")])
    ClosedLoopData({"opportunities": moved}).save(store, mode="upsert")
    ClosedLoopData({"opportunities": opportunities([1])}).save(store)  # overwrite: 2, 3, 4 go
    res = changes(store, 1, 2)
    # sf:2 Qualify -> Proposal (changed), sf:4 new, sf:1 and sf:3 untouched
    assert res.table.row(0, named=True) == {
        "table": "opportunities", "new": 1, "changed": 1, "deleted": 0, "merged": 0, "removed": 0,
    }  # fmt: skip
    assert res.stage_moves.rows() == [("opportunity", "sf:2", "stage_raw", "Qualify", "Proposal")]
    assert res.rows.filter(pl.col("change") == "changed")["columns_changed"].to_list() == [
        ["stage_raw"]
    ]
    later = changes(store, 2)
    assert later.params["to_version"] == 3
    assert sorted(later.rows.filter(pl.col("change") == "removed")["key"]) == [
        "sf:2", "sf:3", "sf:4",
    ]  # fmt: skip
    # an independent count: keys of v2 not in v3
    v2 = set(open_store(store, version=2).frame("opportunities")["opportunity_id"])
    v3 = set(open_store(store, version=3).frame("opportunities")["opportunity_id"])
    assert later.table["removed"].item() == len(v2 - v3)


def test_as_of_picks_the_last_version_saved_by_then(tmp_path):
    store = tmp_path / "w"
    load(0).save(store)
    load(1).save(store, mode="upsert")
    records = [read_manifest(store, version=v) for v in (1, 2)]
    assert open_store(store, as_of=records[0]["created_at"]).store_version == 1
    assert open_store(store, as_of=records[1]["created_at"]).store_version == 2
    assert open_store(store, as_of="2999-01-01").store_version == 2
    with pytest.raises(ValueError, match="has no version saved by 2000-01-01"):
        open_store(store, as_of="2000-01-01")
    with pytest.raises(ValueError, match=r"has no version 7: versions are 1\.\.2"):
        open_store(store, version=7)


def test_vacuum_keeps_the_retention_window(tmp_path):
    store = tmp_path / "w"
    for week in range(3):
        load(week).save(store, mode="upsert")
    assert vacuum(store, retain="30d").removed_versions == ()
    latest = snapshot(open_store(store))
    res = vacuum(store, retain="0h")
    assert res.removed_versions == (1, 2)
    assert res.table["files_removed"].sum() > 0
    for name, frame in snapshot(open_store(store)).items():
        assert_frame_equal(frame, latest[name])
    with pytest.raises(ValueError, match="removed by `vacuum`"):
        open_store(store, version=1)
    with pytest.raises(ValueError, match="`retain` must look like"):
        vacuum(store, retain="30 days")


def test_second_writer_waits_then_fails_clearly(tmp_path):
    store = tmp_path / "w"
    load(0).save(store)
    with (
        writer_lock(store / "_store", timeout=1),
        pytest.raises(StoreLockedError, match=r"is being written by pid \d+ on host"),
    ):
        load(1).save(store, mode="upsert", timeout=0.3)
    assert open_store(store).store_version == 1
    load(1).save(store, mode="upsert", timeout=0)  # the lock is released
    assert open_store(store).store_version == 2


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    store = tmp_path / "w"
    load(0).save(store)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = store / "_store" / "writer.lock"
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "since": "x"}))
    load(1).save(store, mode="upsert", timeout=0)
    assert open_store(store).store_version == 2
    assert not lock.exists()
    # a live holder on another host is never taken over
    lock.write_text(json.dumps({"pid": os.getpid(), "host": "elsewhere", "since": "x"}))
    with pytest.raises(StoreLockedError, match="'elsewhere'"):
        load(2).save(store, mode="upsert", timeout=0)


def test_old_parquet_store_still_opens_but_is_not_written(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    people([1, 2]).write_parquet(old / "people.parquet")
    (old / "manifest.json").write_text(json.dumps({"schema_version": 1, "tables": {"people": {}}}))
    assert open_store(old).frame("people").height == 2
    with pytest.raises(SourceFormatError, match="old Parquet layout"):
        load(0).save(old, mode="upsert")
    open_store(old).save(tmp_path / "new")
    assert open_store(tmp_path / "new").frame("people").height == 2


def test_compact_is_a_new_version_with_the_same_rows(tmp_path):
    store = tmp_path / "w"
    for week in range(3):  # three merges: several small files per table
        load(week).save(store, mode="upsert")
    before = open_store(store)
    version = compact(store)
    assert version == 4
    after = open_store(store)
    assert read_manifest(store)["mode"] == "compact"
    for name, frame in snapshot(before).items():
        assert_frame_equal(snapshot(after)[name], frame)
    assert_frame_equal(after.load_report, before.load_report)  # still week 2's report
    assert_frame_equal(after.rejected, before.rejected)
    assert changes(store, 3, 4).rows.height == 0


def test_cli_store_commands(tmp_path, capsys):
    from closedloop_kit.report import cli

    store = tmp_path / "w"
    ClosedLoopData({"opportunities": opportunities([1, 2])}).save(store)
    ClosedLoopData({"opportunities": opportunities([2], stage="Won")}).save(store, mode="upsert")
    assert cli.main(["store", "history", str(store)]) == 0
    assert "upsert" in capsys.readouterr().out
    assert cli.main(["store", "changes", str(store), "1"]) == 0
    out = capsys.readouterr().out
    assert "Qualify" in out
    assert "Won" in out
    assert cli.main(["store", "vacuum", str(store), "--retain", "0h", "--dry-run"]) == 0
    assert "would remove store versions [1]; kept [2]" in capsys.readouterr().out
    assert open_store(store, version=1).frame("opportunities").height == 2  # dry run
    assert cli.main(["store", "vacuum", str(store), "--retain", "0h"]) == 0
    assert "removed store versions [1]" in capsys.readouterr().out
    assert cli.main(["store", "compact", str(store)]) == 0
    assert "store version 3" in capsys.readouterr().out
