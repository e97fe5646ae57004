"""Backends for the engine tests: polars and DuckDB always, Spark when marked ``spark``.

Spark runs in local mode bound to 127.0.0.1 with the quiet settings from
docs/scaling.md; ``make test-engines`` installs the extras and runs the ``spark`` tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest

BACKENDS = [
    "polars",
    "duckdb",
    pytest.param("spark", marks=pytest.mark.spark),
]

ToEngine = Callable[[pl.DataFrame], Any]


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("closedloop_kit-tests")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.structuredLogging.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(params=BACKENDS)
def to_engine(request: pytest.FixtureRequest) -> Iterator[ToEngine]:
    """A function that puts a polars DataFrame on the backend under test."""
    if request.param == "polars":
        yield lambda df: df.lazy()
    elif request.param == "duckdb":
        duckdb = pytest.importorskip("duckdb")
        con = duckdb.connect()
        con.execute("set TimeZone = 'UTC'")
        yield lambda df: con.from_arrow(df.to_arrow())
        con.close()
    else:
        spark = request.getfixturevalue("spark_session")
        yield lambda df: spark.createDataFrame(df.to_arrow())
