"""The help center's contact form: a request from someone who has no account to sign in with.

The sender is matched to a customer by e-mail address (case does not matter) or made one; the
request opens a web ticket in one transaction with the acknowledgement, which goes out by e-mail
when this installation has a mail channel. The acknowledgement names the reference, so a reply
to it threads into the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import func, select

from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.db import DbSession
from helpdesk.errors import ValidationFailed
from helpdesk.portal import tokens
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel

NAME_MAX = 200
SUBJECT_MAX = 250
MESSAGE_MAX = 20000

ACK_TEXT = {
    "en": "We have received your request and will answer it as soon as we can.\n\n{message}",
    "fr": "Nous avons bien reçu votre demande et y répondrons dès que possible.\n\n{message}",
}


@dataclass(frozen=True)
class ContactRequest:
    name: str
    email: str
    subject: str
    message: str
    locale: str


def check(raw: ContactRequest) -> ContactRequest:
    """Each field present and within bounds; the address readable as one."""
    fields: dict[str, str] = {}
    for field, value, limit in (
        ("name", raw.name, NAME_MAX),
        ("subject", raw.subject, SUBJECT_MAX),
        ("message", raw.message, MESSAGE_MAX),
    ):
        if not value.strip():
            fields[field] = "must not be empty"
        elif len(value.strip()) > limit:
            fields[field] = f"at most {limit} characters"
    address = tokens.read_address(raw.email)
    if address is None or address.channel != "email":
        fields["email"] = "not an e-mail address"
    if fields:
        raise ValidationFailed("invalid contact request", fields=fields)
    return ContactRequest(
        name=raw.name.strip(),
        email=raw.email.strip().lower(),
        subject=raw.subject.strip(),
        message=raw.message.strip(),
        locale=tokens.locale_or(raw.locale),
    )


def _sender(session: DbSession, request: ContactRequest) -> Customer:
    found: Customer | None = session.scalar(
        select(Customer)
        .join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
        .where(
            func.lower(CustomerEmail.email) == request.email,
            Customer.merged_into_id.is_(None),
            Customer.erased_at.is_(None),
        )
        .order_by(Customer.updated_at.desc(), Customer.id.desc())
        .limit(1)
    )
    if found is not None:
        return found
    return customers.create(
        session,
        name=request.name,
        language=request.locale,
        emails=[request.email],
        commit=False,
    )


def submit(session: DbSession, *, request: ContactRequest) -> Ticket:
    """Open the ticket (and the customer where none has the address); acknowledge by e-mail."""
    request = check(request)
    customer = _sender(session, request)
    ticket = tickets.create(
        session,
        actor=None,
        subject=request.subject,
        description=request.message,
        requester_id=customer.id,
        channel=Channel.WEB,
        commit=False,
    )
    if has_app_context() and current_app.extensions.get("mail_transport") is not None:
        from helpdesk.mail import outbox

        outbox.queue_message(
            session,
            to=request.email,
            subject=request.subject,
            text=ACK_TEXT[request.locale].format(message=request.message),
            ticket=ticket,
            customer_id=customer.id,
            kind="ack",
            auto=True,
            language=request.locale,
        )
    session.commit()
    return ticket
