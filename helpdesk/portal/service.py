"""What a signed-in customer may do: see their own requests and the public side of each, reply,
open a new one; and the portal session itself (look up, language, sign out).

Every read is scoped by the customer's id in the query: a ticket of someone else is "not found",
whatever id is asked for. Internal notes are never read here at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.portal import tokens
from helpdesk.portal.models import PortalSession
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment, Ticket
from helpdesk.tickets.workflow import Channel

LIST_LIMIT = 200
SUBJECT_MAX = 250
BODY_MAX = 20000


@dataclass(frozen=True)
class Signed:
    """The customer a portal session belongs to, and the session's language."""

    customer: Customer
    session_id: int
    locale: str


def signed_in(session: DbSession, *, key: str) -> Signed | None:
    """The live session this secret names, if any (ended, expired or erased: none)."""
    if not key:
        return None
    row = session.scalar(select(PortalSession).where(PortalSession.key_hash == tokens.digest(key)))
    if row is None or row.ended_at is not None or utcnow() >= row.expires_at:
        return None
    customer = session.get(Customer, row.customer_id)
    if customer is None or customer.erased_at is not None or customer.merged_into_id is not None:
        return None
    return Signed(customer=customer, session_id=row.id, locale=tokens.locale_or(row.locale))


def sign_out(session: DbSession, *, key: str) -> None:
    session.execute(
        update(PortalSession)
        .where(PortalSession.key_hash == tokens.digest(key), PortalSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    session.commit()


def set_locale(session: DbSession, *, signed: Signed, locale: str) -> None:
    session.execute(
        update(PortalSession)
        .where(PortalSession.id == signed.session_id)
        .values(locale=tokens.locale_or(locale))
    )
    session.commit()


def own_tickets(session: DbSession, *, customer_id: int) -> list[Ticket]:
    """The customer's own requests, last changed first (not their company's)."""
    stmt = (
        select(Ticket)
        .where(Ticket.requester_id == customer_id)
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(LIST_LIMIT)
    )
    return list(session.scalars(stmt))


def own_ticket(session: DbSession, *, customer_id: int, ticket_id: int) -> Ticket:
    ticket: Ticket | None = session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.requester_id == customer_id)
    )
    if ticket is None:
        raise NotFound("ticket not found")
    return ticket


def public_comments(session: DbSession, *, ticket: Ticket) -> list[Comment]:
    """The public conversation, oldest first: never an internal note."""
    return [c for c in tickets.comments(session, ticket, include_internal=False) if c.public]


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed(f"{field} is empty", fields={field: "must not be empty"})
    if len(text) > limit:
        raise ValidationFailed(f"{field} is too long", fields={field: f"at most {limit}"})
    return text


def reply(session: DbSession, *, customer_id: int, ticket_id: int, body: str) -> Comment:
    """The customer's public reply: it reopens a solved ticket and reaches agents live."""
    ticket = own_ticket(session, customer_id=customer_id, ticket_id=ticket_id)
    return tickets.add_comment(
        session,
        ticket,
        body=_text(body, "body", BODY_MAX),
        public=True,
        author_customer_id=customer_id,
        channel=Channel.WEB,
    )


def open_request(session: DbSession, *, customer_id: int, subject: str, description: str) -> Ticket:
    return tickets.create(
        session,
        actor=None,
        subject=_text(subject, "subject", SUBJECT_MAX),
        description=_text(description, "description", BODY_MAX),
        requester_id=customer_id,
        channel=Channel.WEB,
    )
