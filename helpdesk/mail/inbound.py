"""One pipeline for every inbound message, whether the IMAP worker fetched it or a provider
posted it to the ingress: `ingest(session, raw, source=...)`.

Each message is taken once. Its Message-ID (or, without one, a hash of its bytes) is unique in
`mail_messages`; the row is inserted with ON CONFLICT DO NOTHING, so a retried POST, a message
fetched again after a worker died, or two copies at once leave one row and one comment. The
original bytes go to the attachment store just before the row's INSERT, which carries their key
(they are removed again for a duplicate, or if the transaction fails), so whatever the outcome (a
ticket, a bounce, a refusal), the message can be shown again as it came.

Outcomes: created (a new ticket), threaded (a comment on the ticket it answers), reopened (the
same, on a solved ticket), follow_up (a new ticket linked to the closed one it answers),
duplicate (seen before: nothing changes), ignored (bulk, an automatic reply with nothing to
join, a flood, our own mail), bounced (a delivery failure report: the address is marked), and
rejected (nothing to thread it on: no sender address). Rows are written for every outcome but
the duplicate.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select

from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, insert_unless_present_row, utcnow
from helpdesk.events import FEED_TICKETS, publish
from helpdesk.mail import loops, quotes, threading
from helpdesk.mail.bounces import record_bounce
from helpdesk.mail.files import keep_files
from helpdesk.mail.models import Attachment, MailMessage
from helpdesk.mail.parse import ParsedMail, parse
from helpdesk.mail.sanitize import clean_html, html_to_text
from helpdesk.mail.store import MB, AttachmentStore, attachment_store
from helpdesk.texts import catalog
from helpdesk.texts import service as texts
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel, Status
from helpdesk.timeline import service as timeline

log = logging.getLogger(__name__)

OUTCOMES = (
    "created", "threaded", "reopened", "follow_up", "duplicate", "ignored", "bounced", "rejected",
)  # fmt: skip


@dataclass(frozen=True)
class Ingested:
    outcome: str
    ticket_id: int | None = None
    mail_message_id: int | None = None
    reason: str = ""


@dataclass
class InboundSettings:
    max_message_bytes: int = 25 * MB
    ack_period_s: int = 3600
    # Addresses the helpdesk sends from: mail from them is our own, come back (a loop).
    own_addresses: tuple[str, ...] = ()
    remote_images: bool = False
    limiter: Any = None  # a limits RateLimiter and its limit, as for SMS; None: no flood limit
    limit: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def settings_for(app: Any) -> InboundSettings:
    found: InboundSettings | None = app.extensions.get("mail_inbound")
    return found if found is not None else InboundSettings()


def ingest(
    session: DbSession,
    raw: bytes,
    *,
    source: str,
    settings: InboundSettings | None = None,
    store: AttachmentStore | None = None,
) -> Ingested:
    """Take one raw RFC 5322 message in, once; commits. See the module's docstring."""
    if settings is None or store is None:
        app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
        if app is None:
            raise RuntimeError("ingest needs settings and a store outside an application")
        settings = settings or settings_for(app)
        store = store or attachment_store(app)
    mail = parse(raw)
    stored_keys: list[str] = []
    try:
        result = _ingest_new(session, raw, mail, source, settings, store, stored_keys)
    except Exception:
        session.rollback()
        for key in stored_keys:
            store.delete(key)
        raise
    return result


def _existing(session: DbSession, message_id: str) -> MailMessage | None:
    found: MailMessage | None = session.scalar(
        select(MailMessage).where(MailMessage.message_id == message_id)
    )
    return found


def _ingest_new(
    session: DbSession,
    raw: bytes,
    mail: ParsedMail,
    source: str,
    settings: InboundSettings,
    store: AttachmentStore,
    stored_keys: list[str],
) -> Ingested:
    # The original is stored first so that its key goes in with the row's INSERT (no UPDATE);
    # a duplicate's copy is removed again at once (keys are random: the first copy is untouched).
    kept: dict[str, str] = {}
    if len(raw) <= settings.max_message_bytes * 4 // 3 + MB:
        kept["raw_key"] = store.put(raw, kind="raw").key
        stored_keys.append(kept["raw_key"])
    else:
        kept["error"] = "larger than the message size limit: the original was not kept"
    row = _insert_row(session, mail, source, settings, kept)
    if row is None:  # seen before, or a copy of it committed first
        session.commit()
        for key in stored_keys:
            store.delete(key)
        stored_keys.clear()
        again = _existing(session, mail.message_id)
        return Ingested(
            "duplicate",
            again.ticket_id if again else None,
            again.id if again else None,
            "already received",
        )
    # One UPDATE of the row at the end rather than one per step.
    with session.no_autoflush:
        files: list[str] = []
        kept_files: list[Attachment] = []
        result = _decide(session, row, mail, settings, store, stored_keys, files, kept_files)
        _announce(session, row, result, kept_files)
    session.commit()
    return result


def _insert_row(
    session: DbSession,
    mail: ParsedMail,
    source: str,
    settings: InboundSettings,
    kept: dict[str, str],
) -> MailMessage | None:
    text = (mail.text or html_to_text(mail.html)).replace("\x00", "")
    row: MailMessage | None = insert_unless_present_row(
        session,
        MailMessage,
        {
            "message_id": mail.message_id,
            "direction": "inbound",
            "kind": "message",
            "from_address": mail.from_address[:254],
            "from_name": mail.from_name[:200],
            "to_addresses": list(mail.to)[:50],
            "cc_addresses": list(mail.cc)[:50],
            "subject": mail.subject[:998],
            "in_reply_to": mail.in_reply_to,
            "references": list(mail.references),
            "full_text": text,
            "body_text": quotes.split(text).new,
            "body_html": clean_html(mail.html, remote_images=settings.remote_images),
            "source": source[:255],
            "status": "received",
            "created_at": utcnow(),
            **kept,
        },
        key=["message_id"],
    )
    return row


def _decide(
    session: DbSession,
    row: MailMessage,
    mail: ParsedMail,
    settings: InboundSettings,
    store: AttachmentStore,
    stored_keys: list[str],
    files: list[str],
    kept_files: list[Attachment],
) -> Ingested:
    if not mail.from_address:
        row.status, row.error = "rejected", "no sender address (From)"
        return Ingested("rejected", None, row.id, row.error)
    if mail.from_address in settings.own_addresses:
        return _ignore(row, "auto", "sent from the helpdesk's own address (a loop)")
    verdict = loops.classify(mail)
    row.kind = verdict.kind if verdict.kind != "message" else "message"
    if verdict.bounce is not None:
        record_bounce(session, row, verdict.bounce)
        return Ingested("bounced", row.ticket_id, row.id, verdict.bounce.reason)
    if verdict.kind == "bulk":
        return _ignore(row, "bulk", verdict.reason)
    auto = verdict.kind == "auto"
    flooded = not auto and _flooded(settings, mail.from_address)
    if auto:  # an automatic reply makes no new customer record
        customer = threading.find_customer(session, mail.from_address)
        if customer is None:
            return _ignore(row, "auto", verdict.reason)
    else:
        language = threading.guess_language(mail, row.body_text)
        customer = threading.customer_for(session, mail, language)
    ticket = threading.find_ticket(session, mail, customer)
    # Neither an automatic reply nor a flood opens a ticket (nor a follow-up of a closed one).
    if (auto or flooded) and (ticket is None or ticket.status is Status.CLOSED):
        row.customer_id = customer.id
        return _ignore(row, verdict.kind, verdict.reason if auto else "a flood from this address")
    files += keep_files(
        session,
        row,
        mail,
        budget=settings.max_message_bytes,
        store=store,
        stored_keys=stored_keys,
        customer_id=customer.id,
        rows=kept_files,
    )
    # The row's customer is set after the ticket service's own flushes, so that the row is
    # written once, with its ticket, by the final one.
    if auto and ticket is not None:
        result = _note(session, row, mail, ticket, files, verdict.reason)
        row.customer_id = customer.id
        _link_files(row, kept_files)
        return result
    result, answered = _thread(session, row, mail, customer, ticket, files)
    row.customer_id = customer.id
    _link_files(row, kept_files)
    if result.outcome in ("created", "follow_up") and verdict.acknowledge and not flooded:
        _acknowledge(session, row, customer, answered, settings)
    return result


def _ignore(row: MailMessage, kind: str, reason: str) -> Ingested:
    row.kind, row.status, row.error = kind, "ignored", reason[:300]
    return Ingested("ignored", None, row.id, reason)


def _flooded(settings: InboundSettings, address: str) -> bool:
    """Over the per-sender limit. Like SMS, a limiter outage fails open and says so: a lost
    customer message costs more than an unthrottled one."""
    if settings.limiter is None:
        return False
    try:
        return not settings.limiter.hit(settings.limit, "mail-in", address)
    except Exception:
        log.warning("mail flood limit unavailable; message from %s accepted unlimited", address)
        return False


def _body(row: MailMessage, mail: ParsedMail, files: list[str]) -> str:
    parts = [row.body_text.strip() or "(no text)"]
    if files:
        parts.append("Attachments: " + ", ".join(files))
    if row.error:
        parts.append(f"({row.error})")
    if mail.defects and any("could not be read" in d for d in mail.defects):
        parts.append("(" + "; ".join(mail.defects[:3]) + ". The original is kept.)")
    return "\n\n".join(parts)


def _thread(
    session: DbSession,
    row: MailMessage,
    mail: ParsedMail,
    customer: Customer,
    ticket: Ticket | None,
    files: list[str],
) -> tuple[Ingested, Ticket]:
    """The outcome, and the ticket the message went on (held, so the acknowledgement needs no
    second read of it)."""
    body = _body(row, mail, files)
    if ticket is not None and ticket.status is not Status.CLOSED:
        reopened = ticket.status is Status.SOLVED
        comment = tickets.add_comment(
            session,
            ticket,
            body=body,
            author_customer_id=customer.id,
            channel=Channel.EMAIL,
            commit=False,
        )
        row.ticket_id, row.comment_id = ticket.id, comment.id
        return Ingested("reopened" if reopened else "threaded", ticket.id, row.id), ticket
    subject = threading.clean_subject(mail.subject) or "(no subject)"
    new = tickets.create(
        session,
        actor=None,
        subject=subject[:250],
        description=body,
        requester_id=customer.id,
        channel=Channel.EMAIL,
        commit=False,
    )
    row.ticket_id = new.id
    if ticket is not None:
        threading.link_follow_up(session, old=ticket, new=new)
        return Ingested("follow_up", new.id, row.id, f"follow-up of {ticket.reference}"), new
    return Ingested("created", new.id, row.id), new


def _note(
    session: DbSession,
    row: MailMessage,
    mail: ParsedMail,
    ticket: Ticket,
    files: list[str],
    reason: str,
) -> Ingested:
    """An automatic reply (an out-of-office) on a ticket it answers: an internal note, so that
    agents see it, which neither reopens the ticket nor counts as the customer's answer."""
    body = f"Automatic reply from {row.from_address} ({reason}):\n\n{_body(row, mail, files)}"
    comment = tickets.add_comment(
        session, ticket, body=body, public=False, channel=Channel.EMAIL, commit=False
    )
    row.ticket_id, row.comment_id = ticket.id, comment.id
    return Ingested("threaded", ticket.id, row.id, "automatic reply: kept as an internal note")


def _link_files(row: MailMessage, kept_files: list[Attachment]) -> None:
    """The message's files, kept by this ingest, go on its ticket and comment."""
    for att in kept_files:
        att.ticket_id, att.comment_id = row.ticket_id, row.comment_id


# The acknowledgement's own words. The outbox adds what every automatic message carries, in the
# customer's language: the reference footer and the "sent automatically" line (compose.full_text).
ACK_TEXT = {
    "en": "We have received your message and will answer it as soon as we can.",
    "fr": "Nous avons bien reçu votre message et y répondrons dès que possible.",
}
# Administrators may reword it from the console (/admin/texts); these stay the defaults.
catalog.register("email.ack", "email", ACK_TEXT)


def _acknowledge(
    session: DbSession,
    row: MailMessage,
    customer: Customer,
    ticket: Ticket,
    settings: InboundSettings,
) -> None:
    """One automatic acknowledgement per customer and period, sent through the outbox."""
    try:
        outbox = importlib.import_module("helpdesk.mail.outbox")
    except ImportError:
        log.info("no mail outbox: acknowledgement to %s not sent", row.from_address)
        return
    since = utcnow() - timedelta(seconds=settings.ack_period_s)
    if customer.created_at < row.created_at:  # one made by this message has had none yet
        recent = session.scalar(
            select(MailMessage.id)
            .where(
                MailMessage.customer_id == customer.id,
                MailMessage.kind == "ack",
                MailMessage.created_at > since,
            )
            .limit(1)
        )
        if recent is not None:
            return
    if row.ticket_id is None:
        return
    language = customer.language if customer.language in ACK_TEXT else "en"
    reference = ticket.reference
    outbox.queue_message(
        session,
        to=row.from_address,
        subject=f"[{reference}] {threading.clean_subject(row.subject)}"[:250],
        text=texts.render(session, "email.ack", language),
        ticket=ticket,
        customer_id=customer.id,
        kind="ack",
        auto=True,
        language=language,
        in_reply_to=row.message_id,
        references=(*row.references, row.message_id),
    )


def _announce(
    session: DbSession, row: MailMessage, result: Ingested, kept_files: list[Attachment]
) -> None:
    """The customer's timeline and the console's live event, in the same transaction."""
    if row.customer_id is not None and result.outcome != "bounced":
        timeline.append(
            session,
            customer_id=row.customer_id,
            kind="email",
            occurred_at=row.created_at,
            ticket_id=row.ticket_id,
            subject_type="mail_message",
            subject_id=row.id,
            summary=f"E-mail from {row.from_address}: {row.subject}",
            data={
                "direction": "inbound",
                "outcome": result.outcome,
                "kind": row.kind,
                # In the order they were written (that of their ids).
                "attachments": [a.filename for a in kept_files if not a.inline],
            },
        )
    rooms = [FEED_TICKETS]
    if row.ticket_id:
        rooms.append(f"ticket:{row.ticket_id}")
    if row.customer_id:
        rooms.append(f"customer:{row.customer_id}")
    publish(
        session,
        "mail.received",
        rooms,
        {
            "mail_message_id": row.id,
            "ticket_id": row.ticket_id,
            "customer_id": row.customer_id,
            "outcome": result.outcome,
            "kind": row.kind,
            "from": row.from_address,
            "subject": row.subject[:200],
        },
    )
