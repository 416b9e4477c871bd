"""Inbound texts: each recorded once, then handed to the feature it belongs to, answered as a
keyword, or threaded into the customer's open conversation ticket.

Twilio never retries an SMS webhook but may deliver copies of one at once: the row is inserted
unless present (keyed by `MessageSid`), and only the copy that inserted it acts on it.

Each step is one statement where it can be: the insert answers the row it wrote (a copy's
insert answers nothing, and that is all a copy costs), the sender's customer comes locked with
whether an acknowledgement went to them lately and whether they opted out, and the text's row is
updated once with its customer and ticket. Nothing is read after the commit; the commit's events
leave in one round trip to Redis (`helpdesk.events`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import lazyload

from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer
from helpdesk.customers.phones import try_e164
from helpdesk.db import DbSession, insert_unless_present_row, utcnow
from helpdesk.events import FEED_SMS, publish
from helpdesk.texts.service import render
from helpdesk.timeline import service as timeline
from helpdesk.webhooks import emit as emit_webhook
from telephony import webhook_payloads
from telephony.models import SmsMessage
from telephony.routing import language_for
from telephony.sms import SmsSettings, handled_elsewhere, queue_sms
from telephony.sms_keywords import answer_keyword, keyword_of
from telephony.sms_optout import opted_out
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


def receive(
    session: DbSession,
    msg: InboundSms,
    settings: SmsSettings,
    *,
    received_at: datetime | None = None,
) -> SmsMessage | None:
    """Record an inbound text and act on it, once; None when it was recorded already (a retried
    webhook, a replayed spool file, or a copy of the webhook at once, whose insert waits for the
    first one's commit and then does nothing). `received_at`: when it arrived, if not now."""
    number = try_e164(msg.from_number, settings.region) or msg.from_number
    row = _record(session, msg, number, received_at or utcnow())
    if row is None:
        session.commit()  # ends the transaction the insert began; nothing was written
        return None
    # Too many texts from one number in a short time: recorded, but no new ticket or reply.
    # Counted for the new text only, not for each copy of its webhook.
    row.flooded = _flooded(settings, number)
    kw = keyword_of(msg.body, msg.opt_out_type)
    if not row.flooded and kw is None and handled_elsewhere(session, row):
        _publish_received(session, row, {"customer_id": row.customer_id})
        session.commit()
        return row
    sender = _sender(session, row, settings)
    if kw is not None:
        row.customer_id = sender.customer.id
        _keyword(session, row, kw, sender.customer)
    else:
        _thread(session, row, sender)
    _publish_received(session, row, {"customer_id": sender.customer.id, "flooded": row.flooded})
    session.commit()
    return row


def backdate(session: DbSession, message_sid: str, received_at: datetime) -> None:
    """A text recorded after it arrived (by a later copy of its webhook, while its first copy
    waited in the spool) carries the time it arrived. One statement; commits."""
    session.execute(
        update(SmsMessage)
        .where(SmsMessage.message_sid == message_sid, SmsMessage.created_at > received_at)
        .values(created_at=received_at)
    )
    session.commit()


def _record(
    session: DbSession, msg: InboundSms, number: str, received_at: datetime
) -> SmsMessage | None:
    """The text's row, inserted and read back in one statement (`INSERT ... ON CONFLICT
    (message_sid) DO NOTHING RETURNING`); None when a row with its `MessageSid` is there."""
    seg = segments(msg.body)
    row: SmsMessage | None = insert_unless_present_row(
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
            "created_at": received_at,
        },
        key=["message_sid"],
    )
    return row


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


@dataclass(frozen=True)
class _Sender:
    """Who texted, with what the acknowledgement needs to know, read in one statement."""

    customer: Customer
    acked_recently: bool = False  # an acknowledgement went to them within the period
    opted_out: bool | None = None  # None: not read (a customer made by this text)


def _sender(session: DbSession, row: SmsMessage, settings: SmsSettings) -> _Sender:
    """The customer on the text's number, locked (on PostgreSQL) so that two texts at once
    open one conversation, else a new contact tagged `new-texter`."""
    e164 = try_e164(row.from_number, settings.region)
    if e164 is not None:
        since = utcnow() - timedelta(seconds=settings.ack_period_s)
        acked = exists().where(
            SmsMessage.customer_id == Customer.id,
            SmsMessage.kind == "ack",
            SmsMessage.created_at > since,
        )
        stmt = (
            customers.by_phone(e164)
            .add_columns(acked, opted_out(row.from_number, row.to_number))
            .options(lazyload("*"))
            .limit(1)
            .with_for_update(of=Customer)
        )
        found = session.execute(stmt).first()
        if found is not None:
            return _Sender(found[0], bool(found[1]), bool(found[2]))
    customer = customers.create(
        session,
        name=row.from_number,
        language=language_for(row.from_number),
        phones=[row.from_number] if e164 else [],
        tags=["new-texter"],
        region=settings.region,
        commit=False,
    )
    return _Sender(customer)


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


def _thread(session: DbSession, row: SmsMessage, sender: _Sender) -> None:
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Channel

    customer = sender.customer
    ticket = _open_conversation(session, customer.id)
    if ticket is None and row.flooded:
        row.customer_id = customer.id
        return  # a flood opens no conversation; the rows are still recorded
    body = row.body + ("".join(f"\n[media] {u}" for u in row.media_urls) if row.media_urls else "")
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
    # Both set after the ticket's own writes: the text's row is updated once, at the next flush.
    row.customer_id, row.ticket_id = customer.id, ticket.id
    if new and not row.flooded and not sender.acked_recently:
        reply = render(session, "sms.ack", customer.language, reference=ticket.reference)
        queue_sms(
            session,
            to=row.from_number,
            from_number=row.to_number,
            body=reply,
            customer_id=customer.id,
            ticket_id=ticket.id,
            kind="ack",
            opted_out=sender.opted_out,
        )
