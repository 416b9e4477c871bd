"""The DuckDB adapter: the only module that imports duckdb.

An in-process DuckDB on its own connection per use, with one view per warehouse table named as
the table, over its Parquet files. A table with no file yet is an empty view of the right
types, so every query works on a fresh install and returns nothing rather than failing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from helpdesk.warehouse import layout, schema

THREADS = 2  # the analytics page shares the machine with the call center

Connection = duckdb.DuckDBPyConnection  # for readers' type hints: they never import duckdb


def sql_type(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ"
    simple = {
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.int16(): "SMALLINT",
        pa.int8(): "TINYINT",
        pa.float64(): "DOUBLE",
        pa.string(): "VARCHAR",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    return simple[kind]


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def view_sql(root: Path, table: str) -> str:
    """The view of one table: its files, or no rows of the same columns."""
    columns = schema.TABLES[table]
    names = ", ".join(f'"{f.name}"' for f in columns)
    if layout.table_files(root, table):
        if table in schema.FACTS:
            glob = root / table / f"month=*/{layout.PARTITION_FILE}"
            source = f"read_parquet({_literal(glob)}, hive_partitioning = true)"
        else:
            source = f"read_parquet({_literal(layout.dimension_path(root, table))})"
        # Names come from the schema and the path is quoted: no outside text reaches the SQL.
        return f'CREATE OR REPLACE VIEW "{table}" AS SELECT {names} FROM {source}'  # noqa: S608
    empty = ", ".join(f'CAST(NULL AS {sql_type(f.type)}) AS "{f.name}"' for f in columns)
    return f'CREATE OR REPLACE VIEW "{table}" AS SELECT {empty} WHERE false'


class Warehouse:
    """The warehouse under `root`, queried with SQL over the tables' names."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def open(self) -> duckdb.DuckDBPyConnection:
        """A connection with every table's view; the caller closes it (see `connect`)."""
        conn = duckdb.connect(":memory:", config={"threads": THREADS})
        try:
            conn.execute("SET TimeZone = 'UTC'")
            for table in schema.TABLES:
                conn.execute(view_sql(self.root, table))
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        conn = self.open()
        try:
            yield conn
        finally:
            conn.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of one query, as dicts (a page's few dozen rows, not a table's millions)."""
        with self.connect() as conn:
            return fetch(conn, sql, params)


def fetch(
    conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, list(params))
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def arrow(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> pa.Table:
    """A query's result as an Arrow table (for the customer models' training sets)."""
    return conn.execute(sql, list(params)).fetch_arrow_table()
