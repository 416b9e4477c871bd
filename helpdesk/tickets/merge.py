"""A customer merged into another takes their tickets and their comments along: the customers
feature calls this through `customers.service.TICKETS_FOLLOW`, which the app fills."""

from __future__ import annotations

from sqlalchemy import update

from helpdesk.db import DbSession
from helpdesk.tickets.models import Comment, Ticket


def move_to_survivor(session: DbSession, *, source_id: int, target_id: int) -> None:
    """Point the duplicate's tickets and comments at the survivor (two statements)."""
    session.execute(
        update(Ticket).where(Ticket.requester_id == source_id).values(requester_id=target_id)
    )
    session.execute(
        update(Comment)
        .where(Comment.author_customer_id == source_id)
        .values(author_customer_id=target_id)
    )
