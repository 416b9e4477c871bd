"""What an agent records about a call while it rings, during it and at wrap-up: who the caller
is (an unknown number becomes a new customer or a new number of an existing one) and which ticket
the call is about (a new one, or an open ticket of the caller's).

Each function changes the call and the records it points to in one transaction and publishes
`call.updated` after commit, so every console showing the call (the agent's, a supervisor's)
follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from helpdesk.auth import permissions
from helpdesk.auth.models import User
from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer, CustomerEmail, CustomerKind, CustomerPhone
from helpdesk.customers.phones import try_e164
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import Conflict, Forbidden, NotFound, ValidationFailed
from helpdesk.events import FEED_CUSTOMERS, publish
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import UNRESOLVED, Channel, Priority, Status
from telephony.floor import FLOOR
from telephony.history import add_call_to_timeline
from telephony.models import Call, SmsMessage


def get_call(session: DbSession, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


def check_may_record(call: Call, user: User) -> None:
    """The agent on the call records it; supervisors may correct it. Others only read."""
    if call.agent_id != user.id and not user.has_role(*permissions.SUPERVISE):
        raise Forbidden("only the agent on this call or a supervisor may change it")


def caller_number(call: Call) -> str:
    """The customer's side of the call: who called in, or whom we dialled."""
    return call.from_number if call.direction == "inbound" else call.to_number


def _announce(session: DbSession, call: Call) -> None:
    rooms = [*FLOOR] + ([f"user:{call.agent_id}"] if call.agent_id else [])
    publish(
        session,
        "call.updated",
        rooms,
        {
            "call_id": call.id,
            "call_sid": call.call_sid,
            "customer_id": call.customer_id,
            "ticket_id": call.ticket_id,
        },
    )


def _attach(session: DbSession, call: Call, customer_id: int) -> None:
    had_customer = call.customer_id is not None
    call.customer_id = customer_id
    # A call that ended before its caller was known has no timeline entry yet.
    if call.ended_at is not None and not had_customer:
        add_call_to_timeline(session, call)


PROVISIONAL_TAGS = ("new-caller", "new-texter")


def is_unknown(card: dict[str, Any] | None) -> bool:
    """No customer, or only the contact recorded from the number when it first called or texted
    (named after the number and tagged `new-caller`/`new-texter`)."""
    return card is None or any(t in PROVISIONAL_TAGS for t in card.get("tags", ()))


def _provisional(session: DbSession, call: Call) -> Customer | None:
    if call.customer_id is None:
        return None
    customer = customers.get(session, call.customer_id)
    if not any(t in PROVISIONAL_TAGS for t in customer.tags):
        raise Conflict("this call already has a customer", code="call_has_customer")
    return customer


def create_caller(
    session: DbSession,
    *,
    call: Call,
    name: str,
    language: str,
    kind: CustomerKind = CustomerKind.PERSON,
    email: str = "",
    region: str = "FR",
) -> Customer:
    """An unknown caller becomes a customer: the contact recorded from their number gets its
    name, language and e-mail (or, for a call with no contact, a new customer is created)."""
    if not name.strip():
        raise ValidationFailed("a name is needed", fields={"name": "required"})
    customer = _provisional(session, call)
    if customer is None:
        number = try_e164(caller_number(call), region) or ""
        customer = customers.create(
            session,
            name=name,
            kind=kind,
            language=language,
            phones=[{"number": number, "label": "mobile"}] if number else [],
            emails=[email] if email.strip() else [],
            region=region,
            commit=False,
        )
        _attach(session, call, customer.id)
    else:
        customer.name = name.strip()
        customer.name_key = customers.name_key(customer.name)
        customer.language = language
        customer.kind = kind
        address = email.strip().lower()
        if address and address not in {e.email for e in customer.emails}:
            customer.emails.append(CustomerEmail(email=address, label="work"))
        customer.tag_rows = [t for t in customer.tag_rows if t.tag not in PROVISIONAL_TAGS]
        customer.updated_at = utcnow()
        publish(
            session,
            "customer.updated",
            [FEED_CUSTOMERS, f"customer:{customer.id}"],
            {"customer_id": customer.id},
        )
    _announce(session, call)
    session.commit()
    return customer


def _has_history(session: DbSession, customer_id: int, call: Call) -> bool:
    """Whether the contact holds more than this call: merging it then moves real records, which
    is a supervisor's decision (as merging customers is)."""
    from sqlalchemy import func

    from helpdesk.tickets.models import Ticket as TicketRow

    others = session.scalar(
        select(func.count(Call.id)).where(Call.customer_id == customer_id, Call.id != call.id)
    )
    tickets = session.scalar(
        select(func.count(TicketRow.id)).where(TicketRow.requester_id == customer_id)
    )
    texts = session.scalar(
        select(func.count(SmsMessage.id)).where(SmsMessage.customer_id == customer_id)
    )
    return bool(others or tickets or texts)


def link_caller(
    session: DbSession, *, call: Call, customer_id: int, actor: User, region: str = "FR"
) -> Customer:
    """The caller is an existing customer calling from a number we did not know: the contact
    recorded from that number is merged into their record (number, calls, texts, tickets and
    timeline follow), so the next call from it is recognised."""
    target = customers.get(session, customer_id)
    if target.erased_at is not None:
        raise ValidationFailed("invalid customer", fields={"customer_id": "customer was erased"})
    source = _provisional(session, call)
    if (
        source is not None
        and _has_history(session, source.id, call)
        and not actor.has_role(*permissions.SUPERVISE)
    ):
        raise Forbidden(
            "this contact has tickets, calls or texts of its own: a supervisor merges it",
            code="merge_needs_supervisor",
        )
    if source is not None and source.id == target.id:
        raise ValidationFailed(
            "same customer", fields={"customer_id": "this is the caller's contact"}
        )
    if source is None:
        number = try_e164(caller_number(call), region) or ""
        known = session.scalar(
            select(CustomerPhone.customer_id).where(CustomerPhone.e164 == number)
        )
        if number and known is None:
            target.phones.append(CustomerPhone(e164=number, label="mobile"))
        _attach(session, call, target.id)
        publish(
            session,
            "customer.updated",
            [FEED_CUSTOMERS, f"customer:{target.id}"],
            {"customer_id": target.id},
        )
    else:
        for model in (Call, SmsMessage):
            session.execute(
                update(model)
                .where(model.customer_id == source.id)
                .values(customer_id=target.id)
                .execution_options(synchronize_session=False)
            )
        source.tag_rows = [t for t in source.tag_rows if t.tag not in PROVISIONAL_TAGS]
        call.customer_id = target.id
        _announce(session, call)
        # Merging commits the whole change.
        return customers.merge(session, source=source, target=target, actor_id=actor.id)
    _announce(session, call)
    session.commit()
    return target


def open_ticket(
    session: DbSession,
    *,
    call: Call,
    actor: User,
    subject: str,
    description: str = "",
    priority: Priority = Priority.NORMAL,
) -> Ticket:
    """A new ticket about this call, assigned to the agent who took it."""
    if call.customer_id is None:
        raise ValidationFailed(
            "the caller is not identified",
            fields={"customer_id": "create or link the caller first"},
        )
    if not subject.strip():
        raise ValidationFailed("a subject is needed", fields={"subject": "required"})
    ticket = tickets.create(
        session,
        actor=actor,
        subject=subject,
        description=description,
        requester_id=call.customer_id,
        priority=priority,
        channel=Channel.PHONE,
        assignee_id=actor.id,
        status=Status.OPEN,
        commit=False,
    )
    call.ticket_id = ticket.id
    _announce(session, call)
    session.commit()
    return ticket


def link_ticket(
    session: DbSession,
    *,
    call: Call,
    actor: User,
    ticket_id: int,
    note: str = "",
    status: Status | None = None,
) -> Ticket:
    """The call is about an open ticket of the caller's: link it, and add what was said as an
    internal note (and a new status, if the call settled it)."""
    ticket = tickets.get(session, ticket_id)
    if call.customer_id is None or ticket.requester_id != call.customer_id:
        raise ValidationFailed(
            "not a ticket of this caller", fields={"ticket_id": "not one of the caller's tickets"}
        )
    if ticket.status not in UNRESOLVED and status is None:
        raise ValidationFailed("ticket is resolved", fields={"ticket_id": "not an open ticket"})
    call.ticket_id = ticket.id
    if note.strip() or status is not None:
        tickets.add_comment(
            session,
            ticket,
            body=note.strip() or f"Call {call.call_sid}",
            public=False,
            actor=actor,
            channel=Channel.PHONE,
            status=status,
            commit=False,
        )
    _announce(session, call)
    session.commit()
    return ticket


ARTICLE_TEXT = {
    "fr": "{title} : {url}",
    "en": "{title}: {url}",
}


@dataclass(frozen=True)
class ArticleLink:
    """A published public help-center article, as the knowledge base vouches for it: what a
    text to the caller names and links to."""

    id: int
    title: str
    locale: str


def text_article(
    session: DbSession,
    *,
    call: Call,
    article: ArticleLink,
    actor: User,
    public_base_url: str,
    sender: str,
) -> SmsMessage:
    """Text the caller the help-center link of a published public article (through the outbox,
    sent once), and note it on their timeline."""
    from helpdesk.timeline import service as timeline
    from telephony.sms import queue_sms

    number = caller_number(call)
    if not number:
        raise ValidationFailed("no number", fields={"article_id": "the caller has no number"})
    url = f"{public_base_url.rstrip('/')}/help/{article.locale}/articles/{article.id}"
    language = call.language if call.language in ARTICLE_TEXT else "en"
    body = ARTICLE_TEXT[language].format(title=article.title, url=url)
    message = queue_sms(
        session,
        to=number,
        from_number=sender,
        body=body,
        customer_id=call.customer_id,
        ticket_id=call.ticket_id,
        kind="article",
        author_user_id=actor.id,
    )
    if call.customer_id is not None and message.status != "opted_out":
        timeline.append(
            session,
            customer_id=call.customer_id,
            kind="sms",
            ticket_id=call.ticket_id,
            subject_type="sms",
            subject_id=message.id,
            summary=f"SMS sent: article {article.title}",
            data={"direction": "outbound", "article_id": article.id},
        )
    session.commit()
    return message
