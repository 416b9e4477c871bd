"""Inbound texts: each recorded once, then handed to the feature it belongs to, answered as a
keyword, or threaded into the customer's open conversation ticket.

Twilio never retries an SMS webhook but may deliver copies of one at once: the row is inserted
unless present (keyed by `MessageSid`), and only the copy that inserted it acts on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer
from helpdesk.customers.phones import try_e164
from helpdesk.db import DbSession, insert_unless_present, utcnow
from helpdesk.events import FEED_SMS, publish
from helpdesk.texts.service import render
from helpdesk.timeline import service as timeline
from helpdesk.webhooks import emit as emit_webhook
from telephony import webhook_payloads
from telephony.models import SmsMessage
from telephony.routing import language_for
from telephony.sms import SmsSettings, handled_elsewhere, queue_sms
from telephony.sms_keywords import answer_keyword, keyword_of
from telephony.sms_text import Keyword, segments

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()
    opt_out_type: str = ""  # Twilio Advanced Opt-Out: STOP, START or HELP


def receive(session: DbSession, msg: InboundSms, settings: SmsSettings) -> SmsMessage:
    """Record an inbound text and act on it, once: a retried webhook finds the first row, and
    copies of it at once insert one row (the others find it once the first commits)."""
    existing = _existing(session, msg.message_sid)
    if existing is not None:
        return existing
    number = try_e164(msg.from_number, settings.region) or msg.from_number
    row, inserted = _record(session, msg, number)
    if not inserted:
        return row
    # Too many texts from one number in a short time: recorded, but no new ticket or reply.
    # Counted for the new text only, not for each copy of its webhook.
    row.flooded = _flooded(settings, number)
    kw = keyword_of(msg.body, msg.opt_out_type)
    if not row.flooded and kw is None and handled_elsewhere(session, row):
        _publish_received(session, row, {"customer_id": row.customer_id})
        session.commit()
        return row
    customer = _customer_for(session, number, settings.region)
    row.customer_id = customer.id
    if kw is not None:
        _keyword(session, row, kw, customer)
    else:
        _thread(session, row, customer, settings)
    _publish_received(session, row, {"customer_id": customer.id, "flooded": row.flooded})
    session.commit()
    return row


def _existing(session: DbSession, message_sid: str) -> SmsMessage | None:
    found: SmsMessage | None = session.scalar(
        select(SmsMessage).where(SmsMessage.message_sid == message_sid)
    )
    return found


def _record(session: DbSession, msg: InboundSms, number: str) -> tuple[SmsMessage, bool]:
    """The text's row, and whether this call inserted it (False: a copy of the webhook did)."""
    seg = segments(msg.body)
    row_id = insert_unless_present(
        session,
        SmsMessage,
        {
            "message_sid": msg.message_sid,
            "direction": "inbound",
            "from_number": number,
            "to_number": msg.to_number,
            "body": msg.body,
            "media_urls": list(msg.media_urls),
            "segments": seg.count,
            "encoding": seg.encoding,
            "status": "received",
            "created_at": utcnow(),
        },
        key=["message_sid"],
    )
    if row_id is None:
        session.commit()
        again = _existing(session, msg.message_sid)
        if again is None:  # ON CONFLICT gives way only to a committed row
            raise RuntimeError(f"text {msg.message_sid} conflicted with no row")
        return again, False
    row = session.get(SmsMessage, row_id)
    if row is None:
        raise RuntimeError(f"text {msg.message_sid} inserted but not found")
    return row, True


def _publish_received(session: DbSession, row: SmsMessage, extra: dict[str, Any]) -> None:
    publish(
        session,
        "sms.received",
        [FEED_SMS] + ([f"ticket:{row.ticket_id}"] if row.ticket_id else []),
        {"sms_id": row.id, "ticket_id": row.ticket_id, **extra},
    )
    emit_webhook(session, "sms.received", webhook_payloads.sms_received(row))


def _flooded(settings: SmsSettings, number: str) -> bool:
    """Whether this number is over its flood limit. The counters live in Redis when scaled out;
    Twilio never retries an SMS webhook, so a Redis outage must not cost the text: the limit
    fails open (the text is treated as not flooded) and says so in the log."""
    if settings.limiter is None:
        return False
    try:
        return not settings.limiter.hit(settings.limit, "sms-in", number)
    except Exception:
        log.warning("SMS flood limit unavailable; text from %s accepted unlimited", number)
        return False


def _keyword(session: DbSession, row: SmsMessage, kw: Keyword, customer: Customer) -> None:
    row.kind = f"keyword:{kw.kind}"
    answer_keyword(session, row, kw, customer, quiet=row.flooded)
    timeline.append(
        session,
        customer_id=customer.id,
        kind="sms",
        subject_type="sms",
        subject_id=row.id,
        summary=f"SMS {kw.kind.upper()}: {row.body}",
        data={"direction": "inbound", "keyword": kw.kind},
    )


def _customer_for(session: DbSession, number: str, region: str) -> Customer:
    found = customers.lookup_by_phone(session, number, region=region)
    if found:
        return found[0]
    return customers.create(
        session,
        name=number,
        language=language_for(number),
        phones=[number] if try_e164(number, region) else [],
        tags=["new-texter"],
        region=region,
        commit=False,
    )


def _open_conversation(session: DbSession, customer_id: int) -> Any:
    """The SMS ticket a customer's text threads into: their latest unresolved one, else their
    latest solved one (the text reopens it, as any customer reply does). A closed ticket is
    final, so a text after it opens a new conversation."""
    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.workflow import UNRESOLVED, Channel, Status

    return session.scalar(
        select(Ticket)
        .where(
            Ticket.requester_id == customer_id,
            Ticket.channel == Channel.SMS,
            Ticket.status.in_([*UNRESOLVED, Status.SOLVED]),
        )
        .order_by((Ticket.status == Status.SOLVED).asc(), Ticket.id.desc())
        .limit(1)
        .with_for_update()
    )


def _thread(session: DbSession, row: SmsMessage, customer: Customer, settings: SmsSettings) -> None:
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Channel

    # Serialise per customer on PostgreSQL so that two texts at once open one conversation.
    session.scalar(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    ticket = _open_conversation(session, customer.id)
    body = row.body + ("".join(f"\n[media] {u}" for u in row.media_urls) if row.media_urls else "")
    if ticket is None and row.flooded:
        return  # a flood opens no conversation; the rows are still recorded
    new = ticket is None
    if ticket is None:
        first_words = " ".join(row.body.split()[:8]) or "(media)"
        ticket = tickets.create(
            session,
            actor=None,
            subject=f"SMS: {first_words}"[:250],
            description=body,
            requester_id=customer.id,
            channel=Channel.SMS,
            commit=False,
        )
    else:
        tickets.add_comment(
            session,
            ticket,
            body=body or "(media)",
            author_customer_id=customer.id,
            channel=Channel.SMS,
            commit=False,
        )
    row.ticket_id = ticket.id
    if new and not row.flooded and not _acked_recently(session, ticket.id, settings.ack_period_s):
        reply = render(session, "sms.ack", customer.language, reference=ticket.reference)
        queue_sms(
            session,
            to=row.from_number,
            from_number=row.to_number,
            body=reply,
            customer_id=customer.id,
            ticket_id=ticket.id,
            kind="ack",
        )


def _acked_recently(session: DbSession, ticket_id: int, period_s: int) -> bool:
    return (
        session.scalar(
            select(SmsMessage.id)
            .where(
                SmsMessage.ticket_id == ticket_id,
                SmsMessage.kind == "ack",
                SmsMessage.created_at > utcnow() - timedelta(seconds=period_s),
            )
            .limit(1)
        )
        is not None
    )
