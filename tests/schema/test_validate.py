import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop_kit.errors import DataContractError
from closedloop_kit.schema import TABLES, as_reject_rows, empty_table, validate


def test_every_table_has_a_documented_model():
    for name, spec in TABLES.items():
        schema = spec.model.to_schema()
        for col, c in schema.columns.items():
            assert c.description, f"{name}.{col} lacks a description"
        assert spec.key, name
        assert list(spec.columns)[-4:] == [
            "source_system",
            "source_id",
            "source_file",
            "source_row",
        ]


def test_empty_tables_validate():
    for name in TABLES:
        res = validate(empty_table(name), name)
        assert res.n_input == res.n_valid == 0


def test_missing_required_column_raises_naming_table_and_column():
    with pytest.raises(
        DataContractError, match=r"table `touchpoints` needs column\(s\) \['occurred_at'"
    ):
        validate(
            pl.DataFrame(
                {"touchpoint_id": ["t1"], "touch_type": ["web_session"], "is_marketing": [True]}
            ),
            "touchpoints",
        )


def test_float_ids_are_a_contract_error():
    with pytest.raises(DataContractError, match="`person_id` is Float64; ids must be strings"):
        validate(pl.DataFrame({"person_id": [1.0e17], "person_type": ["lead"]}), "people")


def test_uncoercible_values_reject_rows_with_reasons():
    df = pl.DataFrame(
        {
            "opportunity_id": ["sf:1", "sf:2", "sf:3"],
            "is_closed": ["true", "maybe", "false"],
            "is_won": [True, False, True],
            "amount": ["100.5", "abc", None],
            "currency": ["USD", "USD", None],
            "close_date": ["2026-01-31", "2026-02-30", None],
        }
    )
    res = validate(df, "opportunities", source_file="opps.csv")
    assert (res.n_valid, res.n_rejected) == (1, 2)
    reasons = dict(zip(res.rejected["opportunity_id"], res.rejected["reason"], strict=True))
    assert "`is_closed`: cannot read 'maybe'" in reasons["sf:2"]
    assert "`amount`: cannot read 'abc'" in reasons["sf:2"]
    assert "`close_date`: cannot read '2026-02-30'" in reasons["sf:2"]
    # row 3: won but not closed
    assert "`is_won` without `is_closed`" in reasons["sf:3"]
    assert res.rejected["source_file"].to_list() == ["opps.csv", "opps.csv"]
    assert res.rejected["source_row"].to_list() == [2, 3]
    # the valid row is typed
    assert res.valid.schema["amount"] == pl.Float64
    assert res.valid.schema["close_date"] == pl.Date
    assert res.valid["amount"].to_list() == [100.5]


def test_datetimes_become_utc_microseconds():
    df = pl.DataFrame(
        {
            "touchpoint_id": ["t1", "t2"],
            "person_id": ["sf:1", "sf:2"],
            "occurred_at": [
                dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                dt.datetime(2026, 3, 1, 13, tzinfo=dt.UTC),
            ],
            "touch_type": ["web_session", "form_fill"],
            "is_marketing": [True, True],
        },
        schema_overrides={"occurred_at": pl.Datetime("ns", "Europe/Berlin")},
    )
    res = validate(df, "touchpoints")
    assert res.valid.schema["occurred_at"] == pl.Datetime("us", "UTC")
    assert res.valid["occurred_at"][0] == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


def test_lazy_input_runs_data_checks_and_stays_lazy():
    lf = pl.LazyFrame({"account_id": ["sf:1", "sf:1"], "employee_count": [-5, 10]})
    res = validate(lf, "accounts")
    assert isinstance(res.valid, pl.LazyFrame)
    assert res.n_rejected == 2  # negative count; duplicate key
    assert "employee_count" in res.rejected["reason"][0]
    assert "duplicate key (account_id='sf:1')" in res.rejected["reason"][1]


def test_defaults_fill_omitted_flags():
    res = validate(pl.DataFrame({"person_id": ["hs:1"], "person_type": ["contact"]}), "people")
    assert res.valid["is_deleted"].to_list() == [False]
    assert "email" in res.added_columns


def test_uniform_rejects():
    res = validate(pl.DataFrame({"account_id": ["", "sf:2"]}), "accounts", source_file="a.csv")
    uni = as_reject_rows(res.rejected, source_system="salesforce")
    assert uni.columns == ["table", "reason", "source_system", "source_file", "source_row", "raw"]
    assert uni.row(0, named=True)["raw"] == '{"account_id":""}'
    assert res.summary()["rows"].sum() == 1


def test_rejected_has_the_same_columns_whether_or_not_a_row_failed():
    frame = pl.DataFrame(
        {"account_id": ["sf:1", ""], "source_file": ["a.csv", "a.csv"], "source_row": ["2", "3"]}
    )
    none_failed = validate(frame.head(1), "accounts").rejected
    one_failed = validate(frame, "accounts").rejected
    assert (none_failed.height, one_failed.height) == (0, 1)
    assert none_failed.schema == one_failed.schema
    # without lineage columns the reject rows still name the file and the line
    bare = validate(pl.DataFrame({"account_id": ["sf:1"]}), "accounts", source_file="b.csv")
    assert (
        bare.rejected.schema
        == validate(
            pl.DataFrame({"account_id": [""]}), "accounts", source_file="b.csv"
        ).rejected.schema
    )


rows = st.fixed_dictionaries(
    {
        "person_id": st.one_of(st.none(), st.sampled_from(["", "sf:1", "sf:2", "hs:3", "x"])),
        "person_type": st.sampled_from(["lead", "contact", "bogus", None]),
        "email_normalized": st.one_of(st.none(), st.sampled_from(["a@b.com", "A@B.com", " x"])),
        "created_at": st.sampled_from(["2026-01-01T00:00:00", "not a date", None]),
        "is_converted": st.sampled_from(["true", "false", "perhaps", None]),
    }
)


@given(st.lists(rows, max_size=30))
def test_validate_never_drops_a_row(records):
    df = pl.DataFrame(
        records,
        schema={
            k: pl.String
            for k in ["person_id", "person_type", "email_normalized", "created_at", "is_converted"]
        },
    )
    res = validate(df, "people")
    assert res.n_valid + res.n_rejected == df.height
    assert res.valid.height == res.n_valid
    assert res.rejected.height == res.n_rejected
    assert res.rejected["reason"].null_count() == 0
    # rejected rows keep their original values and line numbers are unique
    assert res.rejected["source_row"].n_unique() == res.n_rejected
