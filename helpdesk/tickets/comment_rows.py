"""A comment's rows, written by one statement: the comment, its history entry, its timeline entry
and the ticket's `updated_at`.

Why: through the ORM a comment was an INSERT flushed for its id, then two INSERTs and an UPDATE
at the commit, each 0.4-0.8 ms of CPU in the ORM, the engine and the driver. Every reply, note,
customer text and e-mail reply goes through here.

- On PostgreSQL the rows are parts of one data-modifying WITH query, one round trip; the history
  entry names the comment's id, which only the database knows then, so that JSON is built in SQL.
- SQLite has no data-modifying WITH, and in process there is no round trip to save: the comment's
  INSERT returns its id, then the other rows are written with it.

Both build their values in `_values`, once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Insert,
    Integer,
    Select,
    bindparam,
    func,
    insert,
    literal,
    null,
    select,
    update,
)

from helpdesk.db import DbSession, column_param
from helpdesk.tickets.models import Comment, Ticket, TicketChange
from helpdesk.tickets.workflow import Channel
from helpdesk.timeline.models import TimelineEntry
from helpdesk.timeline.service import SUMMARY_MAX, summarise

_COMMENTS = Comment.__table__
_CHANGES = TicketChange.__table__
_TIMELINE = TimelineEntry.__table__
_TICKETS = Ticket.__table__


@dataclass(frozen=True)
class NewComment:
    """A comment as checked and routed by the ticket service."""

    ticket_id: int
    requester_id: int
    reference: str
    body: str
    public: bool
    channel: Channel
    author_user_id: int | None
    author_customer_id: int | None
    author_name: str
    at: datetime
    delivery_channel: str | None
    delivery_to: str | None
    delivery_status: str | None

    def history(self, comment_id: int | None) -> dict[str, list[Any]]:
        return {"comment_id": [None, comment_id]}


def insert_comment(session: DbSession, new: NewComment) -> int:
    """Write the comment and what comes with it in the session's transaction; its id."""
    values = {_P + k: v for k, v in _values(new).items()}
    if session.get_bind().dialect.name == "postgresql":
        return int(session.execute(_one_statement(), values).scalar_one())
    comment_id = int(session.execute(_comment(), values).scalar_one())
    values[_P + "comment_id"] = comment_id
    values[_P + "changes"] = new.history(comment_id)
    for part in _dependents(_COMMENT_ID, in_sql=False):
        session.execute(part, values)
    return comment_id


def _values(new: NewComment) -> dict[str, Any]:
    return {
        "ticket_id": new.ticket_id,
        "requester_id": new.requester_id,
        "body": new.body,
        "public": new.public,
        "channel": new.channel,
        "author_user_id": new.author_user_id,
        "author_customer_id": new.author_customer_id,
        "at": new.at,
        "delivery_channel": new.delivery_channel,
        "delivery_to": new.delivery_to,
        "delivery_status": new.delivery_status,
        "action": "reply" if new.public else "note",
        "kind": "ticket_reply" if new.public else "ticket_note",
        "summary": summarise(f"{new.reference} {new.author_name}: {new.body}", SUMMARY_MAX),
        "data": {"public": new.public, "from_customer": new.author_customer_id is not None},
    }


_COMMENT_COLUMNS = {
    "ticket_id": "ticket_id",
    "body": "body",
    "public": "public",
    "channel": "channel",
    "author_user_id": "author_user_id",
    "author_customer_id": "author_customer_id",
    "created_at": "at",
    "delivery_channel": "delivery_channel",
    "delivery_to": "delivery_to",
    "delivery_status": "delivery_status",
}
# Parameter names: never a column's name, or an UPDATE would take them as values to SET.
_P = "new_"
_COMMENT_ID = select(bindparam(_P + "comment_id", type_=Integer).label("id")).subquery()


def _bound(table: Any, column: str, name: str | None = None) -> ColumnElement[Any]:
    return column_param(table, column, _P + (name or column))  # type: ignore[no-any-return]


@functools.cache
def _comment() -> Insert:
    return (
        insert(_COMMENTS)
        .values(
            {c: bindparam(_P + p, type_=_COMMENTS.c[c].type) for c, p in _COMMENT_COLUMNS.items()}
        )
        .returning(_COMMENTS.c.id)
    )


@functools.cache
def _one_statement() -> Select[int]:
    comment = _comment().cte("new_comment")
    parts = [part.cte(f"new_comment_{i}") for i, part in enumerate(_dependents(comment, True))]
    return select(comment.c.id).add_cte(*parts)


@functools.cache
def _dependents(source: FromClause, in_sql: bool) -> list[Any]:
    """The comment's history entry and timeline entry, and the ticket's `updated_at`."""
    comment_id = source.c.id
    changes = (
        func.jsonb_build_object("comment_id", func.jsonb_build_array(null(), comment_id))
        if in_sql
        else _bound(_CHANGES, "changes")
    )
    entry = ["customer_id", "occurred_at", "kind", "summary", "data"]
    return [
        insert(_CHANGES).from_select(
            ["ticket_id", "actor_user_id", "action", "note", "at", "changes"],
            select(
                _bound(_CHANGES, "ticket_id"),
                _bound(_CHANGES, "actor_user_id", "author_user_id"),
                _bound(_CHANGES, "action"),
                literal(""),
                _bound(_CHANGES, "at"),
                changes,
            ).select_from(source),
        ),
        insert(_TIMELINE).from_select(
            ["ticket_id", "subject_type", "subject_id", *entry],
            select(
                _bound(_TIMELINE, "ticket_id"),
                literal("comment"),
                comment_id,
                _bound(_TIMELINE, "customer_id", "requester_id"),
                _bound(_TIMELINE, "occurred_at", "at"),
                _bound(_TIMELINE, "kind"),
                _bound(_TIMELINE, "summary"),
                _bound(_TIMELINE, "data"),
            ).select_from(source),
        ),
        update(_TICKETS)
        .where(_TICKETS.c.id == bindparam(_P + "ticket_id", type_=Integer))
        .values(updated_at=bindparam(_P + "at", type_=_TICKETS.c.updated_at.type)),
    ]
