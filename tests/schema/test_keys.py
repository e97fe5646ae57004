import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop_kit.schema import (
    is_valid_salesforce_id,
    salesforce_id18,
    salesforce_id18_expr,
    salesforce_id_problem_expr,
)

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def test_known_18_char_ids_from_a_real_data_loader_export(shared_fixtures):
    # Account.csv was written by Salesforce Data Loader: every id is already 18-char
    # case-safe, so recomputing the suffix from the first 15 must give it back.
    df = pl.read_csv(
        shared_fixtures / "salesforce-data-loader-examples/data/initial/csv/Account.csv",
        infer_schema=False,
    )
    ids = df["ID"].to_list()
    assert ids
    for sf_id in ids:
        assert salesforce_id18(sf_id[:15]) == sf_id


def test_hand_computed_suffix():
    # 001A0000006Vm9r: blocks 001A0 / 000006V / ... upper-case positions:
    # block 1 "001A0": A at position 3 -> 0b01000 = 8 -> 'I'
    # block 2 "00000": none -> 0 -> 'A'
    # block 3 "6Vm9r": V at position 1 -> 0b00010 = 2 -> 'C'
    assert salesforce_id18("001A0000006Vm9r") == "001A0000006Vm9rIAC"


def test_checksum_failure_and_malformed():
    assert not is_valid_salesforce_id("001A0000006Vm9rIAD")
    with pytest.raises(ValueError, match="fails its checksum"):
        salesforce_id18("001A0000006Vm9rIAD")
    with pytest.raises(ValueError, match="15 or 18 letters and digits"):
        salesforce_id18("001A0000006Vm9")
    reasons = pl.select(
        salesforce_id_problem_expr(
            pl.lit(pl.Series(["001A0000006Vm9rIAD", "abc", None, "001A0000006Vm9r"]))
        )
    ).to_series()
    assert reasons[0].endswith("fails its 18-character checksum")
    assert reasons[1].startswith("not a Salesforce id")
    assert reasons[2] is None
    assert reasons[3] is None


@given(st.text(alphabet=ALNUM, min_size=15, max_size=15))
def test_expression_matches_scalar(base):
    expected = salesforce_id18(base)
    got = pl.select(salesforce_id18_expr(pl.lit(base))).item()
    assert got == expected
    # the 18-char form is a fixed point, and the lowercase-insensitive suffix is accepted
    assert salesforce_id18(expected) == expected
    assert is_valid_salesforce_id(expected[:15] + expected[15:].lower())


ID_TEXT = st.one_of(
    st.none(),
    st.text(alphabet=ALNUM, min_size=15, max_size=18),
    st.text(min_size=0, max_size=20),  # anything: unicode, spaces, short, long
)


@given(st.lists(ID_TEXT, max_size=40), st.integers(1, 400))
def test_vectorised_suffix_and_problem_match_the_scalar_rule(values, repeat):
    """The numpy suffix (plain, null-skipping and distinct-value paths) equals the loop."""
    from closedloop_kit.schema.keys import salesforce_suffix_expr

    # repeating the list exercises the distinct-value path once it passes 10,000 ids
    series = pl.Series(
        "id", values * repeat if len(values) * repeat > 10_000 else values, dtype=pl.String
    )
    out = pl.DataFrame({"id": series}).select(
        salesforce_suffix_expr(pl.col("id")).alias("sfx"),
        salesforce_id18_expr(pl.col("id")).alias("id18"),
        salesforce_id_problem_expr(pl.col("id")).alias("problem"),
    )
    for v, sfx, id18, problem in zip(series.to_list(), *out.get_columns(), strict=True):
        base_ok = v is not None and len(v) >= 15 and all(c in ALNUM for c in v[:15])
        expected_sfx = salesforce_id18(v[:15])[15:] if base_ok else None
        assert sfx == expected_sfx
        if v is None:
            assert id18 is None
            assert problem is None
            continue
        valid = is_valid_salesforce_id(v)
        assert (id18 is not None) == valid == (problem is None)
        if valid:
            assert id18 == salesforce_id18(v)
