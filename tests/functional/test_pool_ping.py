"""A pooled connection is checked with a round trip only after sitting idle: one used moments
ago goes out unchecked, one the server dropped while it sat idle is replaced before a request
sees it, one dropped while in use fails once and takes the pool's older connections with it, and
one that sat in the pool while connections were refused is checked before its next use."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from helpdesk.db import ping_when_idle

IDLE_S = 0.3


def _engine(url: str, monkeypatch: pytest.MonkeyPatch, **options: Any) -> tuple[Any, list[int]]:
    engine = create_engine(url, pool_size=2, max_overflow=0, **options)
    ping_when_idle(engine, IDLE_S)
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return engine, pings


def _backend_pid(conn: Any) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(database: Any, pid: int) -> None:
    with database.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()


@pytest.mark.parametrize("which", ["sqlite_db", "pg_db"])
def test_a_connection_used_moments_ago_is_not_pinged_an_idle_one_is(request, which, monkeypatch):
    engine, pings = _engine(request.getfixturevalue(which).url, monkeypatch)
    try:
        for _ in range(5):
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert pings == []
        time.sleep(IDLE_S + 0.2)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert len(pings) == 1
    finally:
        engine.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(pg_db, monkeypatch):
    engine, pings = _engine(pg_db.url, monkeypatch)
    try:
        with engine.connect() as conn:
            pid = _backend_pid(conn)
        _terminate(pg_db, pid)
        time.sleep(IDLE_S + 0.2)
        with engine.connect() as conn:
            assert _backend_pid(conn) != pid  # no error: the ping found it gone
        assert len(pings) == 1
    finally:
        engine.dispose()


def test_a_connection_dropped_in_use_fails_once_then_the_pool_starts_afresh(pg_db, monkeypatch):
    engine, _pings = _engine(pg_db.url, monkeypatch)
    try:
        with engine.connect() as first, engine.connect() as second:
            pids = {_backend_pid(first), _backend_pid(second)}
        for pid in pids:
            _terminate(pg_db, pid)
        with pytest.raises(DBAPIError) as failed, engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
        # The disconnect invalidated the other pooled connection too: no second failure.
        with engine.connect() as first, engine.connect() as second:
            assert {_backend_pid(first), _backend_pid(second)}.isdisjoint(pids)
    finally:
        engine.dispose()


def test_a_connection_idle_while_the_server_refused_connections_is_checked_before_use(
    pg_db, monkeypatch
):
    """The server restarts: it drops the idle connections and refuses new ones for a moment.
    A request that needed a new connection then failed; the connection dropped while idle, used
    moments before, must not be handed to the first request once the server is back."""
    import psycopg

    refusing = [False]

    def connect() -> Any:
        if refusing[0]:
            raise psycopg.OperationalError("the database system is starting up")
        return psycopg.connect(pg_db.url.replace("postgresql+psycopg://", "postgresql://"))

    engine, pings = _engine("postgresql+psycopg://", monkeypatch, creator=connect)
    try:
        with engine.connect() as stale, engine.connect() as idle:
            pid = _backend_pid(idle)
            _backend_pid(stale)
            stale.connection.invalidate(soft=True)  # reopened at its next checkout
            stale.close()  # queued first: the next checkout opens a connection
        _terminate(pg_db, pid)
        refusing[0] = True
        with pytest.raises(OperationalError), engine.connect():
            pass
        refusing[0] = False
        assert pings == []
        with engine.connect() as conn:  # the connection dropped while idle, well within IDLE_S
            assert _backend_pid(conn) != pid
        assert len(pings) == 1
    finally:
        engine.dispose()
