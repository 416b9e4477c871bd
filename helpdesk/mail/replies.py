"""An agent's public reply on a ticket, leaving by e-mail: the "email" channel of
`helpdesk.tickets.delivery`.

`reach` says where a reply would go: the address the customer last wrote from on this ticket
(a customer may have several, and answers go back where the question came from), else their
first address on file. `deliver` writes the message into the outbox in the reply's transaction
and returns its Message-ID, under which the outbox (sent, failed) and the bounce handling
(bounced) report the reply's delivery.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.db import DbSession
from helpdesk.errors import ValidationFailed
from helpdesk.mail import compose, outbox
from helpdesk.mail.models import Attachment, MailMessage


def _last_written_from(session: DbSession, ticket_id: int) -> str | None:
    found = session.scalar(
        select(MailMessage.from_address)
        .where(
            MailMessage.ticket_id == ticket_id,
            MailMessage.direction == "inbound",
            MailMessage.kind == "message",
        )
        .order_by(MailMessage.id.desc())
        .limit(1)
    )
    return str(found) if found else None


def reply_address(session: DbSession, ticket: Any) -> str | None:
    from helpdesk.customers.models import CustomerEmail

    last = _last_written_from(session, ticket.id)
    if last:
        return last
    first = session.scalar(
        select(CustomerEmail.email)
        .where(CustomerEmail.customer_id == ticket.requester_id)
        .order_by(CustomerEmail.id)
        .limit(1)
    )
    return str(first) if first else None


def reply_reach(session: DbSession, ticket: Any) -> Any:
    """What e-mail can do for a ticket's customer (`helpdesk.tickets.delivery.Reach`)."""
    from helpdesk.tickets.delivery import Reach

    return Reach(channel="email", to=reply_address(session, ticket))


def _language(session: DbSession, customer_id: int | None) -> str:
    from helpdesk.customers.models import Customer

    if customer_id is None:
        return "en"
    found = session.scalar(select(Customer.language).where(Customer.id == customer_id))
    return str(found or "en")


def deliver_reply(session: DbSession, ticket: Any, comment: Any) -> str:
    """Queue the reply as an e-mail in the ticket's thread; returns its Message-ID."""
    from helpdesk.auth.models import User

    to = comment.delivery_to or reply_address(session, ticket)
    if to is None:
        raise ValidationFailed(
            "the customer has no e-mail address", fields={"body": "no address to write to"}
        )
    in_reply_to, references = outbox.thread_headers(session, ticket.id)
    # A ticket subject typed with line breaks (the API takes any text) is one line here; a line
    # break that reached the outbox itself would be refused as a header injection.
    subject = compose.reply_subject(
        compose.one_line(ticket.subject), ticket.reference, reply=in_reply_to is not None
    )
    author = session.get(User, comment.author_user_id) if comment.author_user_id else None
    files = session.scalars(select(Attachment.id).where(Attachment.comment_id == comment.id))
    row = outbox.queue_message(
        session,
        to=to,
        subject=subject,
        text=comment.body,
        ticket=ticket,
        comment=comment,
        customer_id=ticket.requester_id,
        author=author,
        language=_language(session, ticket.requester_id),
        in_reply_to=in_reply_to,
        references=references,
        attachment_ids=list(files),
    )
    return row.message_id
