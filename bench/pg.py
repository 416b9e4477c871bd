"""The local PostgreSQL server: creating and dropping the benchmark databases.

Benchmarks only ever talk to a server on the loopback interface; a URL naming another host is
refused so that `make bench` can never load a remote database with a million rows.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def server_url() -> str:
    """The server to use: `BENCH_PG_URL` (without a database name) or the local default."""
    url = os.environ.get("BENCH_PG_URL", DEFAULT_SERVER).rstrip("/")
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"benchmarks run on a loopback PostgreSQL only, not {host!r}")
    return url


def libpq_url(server: str, dbname: str) -> str:
    return f"{server}/{dbname}"


def sqlalchemy_url(server: str, dbname: str) -> str:
    """The same database in the form the application reads from `DATABASE_URL`."""
    return "postgresql+psycopg://" + libpq_url(server, dbname).split("://", 1)[1]


def admin(server: str) -> psycopg.Connection:
    return psycopg.connect(libpq_url(server, "postgres"), autocommit=True)


def create_database(server: str, dbname: str) -> None:
    """A fresh, empty database: an earlier one of the same name (an interrupted run) is dropped."""
    with admin(server) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def drop_database(server: str, dbname: str) -> None:
    with admin(server) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


def database_exists(server: str, dbname: str) -> bool:
    with admin(server) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
    return row is not None


def server_version(server: str) -> str:
    with admin(server) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"
