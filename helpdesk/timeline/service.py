"""Appending to and reading a customer's timeline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, literal, select, tuple_

from helpdesk.db import DbSession, UTCDateTime, utcnow
from helpdesk.pagination import decode_cursor, encode_cursor
from helpdesk.timeline.models import TimelineEntry

SUMMARY_MAX = 300
_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


def summarise(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def append(
    session: DbSession,
    *,
    customer_id: int,
    kind: str,
    summary: str,
    occurred_at: datetime | None = None,
    ticket_id: int | None = None,
    subject_type: str = "",
    subject_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Add an entry in the caller's transaction (it commits with the change it describes)."""
    entry = TimelineEntry(
        customer_id=customer_id,
        kind=kind,
        summary=summarise(summary, SUMMARY_MAX),
        occurred_at=occurred_at or utcnow(),
        ticket_id=ticket_id,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data or {},
    )
    session.add(entry)
    return entry


def page(
    session: DbSession,
    *,
    customer_id: int,
    cursor: str | None = None,
    limit: int = 50,
    kinds: Iterable[str] | None = None,
) -> tuple[list[TimelineEntry], str | None]:
    """Newest first, `limit` entries from `cursor`; returns the entries and the next cursor.

    One indexed query whatever the page depth: the cursor holds the (occurred_at, id) of the last
    entry served and the next page starts strictly below it.
    """
    stmt = _page_query(select(TimelineEntry), customer_id, cursor, limit, kinds)
    return _with_cursor(list(session.scalars(stmt)), limit)


def summary_page(
    session: DbSession, *, customer_id: int, limit: int
) -> tuple[list[Any], str | None]:
    """The first page as plain rows of what a caller screen shows (id, kind, occurred_at,
    summary, ticket_id, and the data each console words the entry from): the same query and
    cursor as `page`, without building an entity per entry, which cost more than the query on
    every screen pop."""
    columns = select(
        TimelineEntry.id,
        TimelineEntry.kind,
        TimelineEntry.occurred_at,
        TimelineEntry.summary,
        TimelineEntry.ticket_id,
        TimelineEntry.data,
    )
    stmt = _page_query(columns, customer_id, None, limit, None)
    return _with_cursor(list(session.execute(stmt).all()), limit)


def _page_query(
    stmt: _S,
    customer_id: int,
    cursor: str | None,
    limit: int,
    kinds: Iterable[str] | None,
) -> _S:
    stmt = stmt.where(TimelineEntry.customer_id == customer_id)
    if kinds:
        stmt = stmt.where(TimelineEntry.kind.in_(list(kinds)))
    if cursor:
        at, last_id = decode_cursor(cursor, (datetime, int))
        # A row-value comparison, which the (customer_id, occurred_at, id) index can seek to;
        # the equivalent OR of two conditions makes PostgreSQL read every skipped row.
        stmt = stmt.where(
            tuple_(TimelineEntry.occurred_at, TimelineEntry.id)
            < tuple_(literal(at, UTCDateTime), literal(last_id))
        )
    return stmt.order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()).limit(limit + 1)


def _with_cursor(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    """The page (one row more was read to tell whether another page follows) and its cursor."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].occurred_at, rows[-1].id)
