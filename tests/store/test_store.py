import datetime as dt
import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.schema import validate
from closedloop_kit.store import ClosedLoopData, open_store, read_manifest


def _data() -> ClosedLoopData:
    people = validate(
        pl.DataFrame(
            {
                "person_id": ["sf:2", "sf:1"],
                "person_type": ["lead", "contact"],
                "email": ["B@x.com", "a@y.com"],
                "created_at": [dt.datetime(2026, 1, 2, tzinfo=dt.UTC), None],
            }
        ),
        "people",
    ).valid
    spend = validate(
        pl.DataFrame(
            {
                "date": [dt.date(2026, 1, 1)],
                "platform": ["google_ads"],
                "cost": [12.5],
                "currency": ["EUR"],
            }
        ),
        "spend",
    ).valid
    return ClosedLoopData({"people": people, "spend": spend}, corporate_currency="EUR")


def test_round_trip_is_exact(tmp_path):
    data = _data()
    data.save(tmp_path / "w")
    back = open_store(tmp_path / "w")
    assert back.corporate_currency == "EUR"
    for name in data:
        assert isinstance(back[name], pl.LazyFrame)
        assert_frame_equal(
            back.frame(name),
            data.frame(name).sort(back.frame(name).columns[0]),
            check_row_order=False,
        )
    manifest = json.loads((tmp_path / "w/manifest.json").read_text())
    assert manifest["tables"]["people"]["rows"] == 2
    assert manifest["schema_version"] == 1
    assert manifest["store_version"] == 1
    assert manifest == read_manifest(tmp_path / "w")


def test_resave_gives_identical_tables(tmp_path):
    _data().save(tmp_path / "a")
    _data().save(tmp_path / "b")
    for name in ("people", "spend"):
        # rows are sorted by primary key before an overwrite, so the order is the same too
        assert_frame_equal(
            open_store(tmp_path / "a").frame(name), open_store(tmp_path / "b").frame(name)
        )


def test_upsert_does_not_duplicate(tmp_path):
    _data().save(tmp_path / "w")
    _data().save(tmp_path / "w", mode="upsert")
    assert open_store(tmp_path / "w").frame("people").height == 2
    changed = _data()
    people = changed.frame("people").with_columns(pl.lit("new@x.com").alias("email"))
    changed.with_tables(people=people.head(1)).save(tmp_path / "w", mode="upsert")
    back = open_store(tmp_path / "w").frame("people").sort("person_id")
    assert back.height == 2
    assert back["email"].to_list() == ["a@y.com", "new@x.com"]


def test_missing_table_is_empty_canonical_frame():
    data = _data()
    assert data.touchpoints.height == 0
    assert "occurred_at" in data.touchpoints.columns
    with pytest.raises(KeyError, match="`name` must be one of"):
        data["nope"]


def test_not_a_store(tmp_path):
    with pytest.raises(SourceFormatError, match="is not a closedloop_kit store"):
        open_store(tmp_path)
    (tmp_path / "manifest.json").write_text("{oops")
    with pytest.raises(SourceFormatError, match="line 1: not valid JSON"):
        open_store(tmp_path)
