"""Database foundations shared by every feature: metadata conventions and portable column types."""

from __future__ import annotations

import copy
import functools
import logging
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, MetaData, bindparam, event, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Session,
    configure_mappers,
    make_transient_to_detached,
    scoped_session,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.types import TypeDecorator

# Named constraints let Alembic drop or alter them later, SQLite batch mode included.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

log = logging.getLogger(__name__)


# Services take the session explicitly; Flask-SQLAlchemy hands out a scoped session proxy.
DbSession = Session | scoped_session[Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware.

    SQLite drops the offset of `DateTime(timezone=True)`, so values are normalised to UTC on the way
    in and UTC is re-attached on the way out; PostgreSQL's `timestamptz` behaves the same way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def json_type() -> Any:
    """A fresh JSON type. `MutableDict.as_mutable(t)` binds to every column sharing the instance
    `t`, so mutable columns each need their own."""
    return JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


_Row = TypeVar("_Row")


def as_loaded(model: type[_Row], values: Mapping[str, Any]) -> _Row:
    """An object of `model` holding these column values, marked as read from the database
    (detached; persistent once added to a session): a row kept in a cache, or one a session
    must not share, becomes an object again without a read.

    Built as the ORM's loader builds a row it reads (the values straight into the object's
    state), not through the constructor, whose attribute events cost more than the rest of a
    small request's work; a model whose columns have such events (a mutable JSON column, a
    validator) or that has a constructor of its own is built through the constructor."""
    plain = _plain_columns(model)
    if plain is None:
        row = model(**values)
    else:
        unknown = values.keys() - plain
        if unknown:
            raise TypeError(f"{model.__name__} has no column {sorted(unknown)[0]!r}")
        row = inspect(model).class_manager.new_instance()
        row.__dict__.update(values)
    make_transient_to_detached(row)
    return row


def _plain_columns(model: type[Any]) -> frozenset[str] | None:
    """`model`'s column attributes, when an object can be built by setting them directly: the
    model keeps the declarative constructor and no column has a listener on its changes."""
    if model not in _PLAIN:
        _PLAIN[model] = _find_plain_columns(model)
    return _PLAIN[model]


_PLAIN: dict[type[Any], frozenset[str] | None] = {}


def _find_plain_columns(model: type[Any]) -> frozenset[str] | None:
    configure_mappers()  # mutable types attach their listeners as the mappers are configured
    mapper = inspect(model)
    if mapper.class_manager.original_init is not Base.__init__:
        return None
    if any(attr.class_attribute.dispatch.set for attr in mapper.column_attrs):
        return None
    return frozenset(attr.key for attr in mapper.column_attrs)


def column_values(row: Any) -> dict[str, Any]:
    """A loaded row's column attributes by name: what `as_loaded` takes."""
    return {a.key: getattr(row, a.key) for a in inspect(type(row)).column_attrs}


def in_session(session: DbSession, model: type[_Row], values: Mapping[str, Any]) -> _Row:
    """The row these cached column values describe, as an object of `session`: the session's
    own when it holds one (its pending changes included; what a commit expired is filled in
    from the values, as a read would), else one built from the values and added as loaded,
    without a read. Lists and dicts are copied: a change the request makes in place must not
    change the cache."""
    key = identity_key(model, tuple(values[k] for k in _primary_key(model)))
    held: _Row | None = session.identity_map.get(key)
    if held is not None:
        for name in inspect(held).unloaded & values.keys():
            set_committed_value(held, name, _own(values[name]))
        return held
    row = as_loaded(model, {k: _own(v) for k, v in values.items()})
    session.add(row)
    return row


def _own(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, list | dict) else value


def _primary_key(model: type[Any]) -> tuple[str, ...]:
    if model not in _KEYS:
        mapper = inspect(model)
        _KEYS[model] = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
    return _KEYS[model]


_KEYS: dict[type[Any], tuple[str, ...]] = {}


def install_sqlite_pragmas(engine: Engine, *, statement_timeout_s: float = 0) -> None:
    """WAL, a busy timeout, enforced foreign keys and secure deletion for every SQLite connection.

    `secure_delete` overwrites the space a deleted or rewritten value leaves with zeros: without
    it, what an erasure blanks (docs/personal-data.md) stays readable in the database file's
    free space.

    pysqlite's own transaction handling would defer BEGIN until the first write; we issue
    `BEGIN IMMEDIATE` ourselves so that a write transaction takes the lock up front instead of
    failing half-way with "database is locked".

    With `statement_timeout_s` (web processes), a statement still running after that long is
    interrupted, as PostgreSQL's `statement_timeout` cancels one: SQLite has one writer, and a
    statement a request's input made huge would otherwise hold the write lock, and every other
    request behind it, until it ends.
    """
    if engine.dialect.name != "sqlite":
        return
    if statement_timeout_s > 0:
        _bound_sqlite_statements(engine, statement_timeout_s)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# SQLite calls the progress handler every this many virtual-machine steps of a statement: about
# a millisecond of work, so a deadline is noticed at once and checking it costs nothing.
_PROGRESS_STEPS = 10_000


def _bound_sqlite_statements(engine: Engine, timeout_s: float) -> None:
    """Each connection's deadline is set when a statement starts and lifted when its execution
    returns; the progress handler interrupts the statement past it (`sqlite3.OperationalError:
    interrupted`, rolled back like any failed statement)."""

    @event.listens_for(engine, "connect")
    def _handler(dbapi_connection: Any, record: Any) -> None:
        deadline = [math.inf]
        record.info["statement_deadline"] = deadline

        def past_deadline() -> int:
            if time.monotonic() <= deadline[0]:
                return 0
            deadline[0] = math.inf  # once: the rollback that follows must not be cut short too
            return 1

        dbapi_connection.set_progress_handler(past_deadline, _PROGRESS_STEPS)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, *_args: Any) -> None:
        deadline = conn.connection.info.get("statement_deadline")
        if deadline is not None:
            deadline[0] = time.monotonic() + timeout_s

    @event.listens_for(engine, "after_cursor_execute")
    def _done(conn: Any, *_args: Any) -> None:
        deadline = conn.connection.info.get("statement_deadline")
        if deadline is not None:
            deadline[0] = math.inf

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.connection is not None and not context.connection.invalidated:
            deadline = context.connection.connection.info.get("statement_deadline")
            if deadline is not None:
                deadline[0] = math.inf


def ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Prove a pooled connection alive with a round trip only when it sat in the pool for more
    than `idle_s` seconds.

    What a check at checkout is for (a server restarted, a proxy or firewall that dropped an idle
    connection) shows on connections left unused; `pool_pre_ping` pays its round trip on every
    checkout, that is on every request, webhook and task, for a connection used milliseconds
    earlier. A connection dropped while in use makes that one request fail as it would with a
    ping (the voice webhooks answer their apology, `telephony/degraded.py`); the disconnect
    error invalidates every older connection of the pool, so the next requests open fresh ones.
    A failed ping makes the pool discard the connection and hand out another (`DisconnectionError`
    in a checkout listener).

    A failure to open a connection (the server refusing connections during a restart or a
    failover, or unreachable) is a sign that the idle ones may be gone as well, though no request
    has used one yet: every connection that sat in the pool across such a failure is pinged
    before its next use, however short its idleness. Without this, the first callers after the
    database came back were handed a connection it had dropped and heard the apology.
    """
    connect_failed_at = [-math.inf]

    @event.listens_for(engine, "handle_error")
    def _note_connect_failure(context: Any) -> None:
        if context.connection is None and not context.is_pre_ping:
            connect_failed_at[0] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None:
            return
        if time.monotonic() - since <= idle_s and since > connect_failed_at[0]:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection is gone") from exc
        if not alive:
            raise DisconnectionError("the pooled connection is gone")


def release_session_safely(app: Any, session: scoped_session[Any]) -> None:
    """Close each request's session without letting a dead connection fail the response.

    When PostgreSQL drops a connection (a failover, `pg_terminate_backend`, a restart) after the
    view has answered, the ROLLBACK that closing the session issues raises, and Flask turns a
    good answer (a webhook's TwiML, a committed change) into a 500 that Twilio reads as an
    application error. Registered after Flask-SQLAlchemy, this teardown runs before its own: it
    closes the session, and if that fails it invalidates the connection (the pool opens a fresh
    one) and forgets the session, so the extension's teardown finds nothing left to close.
    """

    @app.teardown_appcontext
    def _release(_exc: BaseException | None) -> None:
        try:
            session.remove()
        except Exception:
            log.warning("closing the database session failed; its connection is dropped")
            try:
                session.registry().invalidate()
            except Exception:
                log.debug("invalidating the dropped connection failed too", exc_info=True)
            session.registry.clear()


def column_param(table: Any, column: str, name: str) -> Any:
    """A statement parameter `name` typed as `table`'s `column` and labelled as it, so enums,
    JSON and UTC times are bound as the ORM binds them (for INSERT … SELECT statements built
    once and executed with their values by name)."""
    return bindparam(name, type_=table.c[column].type).label(column)


def bulk_insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows at once, in the session's transaction, returning nothing.

    On PostgreSQL the rows travel by COPY, whose rows the driver formats in C: no SQL text that
    grows with the rows, nor Python-built arrays (a thousand rows of an SLA scan took 30-40 ms to
    convert as one array per column through `unnest`, against a few ms by COPY). Elsewhere, a
    plain executemany. Only the columns named by the first row are written; the others take
    their server defaults, as in any INSERT that leaves them out.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    import json

    dialect = session.get_bind().dialect
    names = list(rows[0])
    convert: list[Any] = []
    for name in names:
        sql_type = table.c[name].type
        if _is_json(sql_type):
            convert.append(lambda v: None if v is None else json.dumps(v))
        else:
            convert.append(sql_type.bind_processor(dialect))  # e.g. UTCDateTime's checks
    # Names come from the table's metadata, never from input; values travel as COPY data.
    columns = ", ".join(f'"{n}"' for n in names)
    driver = session.connection().connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    value if fn is None else fn(value)
                    for value, fn in zip((row.get(n) for n in names), convert, strict=True)
                ]
            )


def _is_json(sql_type: Any) -> bool:
    from sqlalchemy.types import JSON

    impl = getattr(sql_type, "impl", sql_type)
    return isinstance(sql_type, JSON) or isinstance(impl, JSON)


def insert_unless_present(
    session: Any, model: Any, values: dict[str, Any], *, key: list[str]
) -> Any:
    """`INSERT ... ON CONFLICT (key) DO NOTHING`: the new row's primary key, or None when a row
    with the same key is there already.

    For a webhook that Twilio delivers twice at once: on PostgreSQL the second insert waits for
    the first transaction, then does nothing (where a plain INSERT fails with a unique violation
    and the request with a 500); SQLite's write lock lets only one in at a time anyway. Column
    defaults apply as for any insert.
    """
    stmt = _insert_or_nothing(session, model, values, key)
    return session.scalar(stmt.returning(*model.__table__.primary_key.columns))


def insert_unless_present_row(
    session: Any, model: Any, values: dict[str, Any], *, key: list[str]
) -> Any:
    """The same, answering the new row as a loaded object of the session (INSERT ... RETURNING
    the whole row), or None: one statement where the key and a read-back would be two."""
    dialect = session.get_bind().dialect.name
    stmt = _insert_row_or_nothing(dialect, model, tuple(key))
    # Executed with its values as parameters, not built around them: the statement is made and
    # compiled once per model, which is most of what a copy of a webhook costs.
    return session.scalars(stmt, [values]).first()


@functools.cache
def _insert_row_or_nothing(dialect: str, model: Any, key: tuple[str, ...]) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(model)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(model)
    return stmt.on_conflict_do_nothing(index_elements=list(key)).returning(model)


def _insert_or_nothing(session: Any, model: Any, values: dict[str, Any], key: list[str]) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(model)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(model)
    return stmt.values(**values).on_conflict_do_nothing(index_elements=key)


_KEPT = "helpdesk.db.kept_after_commit"
_MEMO = "helpdesk.db.kept_memo"


@contextmanager
def kept_after_commit(session: Any) -> Iterator[None]:
    """Inside, a commit leaves the session's objects loaded instead of expiring them.

    For an API request that changes a row, commits, then answers with that row: what it wrote
    is what it answers, and reading it back cost a query on every accept and wrap-up. The
    session is the request's own and ends with it, so no later read sees stale values.

    The session's identity map holds its objects weakly: one that the service loaded and let go
    of (the agent's presence row, read and updated inside the accept) would leave it, and be read
    again by the answer. So what the map holds at each commit is kept alive until the block ends.
    """
    real = session() if isinstance(session, scoped_session) else session
    before = real.expire_on_commit
    real.expire_on_commit = False
    real.info[_KEPT] = []
    real.info[_MEMO] = {}
    try:
        yield
    finally:
        real.expire_on_commit = before
        real.info.pop(_KEPT, None)
        real.info.pop(_MEMO, None)


def kept_memo(session: Any) -> dict[Any, Any] | None:
    """Inside `kept_after_commit`, a dict that lives as long as the block: what the request has
    read once and will not see change before its answer (the caller of the call it accepts).
    None outside, where nothing may be remembered."""
    real = session() if isinstance(session, scoped_session) else session
    memo: dict[Any, Any] | None = real.info.get(_MEMO)
    return memo


@event.listens_for(Session, "after_commit")
def _hold_committed(session: Session) -> None:
    kept = session.info.get(_KEPT)
    if kept is not None:
        kept.extend(session.identity_map.values())


def write_rows(session: Any, statement: Any, params: Mapping[str, Any] | None = None) -> Any:
    """Run a Core INSERT, UPDATE or DELETE of a table in the session's transaction, after the
    flush the ORM's own statement would have made (the session's pending changes first, so rows
    are written and locked in the same order; none inside `no_autoflush`).

    The ORM's bulk path for the same statement on a model costs about a third more CPU: its
    compile state and its search of the identity map. A statement on the table skips it (one
    that names a model's attributes is the ORM's again: use the table's columns). Rows the
    session holds are not updated: the caller sets what it needs (`set_committed_value`)."""
    if session.autoflush:
        session.flush()  # nothing to do, and quickly, when nothing is pending
    return session.execute(statement, params)


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE or DELETE: how a compare-and-set learns whether it won."""
    return int(getattr(result, "rowcount", 0) or 0)
