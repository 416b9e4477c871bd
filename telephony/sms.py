"""The SMS channel as the rest of the helpdesk uses it: the outbox (write a text, send it once),
replies on tickets that leave as texts, on-call alerts, and the registrations other features make.

Outbound texts are rows written in the same transaction as the action that sends them; a task
claims a row (compare-and-set on its status) before calling the gateway, so a duplicated task
sends nothing twice. What follows a send (status callbacks, rows a dead worker left `sending`) is
in `sms_recovery`; inbound texts are in `sms_inbound`, keywords in `sms_keywords`, the opt-out
list in `sms_optout`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select, update

from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.events import FEED_SMS, on_commit, publish
from telephony.models import SMS_STATUS_RANK, SmsMessage
from telephony.sms_optout import is_opted_out, opt_out
from telephony.sms_text import segments, textable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
PERMANENT_ERRORS = {
    "21610": "opted_out",
    "21211": "failed",
    "21614": "failed",
    "21408": "failed",
    "21612": "failed",
}


@dataclass
class SmsSettings:
    region: str = "FR"
    ack_period_s: int = 3600
    limiter: Any = None  # a limits RateLimiter with its limit, or None
    limit: Any = None
    public_base_url: str = "http://127.0.0.1:5000"
    extra: dict[str, Any] = field(default_factory=dict)


# Other features' inbound texts (a technician's job update, a survey answer): each handler gets
# the recorded row and returns True when the text was its own; it then opens no conversation.
InboundHandler = Callable[[DbSession, SmsMessage], bool]
_INBOUND_HANDLERS: list[InboundHandler] = []


def register_inbound(handler: InboundHandler) -> None:
    if handler not in _INBOUND_HANDLERS:
        _INBOUND_HANDLERS.append(handler)


def handled_elsewhere(session: DbSession, row: SmsMessage) -> bool:
    """Whether a registered handler took this inbound text as its own."""
    return any(handler(session, row) for handler in _INBOUND_HANDLERS)


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
    opted_out: bool | None = None,
) -> SmsMessage:
    """Write an outbound text; it is sent by a task once this transaction commits.

    A number that opted out gets nothing: the row is kept, marked `opted_out`, and never sent.
    `bypass_opt_out` is for the single confirmation of an opt-out itself. `opted_out` is the
    answer when the caller read it already in this transaction (`sms_optout.opted_out`), so the
    list is not asked twice; None asks it here.
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
    if opted_out is None and not bypass_opt_out:
        opted_out = is_opted_out(session, to, from_number)
    if opted_out and not bypass_opt_out:
        row.status = "opted_out"
        row.error = "the recipient opted out"
    session.add(row)
    session.flush()
    if row.status == "queued":
        send_after_commit(session, row.id)
    return row


def send_after_commit(session: DbSession, message_id: int) -> None:
    """Queue the send task for a row once the transaction that wrote it commits."""
    if has_app_context() and current_app.extensions.get("celery") is not None:
        celery = current_app.extensions["celery"]
        on_commit(session, lambda: celery.tasks["telephony.tasks.send_sms"].delay(message_id))


def callback_url(base: str, row: SmsMessage) -> str:
    """The status-callback URL, carrying the row's idempotency key: how recovery finds a text
    the provider accepted after its worker died."""
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
        track_reply(session, row)
        session.commit()
        return row.status
    try:
        sid = gateway.send_sms(
            row.to_number, row.from_number, row.body, callback_url(public_base_url, row)
        )
    except Exception as exc:  # classified below: permanent errors give up, others retry
        _failed_attempt(session, row, exc, now)
        track_reply(session, row)
        session.commit()
        return row.status
    row.message_sid = sid
    if SMS_STATUS_RANK.get(row.status, 0) < SMS_STATUS_RANK["accepted"]:
        row.status = "accepted"
    row.sent_at = now
    track_reply(session, row)
    session.commit()
    return row.status


def _failed_attempt(session: DbSession, row: SmsMessage, exc: Exception, now: datetime) -> None:
    code = str(getattr(exc, "code", "") or "")
    row.error_code = code or None
    row.error = str(exc)[:300]
    permanent = PERMANENT_ERRORS.get(code)
    if permanent == "opted_out":
        row.status = "opted_out"
        opt_out(session, row.to_number, row.from_number, "provider")
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


def track_reply(session: DbSession, row: SmsMessage) -> None:
    """Report a text's new status to the reply it carries, if it carries one (an agent's
    reply on a ticket; an acknowledgement or a keyword answer carries none)."""
    status = _REPLY_STATUS.get(row.status)
    if row.ticket_id is not None and row.author_user_id is not None and status is not None:
        from helpdesk.tickets import service as tickets

        tickets.record_delivery(session, channel="sms", ref=str(row.id), status=status)


# -- replies on tickets ----------------------------------------------------------------------------


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
    from helpdesk.tickets.delivery import Reach

    to = text_number(session, ticket)
    refusal = None
    if to is not None and is_opted_out(session, to, current_app.config["TWILIO_PHONE_NUMBER"]):
        refusal = "the customer opted out of texts (they can send START)"
    return Reach(channel="sms", to=to, refusal=refusal)


def deliver_reply(session: DbSession, ticket: Any, comment: Any) -> str:
    """An agent's public reply leaves as a text (through the outbox), to the number its route
    chose; returns the outbox row's id, under which its statuses are reported to the reply."""
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
