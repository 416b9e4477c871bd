"""Two-way SMS: inbound texts threaded into conversation tickets, keywords and opt-out, and an
outbox that sends each message exactly once.

Outbound texts are rows written in the same transaction as the action that sends them; a task
claims a row (compare-and-set on its status) before calling the gateway, so a duplicated task
sends nothing twice. A worker that dies after the provider accepted a message but before the row
was updated leaves it `sending`: recovery looks the message up (by the idempotency key carried in
its status-callback URL) before it would ever send it again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from flask import current_app, has_app_context
from sqlalchemy import delete, select, update

from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer
from helpdesk.customers.phones import try_e164
from helpdesk.db import DbSession, insert_unless_present, rowcount, utcnow
from helpdesk.events import FEED_SMS, on_commit, publish
from helpdesk.timeline import service as timeline
from helpdesk.webhooks import emit as emit_webhook
from telephony import webhook_payloads
from telephony.models import SMS_STATUS_RANK, SmsMessage, SmsOptOut
from telephony.sms_text import STATUS_WORDS_BY_LANG, Keyword, keyword, segments, text

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
PERMANENT_ERRORS = {
    "21610": "opted_out",
    "21211": "failed",
    "21614": "failed",
    "21408": "failed",
    "21612": "failed",
}


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()
    opt_out_type: str = ""  # Twilio Advanced Opt-Out: STOP, START or HELP


@dataclass
class SmsSettings:
    region: str = "FR"
    ack_period_s: int = 3600
    limiter: Any = None  # a limits RateLimiter with its limit, or None
    limit: Any = None
    public_base_url: str = "http://127.0.0.1:5000"
    extra: dict[str, Any] = field(default_factory=dict)


def opt_out_key(customer_number: str) -> str:
    """What an erased customer's opt-out keeps instead of the number: a keyed hash of it.

    A STOP must outlive the erasure of the person who sent it (texting them again would break
    it), yet the number itself identifies them. The hash (keyed with `SECRET_KEY`, so it cannot
    be reversed by trying every number) still matches when the number is texted again.
    """
    secret = str(current_app.config.get("SECRET_KEY") or "") if has_app_context() else ""
    digest = hmac.new(secret.encode(), customer_number.encode(), hashlib.sha256).hexdigest()
    return "h:" + digest[:30]


def _opt_out_keys(customer_number: str) -> list[str]:
    return [customer_number, opt_out_key(customer_number)]


def is_opted_out(session: DbSession, customer_number: str, sending_number: str) -> bool:
    return (
        session.scalar(
            select(SmsOptOut.id).where(
                SmsOptOut.customer_number.in_(_opt_out_keys(customer_number)),
                SmsOptOut.sending_number == sending_number,
            )
        )
        is not None
    )


def _opt_out(session: DbSession, customer_number: str, sending_number: str, source: str) -> None:
    if not is_opted_out(session, customer_number, sending_number):
        session.add(
            SmsOptOut(
                customer_number=customer_number,
                sending_number=sending_number,
                source=source,
                opted_out_at=utcnow(),
            )
        )


def _opt_in(session: DbSession, customer_number: str, sending_number: str) -> None:
    session.execute(
        delete(SmsOptOut).where(
            SmsOptOut.customer_number.in_(_opt_out_keys(customer_number)),
            SmsOptOut.sending_number == sending_number,
        )
    )


# -- the outbox ------------------------------------------------------------------------------------


def queue_sms(
    session: DbSession,
    *,
    to: str,
    from_number: str,
    body: str,
    customer_id: int | None = None,
    ticket_id: int | None = None,
    kind: str = "message",
    author_user_id: int | None = None,
    bypass_opt_out: bool = False,
    work_order_id: int | None = None,
) -> SmsMessage:
    """Write an outbound text; it is sent by a task once this transaction commits.

    A number that opted out gets nothing: the row is kept, marked `opted_out`, and never sent.
    `bypass_opt_out` is for the single confirmation of an opt-out itself.
    """
    seg = segments(body)
    row = SmsMessage(
        direction="outbound",
        kind=kind,
        from_number=from_number,
        to_number=to,
        customer_id=customer_id,
        ticket_id=ticket_id,
        work_order_id=work_order_id,
        author_user_id=author_user_id,
        body=body,
        segments=seg.count,
        encoding=seg.encoding,
        status="queued",
        idempotency_key=uuid.uuid4().hex,
        created_at=utcnow(),
        media_urls=[],
    )
    if not bypass_opt_out and is_opted_out(session, to, from_number):
        row.status = "opted_out"
        row.error = "the recipient opted out"
    session.add(row)
    session.flush()
    if row.status == "queued":
        _send_after_commit(session, row.id)
    return row


def _send_after_commit(session: DbSession, message_id: int) -> None:
    from flask import current_app, has_app_context

    if has_app_context() and current_app.extensions.get("celery") is not None:
        celery = current_app.extensions["celery"]
        on_commit(session, lambda: celery.tasks["telephony.tasks.send_sms"].delay(message_id))


def _callback_url(base: str, row: SmsMessage) -> str:
    return f"{base.rstrip('/')}/twilio/sms/status?key={row.idempotency_key}"


def send(
    session: DbSession,
    message_id: int,
    gateway: Any,
    *,
    public_base_url: str,
    now: datetime | None = None,
) -> str:
    """Send one outbox row if it is still due; returns its status afterwards."""
    now = now or utcnow()
    claimed = rowcount(
        session.execute(
            update(SmsMessage)
            .where(
                SmsMessage.id == message_id,
                SmsMessage.status.in_(("queued", "retry")),
                (SmsMessage.next_attempt_at.is_(None)) | (SmsMessage.next_attempt_at <= now),
            )
            .values(status="sending", attempts=SmsMessage.attempts + 1, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    session.commit()  # the claim is visible before the provider is called
    row = session.get(SmsMessage, message_id)  # expired by the commit: read afresh
    if row is None:
        return "missing"
    if not claimed:
        return row.status  # sent, being sent, or given up: nothing to do
    if row.kind != "opt_out_confirmation" and is_opted_out(session, row.to_number, row.from_number):
        row.status, row.error = "opted_out", "the recipient opted out"
        _track_reply(session, row)
        session.commit()
        return row.status
    try:
        sid = gateway.send_sms(
            row.to_number, row.from_number, row.body, _callback_url(public_base_url, row)
        )
    except Exception as exc:  # classified below: permanent errors give up, others retry
        _failed_attempt(session, row, exc, now)
        _track_reply(session, row)
        session.commit()
        return row.status
    row.message_sid = sid
    if SMS_STATUS_RANK.get(row.status, 0) < SMS_STATUS_RANK["accepted"]:
        row.status = "accepted"
    row.sent_at = now
    _track_reply(session, row)
    session.commit()
    return row.status


def _failed_attempt(session: DbSession, row: SmsMessage, exc: Exception, now: datetime) -> None:
    code = str(getattr(exc, "code", "") or "")
    row.error_code = code or None
    row.error = str(exc)[:300]
    permanent = PERMANENT_ERRORS.get(code)
    if permanent == "opted_out":
        row.status = "opted_out"
        _opt_out(session, row.to_number, row.from_number, "provider")
    elif permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.status = "retry"
        row.next_attempt_at = now + timedelta(seconds=min(2**row.attempts * 5, 600))
    if row.status in ("failed", "opted_out"):
        publish(
            session,
            "sms.failed",
            [FEED_SMS] + ([f"ticket:{row.ticket_id}"] if row.ticket_id else []),
            {
                "sms_id": row.id,
                "ticket_id": row.ticket_id,
                "status": row.status,
                "error": row.error,
            },
        )
        log.warning("giving up on SMS %s: %s", row.id, row.error)


def recover(
    session: DbSession,
    gateway: Any,
    *,
    public_base_url: str,
    stuck_after: timedelta = timedelta(minutes=2),
    now: datetime | None = None,
) -> int:
    """Rows left `sending` by a worker that died: found at the provider, or sent again.

    A row counts as left behind once it has been `sending` for `stuck_after` since its claim
    (well over the provider's timeout), not since it was written: a text queued long ago and
    claimed a moment ago by a busy worker is still in flight, and sending it again would send
    it twice.
    """
    now = now or utcnow()
    fixed = 0
    for row in list(
        session.scalars(
            select(SmsMessage)
            .where(
                SmsMessage.direction == "outbound",
                SmsMessage.status == "sending",
                SmsMessage.message_sid.is_(None),
            )
            .limit(200)
        )
    ):
        if (row.claimed_at or row.created_at) > now - stuck_after:
            continue
        sid = gateway.find_sms(
            row.to_number,
            row.from_number,
            row.body,
            _callback_url(public_base_url, row),
            row.created_at,
        )
        if sid:
            row.message_sid, row.status, row.sent_at = sid, "accepted", now
            _track_reply(session, row)
        else:
            # Due at once: the send below must be able to claim it, whatever `now` says.
            row.status, row.next_attempt_at = "retry", None
            _send_after_commit(session, row.id)
        fixed += 1
    due = list(
        session.scalars(
            select(SmsMessage.id)
            .where(
                SmsMessage.direction == "outbound",
                SmsMessage.status == "retry",
                SmsMessage.next_attempt_at <= now,
            )
            .limit(500)
        )
    )
    # Rows still `queued` long after they were written: their task was lost (a worker killed
    # with it prefetched, a broker restarted without persistence). Sending is claimed row by
    # row, so a second task for a row whose first task is merely late sends nothing twice.
    due += list(
        session.scalars(
            select(SmsMessage.id)
            .where(
                SmsMessage.direction == "outbound",
                SmsMessage.status == "queued",
                SmsMessage.created_at <= now - stuck_after,
            )
            .limit(500)
        )
    )
    for message_id in due:
        _send_after_commit(session, message_id)
    session.commit()
    return fixed


def apply_status(
    session: DbSession, *, message_sid: str, status: str, key: str | None, error_code: str | None
) -> SmsMessage | None:
    """A delivery status callback: never moves a message backwards."""
    # Locked: copies of one callback at once apply it once (the second finds the status set).
    row: SmsMessage | None = session.scalar(
        select(SmsMessage).where(SmsMessage.message_sid == message_sid).with_for_update()
    )
    if row is None and key:
        row = session.scalar(
            select(SmsMessage).where(SmsMessage.idempotency_key == key).with_for_update()
        )
        if row is not None and row.message_sid is None:
            row.message_sid = message_sid  # the worker died before it could record it
    if row is None:
        return None
    if SMS_STATUS_RANK.get(status, -1) > SMS_STATUS_RANK.get(row.status, -1):
        row.status = status
        if error_code:
            row.error_code = error_code
        if error_code == "21610":
            row.status = "opted_out"
            _opt_out(session, row.to_number, row.from_number, "provider")
        if row.status in ("failed", "undelivered", "opted_out"):
            publish(
                session,
                "sms.failed",
                [FEED_SMS] + ([f"ticket:{row.ticket_id}"] if row.ticket_id else []),
                {
                    "sms_id": row.id,
                    "ticket_id": row.ticket_id,
                    "status": row.status,
                    "error_code": error_code,
                },
            )
        elif row.ticket_id:
            # Consoles showing the conversation follow each text's progress.
            publish(
                session,
                "sms.status",
                [f"ticket:{row.ticket_id}"],
                {"sms_id": row.id, "ticket_id": row.ticket_id, "status": row.status},
            )
        _track_reply(session, row)
    session.commit()
    return row


# -- inbound ---------------------------------------------------------------------------------------


def _customer_for(session: DbSession, number: str, region: str) -> Customer:
    found = customers.lookup_by_phone(session, number, region=region)
    if found:
        return found[0]
    from telephony.service import _language_for

    return customers.create(
        session,
        name=number,
        language=_language_for(number),
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


# Other features' inbound texts (a technician's job update, a survey answer): each handler gets
# the recorded row and returns True when the text was its own; it then opens no conversation.
InboundHandler = Callable[[DbSession, SmsMessage], bool]
_INBOUND_HANDLERS: list[InboundHandler] = []


def register_inbound(handler: InboundHandler) -> None:
    if handler not in _INBOUND_HANDLERS:
        _INBOUND_HANDLERS.append(handler)


def _handled_elsewhere(session: DbSession, row: SmsMessage) -> bool:
    return any(handler(session, row) for handler in _INBOUND_HANDLERS)


def _existing(session: DbSession, message_sid: str) -> SmsMessage | None:
    found: SmsMessage | None = session.scalar(
        select(SmsMessage).where(SmsMessage.message_sid == message_sid)
    )
    return found


def receive(session: DbSession, msg: InboundSms, settings: SmsSettings) -> SmsMessage:
    """Record an inbound text and act on it, once: a retried webhook finds the first row, and
    copies of it at once insert one row (the others find it once the first commits)."""
    existing = _existing(session, msg.message_sid)
    if existing is not None:
        return existing
    number = try_e164(msg.from_number, settings.region) or msg.from_number
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
        return again
    row = session.get(SmsMessage, row_id)
    if row is None:
        raise RuntimeError(f"text {msg.message_sid} inserted but not found")
    # Too many texts from one number in a short time: recorded, but no new ticket or reply.
    # Counted for the new text only, not for each copy of its webhook.
    row.flooded = _flooded(settings, number)
    if not row.flooded and _keyword(msg) is None and _handled_elsewhere(session, row):
        publish(
            session,
            "sms.received",
            [FEED_SMS] + ([f"ticket:{row.ticket_id}"] if row.ticket_id else []),
            {"sms_id": row.id, "ticket_id": row.ticket_id, "customer_id": row.customer_id},
        )
        emit_webhook(session, "sms.received", webhook_payloads.sms_received(row))
        session.commit()
        return row
    customer = _customer_for(session, number, settings.region)
    row.customer_id = customer.id
    kw = _keyword(msg)
    if kw is not None:
        row.kind = f"keyword:{kw.kind}"
        _answer_keyword(session, row, kw, customer, quiet=row.flooded)
        timeline.append(
            session,
            customer_id=customer.id,
            kind="sms",
            subject_type="sms",
            subject_id=row.id,
            summary=f"SMS {kw.kind.upper()}: {msg.body}",
            data={"direction": "inbound", "keyword": kw.kind},
        )
    else:
        _thread(session, row, customer, settings)
    publish(
        session,
        "sms.received",
        [FEED_SMS] + ([f"ticket:{row.ticket_id}"] if row.ticket_id else []),
        {
            "sms_id": row.id,
            "ticket_id": row.ticket_id,
            "customer_id": customer.id,
            "flooded": row.flooded,
        },
    )
    emit_webhook(session, "sms.received", webhook_payloads.sms_received(row))
    session.commit()
    return row


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


def _keyword(msg: InboundSms) -> Keyword | None:
    opt = msg.opt_out_type.strip().upper()
    if opt in ("STOP", "START", "HELP"):
        return Keyword(opt.lower())
    return keyword(msg.body)


def _answer_keyword(
    session: DbSession, row: SmsMessage, kw: Keyword, customer: Customer, *, quiet: bool
) -> None:
    lang = customer.language
    reply: tuple[str, str] | None = None
    if kw.kind == "stop":
        _opt_out(session, row.from_number, row.to_number, "keyword")
        reply = (text(lang, "stopped"), "opt_out_confirmation")
    elif kw.kind == "start":
        _opt_in(session, row.from_number, row.to_number)
        reply = (text(lang, "started"), "keyword")
    elif kw.kind == "help":
        reply = (text(lang, "help"), "keyword")
    elif kw.kind == "status":
        reply = (_status_reply(session, kw.argument, customer), "keyword")
    if reply is None or quiet:
        return
    session.flush()
    already = kw.kind == "stop" and session.scalar(
        select(SmsMessage.id).where(
            SmsMessage.kind == "opt_out_confirmation",
            SmsMessage.to_number == row.from_number,
            SmsMessage.from_number == row.to_number,
            SmsMessage.created_at > utcnow() - timedelta(days=1),
        )
    )
    if already:
        return  # one confirmation, not one per STOP
    queue_sms(
        session,
        to=row.from_number,
        from_number=row.to_number,
        body=reply[0],
        customer_id=customer.id,
        kind=reply[1],
        bypass_opt_out=reply[1] == "opt_out_confirmation",
    )


def _status_reply(session: DbSession, reference: str, customer: Customer) -> str:
    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.workflow import id_from_reference, reference_for

    lang = customer.language
    ticket_id = id_from_reference(reference) if reference else None
    ticket = session.get(Ticket, ticket_id) if ticket_id else None
    # Only the sender's own tickets: nothing about anyone else's, not even that it exists.
    if ticket is None or ticket.requester_id != customer.id:
        return text(lang, "status_unknown")
    words = STATUS_WORDS_BY_LANG.get(lang, STATUS_WORDS_BY_LANG["en"])
    return text(
        lang, "status", reference=reference_for(ticket.id), status=words[ticket.status.value]
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
        reply = text(customer.language, "ack", reference=ticket.reference)
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


def reply_number(session: DbSession, ticket_id: int, customer: Customer | None) -> str | None:
    """Where a reply in a conversation goes: the number the customer last texted from in it
    (a customer may have several, and a merged record keeps its older ones first), else their
    first number."""
    last = _last_texted_from(session, ticket_id)
    if last:
        return last
    return customer.phones[0].e164 if customer and customer.phones else None


def _last_texted_from(session: DbSession, ticket_id: int) -> str | None:
    last = session.scalar(
        select(SmsMessage.from_number)
        .where(SmsMessage.ticket_id == ticket_id, SmsMessage.direction == "inbound")
        .order_by(SmsMessage.id.desc())
        .limit(1)
    )
    return str(last) if last else None


_FIXED_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOICEMAIL,
    }
)


def textable(e164: str, label: str) -> bool:
    """Whether a customer's number can take texts: one the numbering plan calls mobile, or one
    labelled mobile that the plan does not know to be a fixed line (a landline labelled
    `mobile` by default would take nothing)."""
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False
    if kind is phonenumbers.PhoneNumberType.MOBILE:
        return True
    return label == "mobile" and kind not in _FIXED_TYPES


def text_number(session: DbSession, ticket: Any) -> str | None:
    """The number a reply on this ticket would be texted to: on an SMS conversation, the number
    the customer last texted from in it; otherwise (or before they texted in it) their first
    number that can take texts."""
    from helpdesk.customers.models import CustomerPhone
    from helpdesk.tickets.workflow import Channel

    if ticket.channel is Channel.SMS:
        last = _last_texted_from(session, ticket.id)
        if last:
            return last
    phones = session.execute(
        select(CustomerPhone.e164, CustomerPhone.label)
        .where(CustomerPhone.customer_id == ticket.requester_id)
        .order_by(CustomerPhone.id)
    ).all()
    return next((p.e164 for p in phones if textable(p.e164, p.label)), None)


def reply_reach(session: DbSession, ticket: Any) -> Any:
    """What SMS can do for a ticket's customer (`helpdesk.tickets.delivery.Reach`)."""
    from flask import current_app

    from helpdesk.tickets.delivery import Reach

    to = text_number(session, ticket)
    refusal = None
    if to is not None and is_opted_out(session, to, current_app.config["TWILIO_PHONE_NUMBER"]):
        refusal = "the customer opted out of texts (they can send START)"
    return Reach(channel="sms", to=to, refusal=refusal)


def deliver_reply(session: DbSession, ticket: Any, comment: Any) -> str:
    """An agent's public reply leaves as a text (through the outbox), to the number its route
    chose; returns the outbox row's id, under which its statuses are reported to the reply."""
    from flask import current_app

    from helpdesk.errors import Conflict, ValidationFailed

    to = comment.delivery_to or text_number(session, ticket)
    if to is None:
        raise ValidationFailed(
            "the customer has no phone number to text", fields={"body": "no number to text"}
        )
    sender = current_app.config["TWILIO_PHONE_NUMBER"]
    if is_opted_out(session, to, sender):
        raise Conflict("the customer opted out of texts (they can send START)")
    row = queue_sms(
        session,
        to=to,
        from_number=sender,
        body=comment.body,
        customer_id=ticket.requester_id,
        ticket_id=ticket.id,
        author_user_id=comment.author_user_id,
    )
    return str(row.id)


# An outbox row's status as its reply's delivery status (`helpdesk.tickets.delivery`). Twilio's
# `accepted`/`queued` after our send mean the provider has the text: that is `sent` for the agent,
# as an SMTP server's acceptance is for an e-mail; Twilio's own `sent` adds nothing visible.
_REPLY_STATUS = {
    "accepted": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "rejected": "failed",
    "opted_out": "failed",
}


def _track_reply(session: DbSession, row: SmsMessage) -> None:
    """Report a text's new status to the reply it carries, if it carries one (an agent's
    reply on a ticket; an acknowledgement or a keyword answer carries none)."""
    status = _REPLY_STATUS.get(row.status)
    if row.ticket_id is not None and row.author_user_id is not None and status is not None:
        from helpdesk.tickets import service as tickets

        tickets.record_delivery(session, channel="sms", ref=str(row.id), status=status)


def reply(session: DbSession, *, ticket_id: int, body: str, author: Any) -> SmsMessage:
    """An agent's reply in an SMS conversation: a public comment, delivered as a text."""
    from helpdesk.errors import ValidationFailed
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Channel

    ticket = tickets.get(session, ticket_id)
    if ticket.channel is not Channel.SMS:
        raise ValidationFailed("not an SMS conversation", fields={"ticket_id": "not by SMS"})
    comment = tickets.add_comment(
        session, ticket, body=body, actor=author, channel=Channel.SMS, commit=False
    )
    row = session.get(SmsMessage, int(comment.delivery_ref)) if comment.delivery_ref else None
    if comment.delivery_channel != "sms" or row is None:
        # Asked for a text, and no text can go: nothing is kept (the caller rolls back).
        raise ValidationFailed(
            "the customer has no phone number to text", fields={"body": "no number to text"}
        )
    session.commit()
    return row


def oncall_notifier(app: Any, number: str) -> Any:
    """The SLA escalation action `sms_oncall`: text the on-call number through the outbox."""
    from helpdesk.extensions import db

    def notify(ticket_id: int, reference: str, metric: str, trigger: str) -> None:
        what = "breached" if trigger == "breached" else "at risk"
        body = f"SLA {what}: {reference}, {metric.replace('_', ' ')}."
        with app.app_context():
            queue_sms(
                db.session,
                to=number,
                from_number=app.config["TWILIO_PHONE_NUMBER"],
                body=body,
                ticket_id=ticket_id,
                kind="oncall",
            )
            db.session.commit()

    return notify


def last_inbound_text(session: DbSession, *, ticket_id: int | None, customer_id: int | None) -> str:
    """The body of the last text received on `ticket_id` (or else from `customer_id`), "" if
    none: the words the knowledge base suggests articles from."""
    stmt = select(SmsMessage.body).where(SmsMessage.direction == "inbound")
    if ticket_id is not None:
        stmt = stmt.where(SmsMessage.ticket_id == ticket_id)
    elif customer_id is not None:
        stmt = stmt.where(SmsMessage.customer_id == customer_id)
    else:
        return ""
    return session.scalar(stmt.order_by(SmsMessage.id.desc()).limit(1)) or ""
