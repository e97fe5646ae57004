"""Property test: random weekly loads, deletes and CRM merges against an in-memory model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop_kit.store import ClosedLoopData, open_store
from tests.store.tiny import merge_links, people

KEYS = st.integers(min_value=0, max_value=11)
OPS = st.lists(
    st.tuples(
        st.sampled_from(["upsert", "upsert", "overwrite"]),
        st.lists(KEYS, max_size=8, unique=True),  # people in this export
        st.sets(KEYS, max_size=4),  # of which deleted in the CRM
        st.dictionaries(KEYS, KEYS, max_size=3),  # CRM merges: loser -> survivor
    ),
    min_size=1,
    max_size=4,
)


def _apply(model: dict, mode: str, ids: list[int], deleted: set[int], merges: dict, tag: int):
    """What the store should hold after one save: the rules of docs/store.md, by hand."""
    rows = {
        f"hs:{i}": {
            "email": f"t{tag}-{i}@x.com",
            "is_deleted": i in deleted,
            "merged_into_id": None,
        }
        for i in ids
    }
    links = {(f"hs:{a}", f"hs:{b}") for a, b in merges.items() if a != b}
    if mode == "overwrite":
        model = {"people": rows, "links": links if links else None}
    else:
        old = model.get("people") or {}
        people_now = {**old, **rows}
        old_links = model.get("links")
        model = {
            "people": people_now,
            "links": (old_links or set()) | links if (links or old_links is not None) else None,
        }
    for loser, survivor in links:  # merges mark the loser, unless it already points on
        row = model["people"].get(loser)
        if row is not None and row["merged_into_id"] is None:
            model["people"][loser] = {**row, "merged_into_id": survivor}
    return model


def _data(ids: list[int], deleted: set[int], merges: dict, tag: int) -> ClosedLoopData:
    frame = people(ids, email=f"t{tag}-", deleted=frozenset(deleted))
    tables = {"people": frame}
    pairs = [(a, b) for a, b in merges.items() if a != b]
    if pairs:
        tables["identity_links"] = merge_links(pairs)
    return ClosedLoopData(tables)


def _observed(store: Path, version: int) -> dict:
    data = open_store(store, version=version)
    frame = data.frame("people")
    assert frame["person_id"].n_unique() == frame.height  # never a duplicate key
    got = {
        r["person_id"]: {
            "email": r["email"],
            "is_deleted": r["is_deleted"],
            "merged_into_id": r["merged_into_id"],
        }
        for r in frame.iter_rows(named=True)
    }
    links = None
    if "identity_links" in data:
        lf = data.frame("identity_links")
        links = set(lf.select("id_value", "linked_id_value").iter_rows())
    return {"people": got, "links": links}


@pytest.mark.slow
@settings(max_examples=12)
@given(OPS)
def test_store_matches_the_model(ops):
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "w"
        model: dict = {"people": {}, "links": None}
        expected = []
        for tag, (mode, ids, deleted, merges) in enumerate(ops):
            deleted_ids = {d for d in deleted if d in ids}
            _data(ids, deleted_ids, merges, tag).save(store, mode=mode)
            model = _apply(model, mode, ids, deleted_ids, merges, tag)
            expected.append(model)
            assert _observed(store, tag + 1) == model
        # time travel: every earlier version still reads as it was
        for version, state in enumerate(expected, start=1):
            assert _observed(store, version) == state
        assert open_store(store).store_version == len(ops)
