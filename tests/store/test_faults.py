"""Fault injection: saves killed with SIGKILL, and two processes saving at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from closedloop_kit.store import open_store, read_manifest
from tests.store.tiny import load, snapshot

ROOT = Path(__file__).resolve().parents[2]

# each test starts Python processes that import polars and deltalake (~20-40 s on a
# loaded 2-core machine)
pytestmark = pytest.mark.slow

# The child saves week 1 on top of the store and SIGKILLs itself at `stage`:
# "before:<table>" / "after:<table>" / "before_record" are the checkpoints of save();
# "during:<table>" kills it while Delta Lake is reading the table's rows (data files of
# that table may already be on disk, its commit is not).
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import polars as pl
    import pyarrow as pa
    from closedloop_kit.store import _save
    from tests.store.tiny import load

    store, stage, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    armed = []
    original = pl.DataFrame.to_arrow

    def to_arrow(self, *args, **kwargs):
        table = original(self, *args, **kwargs)
        if not armed or self.height < 100:
            return table
        def batches():
            for i, batch in enumerate(table.to_batches(max_chunksize=50)):
                if i == 2:
                    os.kill(os.getpid(), signal.SIGKILL)
                yield batch
        return pa.RecordBatchReader.from_batches(table.schema, batches())

    def checkpoint(name):
        if name == stage:
            os.kill(os.getpid(), signal.SIGKILL)
        if stage.startswith("during:") and name == "before:" + stage.split(":")[1]:
            armed.append(True)

    pl.DataFrame.to_arrow = to_arrow
    _save._checkpoint = checkpoint
    load(1).save(store, mode=mode)
    print("finished without being killed")
    """
)


def _child(store: Path, stage: str, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLER, str(store), stage, mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


STAGES = [
    "during:people",  # the first table being written
    "after:people",  # between tables
    "during:touchpoints",  # a later table, after two tables committed
    "before:_rejected",  # every table committed, metadata not
    "before_record",  # everything committed but the store-version record
]


@pytest.mark.parametrize(
    ("stage", "mode"),
    [(s, "upsert") for s in STAGES] + [(s, "overwrite") for s in STAGES[2::2]],
)
def test_killed_save_leaves_the_previous_version_whole(tmp_path, stage, mode):
    store = tmp_path / "w"
    load(0).save(store)
    before = snapshot(open_store(store))
    before_rejects = open_store(store).rejected

    done = _child(store, stage, mode)
    assert done.returncode == -9, done.stdout + done.stderr

    # readers: still version 1, every row of it
    after = open_store(store)
    assert after.store_version == 1
    assert read_manifest(store)["store_version"] == 1
    got = snapshot(after)
    assert got.keys() == before.keys()
    for name, frame in before.items():
        assert_frame_equal(got[name], frame)
    assert_frame_equal(after.rejected, before_rejects)

    # the next writer rolls the half-save back and its own save is exact
    load(1).save(store, mode=mode)
    again = open_store(store)
    assert again.store_version == 2
    reference = tmp_path / "ref"
    load(0).save(reference)
    load(1).save(reference, mode=mode)
    expected = open_store(reference)
    for name, frame in snapshot(expected).items():
        assert_frame_equal(snapshot(again)[name], frame)
    assert_frame_equal(again.rejected, expected.rejected)
    assert_frame_equal(again.load_report, expected.load_report)


WRITER = textwrap.dedent(
    """
    import sys
    import polars as pl
    from closedloop_kit.errors import StoreLockedError
    from closedloop_kit.store import ClosedLoopData
    from tests.store.tiny import people

    store, first, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    for i in range(4):
        ids = list(range(first + 10 * i, first + 10 * i + 15))  # overlaps the other writer
        try:
            ClosedLoopData({"people": people(ids, email=f"w{first}-")}).save(
                store, mode="upsert", timeout=timeout
            )
        except StoreLockedError as exc:
            print("LOCKED", exc)
    """
)


@pytest.mark.parametrize("timeout", [300.0, 0.0])
def test_two_processes_upserting_at_once(tmp_path, timeout):
    store = tmp_path / "w"
    starts = (0, 25)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store), str(s), str(timeout)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in starts
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    locked = sum(o.count("LOCKED") for o, _ in outs)
    if timeout:
        assert locked == 0
    for out, _ in outs:  # a refused save says who holds the store
        for line in out.splitlines():
            assert "is being written by pid" in line
    frame = open_store(store).frame("people")
    # no key twice, and every key of every save that went through is there
    assert frame["person_id"].n_unique() == frame.height
    saved = open_store(store).store_version
    assert saved == 8 - locked
    keys = set(frame["person_id"])
    for v in range(1, saved + 1):
        assert set(open_store(store, version=v).frame("people")["person_id"]) <= keys
    if timeout:
        expected = {f"hs:{i}" for s in starts for i in range(s, s + 45)}
        assert keys == expected
    # each version's people table is a single writer's save on top of the previous
    heights = [open_store(store, version=v).frame("people").height for v in range(1, saved + 1)]
    assert heights == sorted(heights)
