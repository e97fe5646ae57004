"""Load the tables a connector landed in a warehouse, with the same readers as for files.

``clk.load`` hands a DuckDB connection, an Ibis backend or a URI (``duckdb:///crm.db``,
``snowflake://…``, ``bigquery://…``, ``postgres://…``) to :func:`load_warehouse`. Every
table is read as Arrow and written to a private staging folder in the form its reader
already reads (text tables as CSV, GA4's nested BigQuery export as Parquet), then the
registered reader of the connector's schema (Fivetran names the schema after the
connector: ``salesforce``, ``hubspot``; GA4's BigQuery export is ``analytics_<id>`` with
``events_YYYYMMDD`` tables) or, failing that, auto-detection maps it exactly as it maps
a file. So a warehouse and a folder of exports give the same canonical tables, rejects
and report; the report's ``path`` is ``<redacted uri>#schema.table``.

Credentials never leave this module: :func:`redact_uri` replaces passwords, tokens and
keys in every path, note, error message and lineage column, and ``${VAR}`` in a URI is
read from the environment at connect time so notebooks never hold a secret.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import polars as pl

from closedloop_kit._core.progress import progress as progress_bar
from closedloop_kit.errors import MissingDependencyError, SourceFormatError
from closedloop_kit.io._result import LoadResult, combine_results

__all__ = ["is_warehouse", "load_warehouse", "redact_uri"]

_SECRET_KEYS = re.compile(r"pass|pwd|secret|token|key|credential|auth|sig", re.IGNORECASE)
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "temp")
_GA4_TABLE = re.compile(r"^events_(intraday_)?\d{8}$")


def redact_uri(uri: str) -> str:
    """The URI with its password and secret query values replaced by ``***``.

    Examples
    --------
    >>> redact_uri("snowflake://ann:s3cr3t@acme/db/crm?warehouse=wh&token=abc")
    'snowflake://ann:***@acme/db/crm?warehouse=wh&token=***'
    >>> redact_uri("duckdb:///data/crm.db")
    'duckdb:///data/crm.db'
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable connection string>"
    netloc = parts.netloc
    changed = False
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        changed = ":" in userinfo
        netloc = f"{user}:***@{host}" if changed else netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        changed = changed or any(_SECRET_KEYS.search(k) for k, _ in pairs)
        query = urlencode(
            [(k, "***" if _SECRET_KEYS.search(k) else v) for k, v in pairs], safe="*${}"
        )
    if not changed:
        return uri
    head = f"{parts.scheme}://{netloc}{parts.path}"
    return head + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def is_warehouse(source: object) -> bool:
    """True for a DuckDB connection, an Ibis backend or a ``scheme://`` URI (not a path)."""
    if isinstance(source, str):
        return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://", source)) and not source.startswith(
            "file://"
        )
    mod = type(source).__module__
    return mod.startswith(("duckdb", "_duckdb", "ibis"))


@dataclass(frozen=True)
class _Table:
    schema: str
    name: str


class _Source:
    """A connection that can list tables and hand each one over as Arrow."""

    def __init__(self, con: Any, label: str, *, ibis: bool) -> None:
        self.con = con
        self.label = label
        self.ibis = ibis

    def tables(self) -> list[_Table]:
        if self.ibis:
            return [_Table("", name) for name in sorted(self.con.list_tables())]
        rows = self.con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type in ('BASE TABLE', 'VIEW') order by 1, 2"
        ).fetchall()
        return [_Table(s, t) for s, t in rows if str(s).lower() not in _SYSTEM_SCHEMAS]

    def is_nested(self, table: _Table) -> bool:
        """Whether the table has list/struct columns (GA4's ``event_params``)."""
        if self.ibis:
            schema = self.con.table(table.name).schema()
            return any(t.is_nested() for t in schema.types)
        rows = self.con.execute(
            "select data_type from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [table.schema, table.name],
        ).fetchall()
        return any(("[]" in t or "STRUCT" in t.upper() or "MAP" in t.upper()) for (t,) in rows)

    def stage(self, table: _Table, path: Path) -> None:
        """Write the table to ``path`` (CSV text or Parquet, by suffix)."""
        if self.ibis:
            frame = pl.from_arrow(self.con.table(table.name).to_pyarrow())
            assert isinstance(frame, pl.DataFrame)
            if path.suffix == ".parquet":
                frame.write_parquet(path)
            else:
                frame.select(pl.all().cast(pl.String)).write_csv(path)
            return
        # DuckDB streams the table to the file itself: nothing is held in Python
        fmt = "(format parquet)" if path.suffix == ".parquet" else "(format csv, header true)"
        target = "'" + str(path).replace("'", "''") + "'"
        self.con.execute(
            f"copy (select * from {_ident(table.schema)}.{_ident(table.name)}) to {target} {fmt}"
        )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def _connect(source: Any) -> Iterator[_Source]:
    if not isinstance(source, str):
        is_ibis = type(source).__module__.startswith("ibis")
        label = f"{type(source).__module__.split('.')[0]}://<connection>"
        yield _Source(source, label, ibis=is_ibis)
        return
    label = redact_uri(source)
    uri = os.path.expandvars(source)  # ${SECRET} from the environment, never the notebook
    scheme = urlsplit(uri).scheme.lower()
    if scheme == "duckdb":
        try:
            import duckdb
        except ImportError:
            msg = f"reading {label} needs DuckDB: `pip install closedloop_kit[duckdb]`"
            raise MissingDependencyError(msg) from None
        # SQLAlchemy's form: duckdb:///relative.db, duckdb:////absolute/path.db
        parts = urlsplit(uri)
        path = (parts.netloc + parts.path).removeprefix("/")
        if path and path != ":memory:" and not Path(path).exists():
            msg = f"{label}: no DuckDB database at that path"
            raise SourceFormatError(msg, path=label)
        con = duckdb.connect(path or ":memory:", read_only=bool(path and path != ":memory:"))
        try:
            yield _Source(con, label, ibis=False)
        finally:
            con.close()
        return
    try:
        import ibis
    except ImportError:
        msg = (
            f"reading {label} needs Ibis with the {scheme!r} backend (`pip install "
            f"'ibis-framework[{scheme}]'`); DuckDB files work with closedloop_kit[duckdb]"
        )
        raise MissingDependencyError(msg) from None
    try:
        con = ibis.connect(uri)
    except Exception as exc:  # the driver's message may quote the URI with its password
        msg = (
            f"cannot connect to {label}: {type(exc).__name__} (details withheld: they may "
            "hold credentials)"
        )
        raise SourceFormatError(msg, path=label) from None
    yield _Source(con, label, ibis=True)


def _reader_for(table: _Table) -> str | None:
    """The reader a Fivetran / BigQuery-export schema or table name points to."""
    schema = table.schema.lower()
    if _GA4_TABLE.match(table.name.lower()) or schema.startswith("analytics_"):
        return "ga4"
    for name in ("salesforce", "hubspot", "marketo", "pardot"):
        if name in schema:
            return name
    return None


def _stage(src: _Source, folder: Path, table: _Table, reader: str | None) -> Path:
    """Write the table in the form its reader reads: nested → Parquet, flat → CSV text."""
    sub = folder / (table.schema or "tables")
    sub.mkdir(parents=True, exist_ok=True)
    nested = reader == "ga4" or src.is_nested(table)
    path = sub / f"{table.name}.{'parquet' if nested else 'csv'}"
    src.stage(table, path)
    return path


def _relabel(result: LoadResult, staged: Path, name: str) -> LoadResult:
    """Replace the staging path (and file name) by ``name`` in every string column."""

    def fix(frame: pl.DataFrame) -> pl.DataFrame:
        cols = [c for c, d in frame.schema.items() if d == pl.String]
        if not cols or frame.height == 0:
            return frame
        return frame.with_columns(
            pl.col(c)
            .str.replace_all(str(staged), name, literal=True)
            .str.replace_all(staged.name, name, literal=True)
            for c in cols
        )

    return LoadResult(
        tables={k: fix(v) for k, v in result.tables.items()},
        rejected=fix(result.rejected),
        report=fix(result.report),
    )


def load_warehouse(
    source: Any,
    *,
    tables: list[str] | None = None,
    options: dict[str, Any] | None = None,
    progress: bool = True,
) -> LoadResult:
    """Read every table of a warehouse connection with the registered readers.

    Parameters
    ----------
    source
        A DuckDB connection, an Ibis backend, or a URI: ``duckdb:///path/to/file.db``,
        or any Ibis backend URI (``snowflake://user:${SNOWFLAKE_PASSWORD}@account/db/
        schema``, ``bigquery://project/dataset``, ``postgres://…``), ``${VAR}`` read from
        the environment.
    tables
        Only these tables (``schema.table`` or ``table``); default all.
    options
        Reader options, as in a YAML load config (``tz``, ``currency``…).
    progress
        Show a progress bar.

    Returns
    -------
    LoadResult
        As for files; ``report.path`` is ``<redacted uri>#schema.table``.
    """
    from closedloop_kit.io._load import read_path

    opts = dict(options or {})
    with _connect(source) as src, tempfile.TemporaryDirectory(prefix="clk-wh-") as tmp:
        folder = Path(tmp)
        listed = src.tables()
        if tables is not None:
            wanted = set(tables)
            listed = [t for t in listed if t.name in wanted or f"{t.schema}.{t.name}" in wanted]
        results: list[LoadResult] = []
        bar = progress_bar(
            total=len(listed), desc="loading", unit="table", enabled=progress and len(listed) > 1
        )
        try:
            for table in listed:
                reader = _reader_for(table)
                staged = _stage(src, folder, table, reader)
                res = read_path(staged, reader, opts)
                if reader is not None and res.report["reader"].to_list() == ["unknown"]:
                    res = read_path(staged, None, opts)  # the schema name misled us
                where = f"{src.label}#{table.schema}.{table.name}" if table.schema else src.label
                results.append(_relabel(res, staged, where))
                bar.update(1)
        finally:
            bar.close()
    return combine_results(results) if results else LoadResult()
