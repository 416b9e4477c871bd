"""Rows a Core statement has just written, joined to the ORM session as if read back.

Why: the busiest writes (a new ticket, a comment) are single statements that return the new id;
the code that goes on with the row (files tied to a comment, the SLA clocks of a new ticket, the
API's answer) works with ORM objects. Building the object from the values the statement stored
and attaching it as loaded costs no read.

The session does not know these objects were new in its transaction: a rollback would only
expire them, and the row no longer exists (on SQLite the id may be handed out again, and the
stale object would then clash with the new one). So each attachment is noted with the transaction
it was made in, and a rollback of that transaction, or of a savepoint above it, takes the objects
out of the session again and expires the attributes a statement set on rows that stay.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached, scoped_session
from sqlalchemy.orm.attributes import set_committed_value

R = TypeVar("R")
_KEY = "helpdesk.written"


def attach(session: Any, row: R) -> R:
    """Add `row`, built in Python with the values the database now holds (new, or already
    marked as loaded by `helpdesk.db.as_loaded`), as a loaded row."""
    if inspect(row).key is None:
        make_transient_to_detached(row)
    session.add(row)
    _note(session, row, None)
    return row


def stored(session: Any, row: Any, **values: Any) -> None:
    """`row`'s attributes that a statement has just written: set, and marked as stored."""
    for name, value in values.items():
        set_committed_value(row, name, value)
    _note(session, row, tuple(values))


def _note(session: Any, row: Any, attributes: tuple[str, ...] | None) -> None:
    if isinstance(session, scoped_session):
        session = session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_KEY, []).append((transaction, row, attributes))


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _undo(session: Session, previous: SessionTransaction) -> None:
    notes = session.info.get(_KEY)
    if not notes:
        return
    kept = []
    for transaction, row, attributes in notes:
        if not _within(transaction, previous):
            kept.append((transaction, row, attributes))
        elif attributes is None:
            if row in session:
                session.expunge(row)
        elif row in session:
            session.expire(row, list(attributes))
    session.info[_KEY] = kept


@event.listens_for(Session, "after_commit")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
