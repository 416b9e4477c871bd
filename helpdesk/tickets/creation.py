"""A new ticket's rows, written by one statement: the ticket, its history entry, its timeline
entry and its tags, with the requester's check as the statement's first part.

Why: through the ORM a create was a SELECT for the requester and a flush per row, and each
statement costs 0.4-0.8 ms of CPU in the ORM, the engine and the driver whatever the database does
with it; that was two thirds of the create. Here the rows are built once, as INSERT … SELECT
statements over a one-row source that carries the ticket's id:

- on PostgreSQL they are parts of one data-modifying WITH query, one round trip: the requester's
  row (live, not merged, not erased) is the source of the ticket's INSERT, so a requester who cannot
  hold a ticket makes the statement write nothing and answer no row;
- SQLite has no data-modifying WITH, and in process there is no round trip to save: the same
  statements run one after the other, each over the id the previous one returned.

The ticket's reference is part of its timeline summary, and the id is not known to Python before
the statement runs: `reference_sql` words it in SQL from the same prefix and offset as
`workflow.reference_for` (a test holds the two together).
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
    String,
    bindparam,
    cast,
    insert,
    literal,
    select,
    true,
    union_all,
)

from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, column_param
from helpdesk.tickets.models import Ticket, TicketChange, TicketTag
from helpdesk.tickets.workflow import REFERENCE_OFFSET, REFERENCE_PREFIX, Channel, Priority, Status
from helpdesk.timeline.models import TimelineEntry
from helpdesk.timeline.service import SUMMARY_MAX, summarise

_TICKETS = Ticket.__table__
_CUSTOMERS = Customer.__table__
_CHANGES = TicketChange.__table__
_TIMELINE = TimelineEntry.__table__
_TAGS = TicketTag.__table__
# Room left in a timeline summary for the reference and its space ("T-" and up to 12 digits).
_REFERENCE_ROOM = 16


@dataclass(frozen=True)
class NewTicket:
    """What a create writes, checked already but for the requester."""

    subject: str
    description: str
    status: Status
    priority: Priority
    channel: Channel
    requester_id: int
    assignee_id: int | None
    group_id: int | None
    created_by_id: int | None
    at: datetime
    tags: tuple[str, ...]

    def history(self) -> dict[str, list[Any]]:
        """The history entry's changes: every field a new ticket starts with, from nothing."""
        return {
            "status": [None, self.status.value],
            "priority": [None, self.priority.value],
            "assignee_id": [None, self.assignee_id],
            "group_id": [None, self.group_id],
        }


@dataclass(frozen=True)
class Written:
    ticket_id: int
    requester_name: str


def reference_sql(ticket_id: ColumnElement[int]) -> ColumnElement[str]:
    """`workflow.reference_for` in SQL, for a statement that names a ticket it is creating."""
    return literal(REFERENCE_PREFIX, String) + cast(ticket_id + REFERENCE_OFFSET, String)


def insert_ticket(session: DbSession, new: NewTicket) -> Written | None:
    """Write the ticket and what comes with it in the session's transaction; None (and nothing
    written) when the requester is missing, merged or erased."""
    values = {_P + k: v for k, v in _values(new).items()}
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(_one_statement(len(new.tags)), values).one_or_none()
        return None if row is None else Written(row[0], row[1])
    found = session.execute(_requester(), values).one_or_none()
    if found is None:
        return None
    ticket_id = session.execute(_ticket(_REQUESTER_ID), values).scalar_one()
    values[_P + "ticket_id"] = ticket_id
    for part in _dependents(len(new.tags), _TICKET_ID):
        session.execute(part, values)
    return Written(ticket_id, found[1])


def _values(new: NewTicket) -> dict[str, Any]:
    """The statements' parameters, by name."""
    subject = summarise(new.subject, SUMMARY_MAX - _REFERENCE_ROOM)
    values: dict[str, Any] = {
        "subject": new.subject,
        "description": new.description,
        "status": new.status,
        "priority": new.priority,
        "channel": new.channel,
        "requester_id": new.requester_id,
        "assignee_id": new.assignee_id,
        "group_id": new.group_id,
        "created_by_id": new.created_by_id,
        "at": new.at,
        "changes": new.history(),
        "summary_tail": f" {subject}" if subject else "",
        "data": {"channel": new.channel.value, "priority": new.priority.value},
    }
    values.update({f"tag_{i}": tag for i, tag in enumerate(new.tags)})
    return values


# Parameter names: never a column's name, or a statement could take them as a column's value.
_P = "new_"
# The statements are built once per shape (dialect, number of tags), their values bound by name
# at each execution: building and compiling them again per ticket cost as much as the ORM's flush.
_REQUESTER_ID = select(bindparam(_P + "requester_id", type_=Integer).label("id")).subquery()
_TICKET_ID = select(bindparam(_P + "ticket_id", type_=Integer).label("id")).subquery()


def _bound(table: Any, column: str, name: str | None = None) -> ColumnElement[Any]:
    return column_param(table, column, _P + (name or column))  # type: ignore[no-any-return]


@functools.cache
def _one_statement(tags: int) -> Select[int, str]:
    requester = _requester().cte("requester")
    ticket = _ticket(requester).cte("new_ticket")
    parts = [part.cte(f"new_ticket_{i}") for i, part in enumerate(_dependents(tags, ticket))]
    return (
        select(ticket.c.id, requester.c.name)
        .select_from(ticket.join(requester, true()))
        .add_cte(*parts)
    )


@functools.cache
def _requester() -> Select[int, str]:
    c = _CUSTOMERS.c
    return select(c.id, c.name).where(
        c.id == bindparam(_P + "requester_id", type_=Integer),
        c.merged_into_id.is_(None),
        c.erased_at.is_(None),
    )


_TICKET_COLUMNS = {
    "subject": "subject",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "channel": "channel",
    "assignee_id": "assignee_id",
    "group_id": "group_id",
    "created_by_id": "created_by_id",
    "created_at": "at",
    "updated_at": "at",
}


def _ticket(source: FromClause) -> Insert:
    columns = [_bound(_TICKETS, c, p) for c, p in _TICKET_COLUMNS.items()]
    rows = select(*columns, source.c.id).select_from(source)
    return (
        insert(_TICKETS)
        .from_select([*_TICKET_COLUMNS, "requester_id"], rows)
        .returning(_TICKETS.c.id)
    )


@functools.cache
def _dependents(tags: int, source: FromClause) -> list[Insert]:
    """The rows that name the ticket: its history entry, its timeline entry, its tags."""
    ticket_id = source.c.id
    change = ["actor_user_id", "changes", "at"]
    change_values = [
        _bound(_CHANGES, "actor_user_id", "created_by_id"),
        _bound(_CHANGES, "changes"),
        _bound(_CHANGES, "at"),
    ]
    summary = reference_sql(ticket_id) + bindparam(_P + "summary_tail", type_=String)
    entry = ["customer_id", "occurred_at", "data"]
    entry_values = [
        _bound(_TIMELINE, "customer_id", "requester_id"),
        _bound(_TIMELINE, "occurred_at", "at"),
        _bound(_TIMELINE, "data"),
    ]
    parts = [
        insert(_CHANGES).from_select(
            ["ticket_id", "action", "note", *change],
            select(ticket_id, literal("created"), literal(""), *change_values).select_from(source),
        ),
        insert(_TIMELINE).from_select(
            ["ticket_id", "subject_id", "summary", "kind", "subject_type", *entry],
            select(
                ticket_id,
                ticket_id,
                summary,
                literal("ticket_created"),
                literal("ticket"),
                *entry_values,
            ).select_from(source),
        ),
    ]
    if tags:
        rows = [
            select(ticket_id, bindparam(f"{_P}tag_{i}", type_=String)).select_from(source)
            for i in range(tags)
        ]
        chosen = rows[0] if tags == 1 else union_all(*rows)
        parts.append(insert(_TAGS).from_select(["ticket_id", "tag"], chosen))
    return parts
