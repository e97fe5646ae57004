"""``clk.load`` on a warehouse: DuckDB databases built from the connector fixtures.

The tables are landed the way Fivetran lands them (schema named after the connector,
one table per object, typed columns) and the GA4 events as BigQuery's export
(``analytics_<id>.events_YYYYMMDD`` with nested ``event_params``). Loading the database
must give the same canonical rows as reading the files, and no credential may appear in
anything the load returns or raises.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.errors import ClosedLoopError
from closedloop_kit.io import read_ga4, read_hubspot, read_salesforce
from closedloop_kit.io.warehouse import is_warehouse, load_warehouse, redact_uri

duckdb = pytest.importorskip("duckdb")

SF = ["account", "contact", "opportunity"]
HS = ["contact", "company", "deal"]


def _seeds(shared: Path, name: str) -> Path:
    return shared / name / "integration_tests" / "seeds"


@pytest.fixture
def crm_db(shared_fixtures: Path, tmp_path: Path) -> Path:
    db = tmp_path / "crm.db"
    con = duckdb.connect(str(db))
    con.execute("create schema salesforce; create schema hubspot")
    for t in SF:
        f = _seeds(shared_fixtures, "dbt_salesforce") / f"sf_{t}_data.csv"
        con.execute(f"create table salesforce.{t} as select * from read_csv_auto('{f}')")
    for t in HS:
        f = _seeds(shared_fixtures, "dbt_hubspot") / f"{t}_data.csv"
        con.execute(f"create table hubspot.{t} as select * from read_csv_auto('{f}')")
    con.close()
    return db


def _ids(frame: pl.DataFrame, col: str) -> list[str]:
    return sorted(frame[col].drop_nulls().to_list())


# the connector fixtures are fragments (one contact, no account): the loader's low join-rate
# warning is expected and asserted in tests/io/test_fixtures.py
LOW_JOINS = pytest.mark.filterwarnings(
    "ignore:low join rate:closedloop_kit.errors.DataQualityWarning"
)


@LOW_JOINS
def test_duckdb_file_gives_the_same_rows_as_the_files(crm_db: Path, shared_fixtures: Path) -> None:
    data = clk.load(f"duckdb:///{crm_db}", progress=False)
    report = data.load_report
    # every table read by the reader its schema names, and it reconciles
    assert sorted(report["reader"].unique().to_list()) == ["hubspot", "salesforce"]
    assert (
        report["rows_read"] == report["rows_kept"] + report["rows_rejected"] + report["rows_merged"]
    ).all()
    assert report.filter(pl.col("path").str.ends_with("#salesforce.opportunity")).height == 1
    sf = _seeds(shared_fixtures, "dbt_salesforce")
    hs = _seeds(shared_fixtures, "dbt_hubspot")
    opps = read_salesforce(sf / "sf_opportunity_data.csv")["opportunities"]
    assert set(_ids(opps, "opportunity_id")) <= set(_ids(data.opportunities, "opportunity_id"))
    accounts = read_salesforce(sf / "sf_account_data.csv")["accounts"]
    hs_accounts = read_hubspot(hs / "company_data.csv")["accounts"]
    assert _ids(data.accounts, "account_id") == sorted(
        _ids(accounts, "account_id") + _ids(hs_accounts, "account_id")
    )
    sf_people = read_salesforce(sf / "sf_contact_data.csv")["people"]
    hs_people = read_hubspot(hs / "contact_data.csv")["people"]
    people = set(_ids(data.people, "person_id"))
    assert set(_ids(sf_people, "person_id")) <= people
    assert set(_ids(hs_people, "person_id")) <= people
    deals = read_hubspot(hs / "deal_data.csv")["opportunities"]
    assert set(_ids(deals, "opportunity_id")) <= set(_ids(data.opportunities, "opportunity_id"))
    # the same rejects as the file (two 17-character contact ids)
    want = read_salesforce(sf / "sf_contact_data.csv").rejected
    got = data.rejected.filter(pl.col("source_file").str.ends_with("#salesforce.contact"))
    assert sorted(got["reason"].to_list()) == sorted(want["reason"].to_list())
    assert want.height == 2
    # lineage names the warehouse table, not the staging file
    assert data.people["source_file"].str.starts_with("duckdb:///").all()
    assert not data.people["source_file"].str.contains("clk-wh-").any()


def test_connection_object_and_table_filter(crm_db: Path) -> None:
    con = duckdb.connect(str(crm_db), read_only=True)
    res = load_warehouse(con, tables=["salesforce.account", "deal"], progress=False)
    con.close()
    # salesforce.account by schema.table, hubspot.deal by table name alone
    assert sorted(res.report["reader"].to_list()) == ["hubspot", "salesforce"]
    assert res.report.filter(pl.col("reader") == "salesforce")["object"].to_list() == ["Account"]
    assert res.report.height == 2


def _bigquery_types(events: pl.DataFrame) -> pl.DataFrame:
    """The JSON export's strings typed as BigQuery's table schema (INT64, full value struct)."""
    value = pl.element().struct.field("value")
    params = pl.col("event_params").list.eval(
        pl.struct(
            pl.element().struct.field("key"),
            pl.struct(
                value.struct.field("string_value"),
                value.struct.field("int_value").cast(pl.Int64),
                pl.lit(None, pl.Float64).alias("float_value"),
                pl.lit(None, pl.Float64).alias("double_value"),
            ).alias("value"),
        )
    )
    return events.with_columns(
        params.alias("event_params"),
        pl.col("event_timestamp", "user_first_touch_timestamp").cast(pl.Int64),
        pl.col("user_id").cast(pl.String),
    )


def test_ga4_bigquery_export_table(sample_data_dir: Path, tmp_path: Path) -> None:
    days = sorted((sample_data_dir / "ga4").glob("events_2025010*.json"))[:2]
    db = tmp_path / "ga4.db"
    con = duckdb.connect(str(db))
    con.execute("create schema analytics_123456")
    for f in days:
        events = _bigquery_types(pl.read_ndjson(f, infer_schema_length=None))  # noqa: F841
        con.execute(f"create table analytics_123456.{f.stem} as select * from events")
    con.close()
    data = clk.load(f"duckdb:///{db}", progress=False)
    assert data.load_report["reader"].unique().to_list() == ["ga4"]
    # one table per day, as the warehouse holds them: the same as reading each day's file
    want = pl.concat([read_ga4(f)["touchpoints"] for f in days])
    got = data.touchpoints
    assert got.height == want.height
    assert sorted(got["touchpoint_id"].to_list()) == sorted(want["touchpoint_id"].to_list())


SECRET = "hunter2-Sup3rS3cret"


def test_redact_uri() -> None:
    assert SECRET not in redact_uri(f"snowflake://ann:{SECRET}@acme/db?warehouse=wh")
    assert SECRET not in redact_uri(f"duckdb:///x.db?motherduck_token={SECRET}")
    assert redact_uri("postgres://bob@db.example.com/crm") == "postgres://bob@db.example.com/crm"
    assert is_warehouse("duckdb:///x.db")
    assert not is_warehouse("sample_data/")


@LOW_JOINS
def test_credentials_never_leak(crm_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a token in the URI: the load report and lineage show it redacted
    uri = f"duckdb:///{crm_db}?motherduck_token={SECRET}"
    data = clk.load(uri, progress=False)
    frames = [data.load_report, data.rejected, *data.tables.values()]
    for frame in frames:
        for col, dtype in frame.schema.items():
            if dtype == pl.String:
                assert not frame[col].str.contains(SECRET, literal=True).any(), col
    # errors: a missing file, a backend that is not installed, a failing connection
    with pytest.raises(ClosedLoopError) as err:
        clk.load(f"duckdb:///{crm_db}.missing?token={SECRET}", progress=False)
    assert SECRET not in str(err.value)
    with pytest.raises((ClosedLoopError, ImportError)) as err2:
        clk.load(f"snowflake://ann:{SECRET}@acme/db/crm", progress=False)
    assert SECRET not in str(err2.value)
    assert err2.value.__cause__ is None
    # ${VAR} comes from the environment and is never shown
    monkeypatch.setenv("CLK_TEST_TOKEN", SECRET)
    data2 = clk.load(f"duckdb:///{crm_db}?motherduck_token=${{CLK_TEST_TOKEN}}", progress=False)
    assert not data2.load_report["path"].str.contains(SECRET, literal=True).any()
