"""The e-mail outbox: every outgoing message is a row written with the change that sends it, then
sent once by a worker that claims it.

The guarantees, and their honest limits:

- Written or not at all: `queue_message` adds the row to the caller's transaction; a rolled-back
  reply sends nothing, and the task that sends it only leaves once the transaction commits.
- Claimed before sent: `send` moves the row from `queued`/`retry` to `sending` with a
  compare-and-set and commits that before it talks to the server, so two copies of the task (a
  broker redelivery, the recovery sweep) never send one row twice.
- Retried with back-off: a server that cannot be reached, or answers 4xx, gets the message again
  after 1, 5, 15, 60 and 240 minutes; a 5xx, or the sixth failure, gives up: the row is `failed`
  with the server's reason, and the reply it carries shows `failed`.
- A worker that dies between the server's `250` and our commit leaves the row `sending`. SMTP has
  no way to ask a server whether it took a message, so this one case cannot be decided: the
  recovery sweep sends the row again, built from the same row into the same bytes (same
  Message-ID, same Date). The helpdesk records one message and one delivery; the mailbox may
  hold two identical copies, which clients and providers that de-duplicate by Message-ID show
  once (many do; none is obliged to). Sending nothing instead would lose every message whose
  worker died before the server took it, which is the likelier case. Through the local simulator,
  which can be asked (`find`), nothing is ever stored twice.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import bindparam, exists, select, update

from helpdesk.db import DbSession, utcnow
from helpdesk.errors import ValidationFailed
from helpdesk.events import on_commit
from helpdesk.mail import compose
from helpdesk.mail.models import Attachment, MailMessage
from helpdesk.mail.smtp import MailTransport, SendFailed

log = logging.getLogger(__name__)

SEND_TASK = "helpdesk.mail.send"
# Minutes between attempts: greylisting servers ask for a few minutes, outages last longer.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
DEFAULT_FROM = "Helpdesk <helpdesk@localhost>"
# How many Message-IDs of the thread a reply's `References` names: the first (the thread's
# root) and the latest ones, as RFC 5322 suggests when a thread grows long.
MAX_REFERENCES = 20


def next_attempt_delay(attempts: int) -> timedelta | None:
    """How long before trying again after `attempts` failures; None once it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return BACKOFF[max(attempts, 1) - 1]


def sender(mail_from: str) -> tuple[str, str]:
    """`MAIL_FROM` (`Support <support@example.com>` or a bare address) as (name, address)."""
    name, address = parseaddr(mail_from or DEFAULT_FROM)
    compose.check_address("MAIL_FROM", address)
    return name or "Helpdesk", address


def _mail_from() -> str:
    from flask import current_app, has_app_context

    if has_app_context():
        return str(current_app.config.get("MAIL_FROM") or DEFAULT_FROM)
    return DEFAULT_FROM


def _invalid(field: str, exc: ValueError) -> ValidationFailed:
    return ValidationFailed(str(exc), fields={field: str(exc)})


def _recipients(to: str | Sequence[str]) -> list[str]:
    addresses = [to] if isinstance(to, str) else list(to)
    if not addresses:
        raise ValidationFailed("no recipient", fields={"to": "must name an address"})
    try:
        return [compose.check_address("to", a.strip()) for a in addresses]
    except ValueError as exc:
        raise _invalid("to", exc) from exc


def thread_headers(session: DbSession, ticket_id: int) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) for a new message on a ticket: it answers the customer's last
    message (else our last one), and names the thread's first message and its latest ones."""
    rows = session.execute(
        select(MailMessage.message_id, MailMessage.direction)
        .where(MailMessage.ticket_id == ticket_id, MailMessage.kind.in_(("message", "ack")))
        .order_by(MailMessage.id)
    ).all()
    if not rows:
        return None, []
    inbound = [r.message_id for r in rows if r.direction == "inbound"]
    parent = inbound[-1] if inbound else rows[-1].message_id
    ids = [r.message_id for r in rows]
    refs = ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return parent, refs


def _tagged_subject(subject: str, reference: str | None) -> str:
    if reference is None or f"[{reference}]".lower() in subject.lower():
        return subject
    is_reply = subject.lower().startswith("re:")
    return compose.reply_subject(subject, reference, reply=is_reply)


def _kind(kind: str, auto: bool) -> str:
    """Automatic mail is told by its kind (the row has no other place to say it)."""
    if auto and kind == "message":
        return "auto"
    if auto and kind not in compose.AUTO_KINDS:
        raise ValueError(f"kind {kind!r} is not one of the automatic kinds {compose.AUTO_KINDS}")
    return kind


def _row(
    *,
    kind: str,
    key: str,
    recipients: list[str],
    subject: str,
    text: str,
    html: str | None,
    author: Any,
    language: str,
    ticket: Any,
    in_reply_to: str | None,
    references: list[str],
) -> MailMessage:
    """The outbox row: the text as sent (signature and footer in the customer's language) and
    its sanitised HTML are made now, so that every attempt sends the same message."""
    team, from_address = sender(_mail_from())
    reference = ticket.reference if ticket is not None else None
    signed = compose.Signed(
        agent=getattr(author, "name", None),
        team=team,
        reference=reference,
        language=language,
        auto=kind in compose.AUTO_KINDS,
    )
    return MailMessage(
        message_id=f"{uuid.uuid4().hex}@{from_address.rpartition('@')[2]}",
        idempotency_key=key,
        direction="outbound",
        kind=kind,
        from_address=from_address,
        # The agent's name where a person wrote it: the customer sees who answers them.
        from_name=f"{signed.agent} ({team})" if signed.agent else team,
        to_addresses=recipients,
        cc_addresses=[],
        subject=_tagged_subject(subject, reference),
        in_reply_to=in_reply_to.strip("<>") if in_reply_to else None,
        references=[r.strip("<>") for r in references],
        body_text=text,
        full_text=compose.full_text(text, signed),
        body_html=compose.html_part(text, signed, markup=html),
        customer_id=getattr(ticket, "requester_id", None),
        ticket_id=ticket.id if ticket is not None else None,
        author_user_id=getattr(author, "id", None),
        status="queued",
        created_at=utcnow(),
    )


def queue_message(
    session: DbSession,
    *,
    to: str | Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    ticket: Any = None,
    comment: Any = None,
    customer_id: int | None = None,
    author: Any = None,
    kind: str = "message",
    auto: bool = False,
    language: str = "en",
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    attachment_ids: Iterable[int] = (),
    list_unsubscribe: str | None = None,
) -> MailMessage:
    """Write an outgoing message in the caller's transaction; it is sent after the commit, once.

    A line break in the subject or an address is refused (422), never cleaned: it is a header
    injection attempt, or a bug upstream. A second call for the same comment returns the first
    row. The fixed text around the words (signature, footer) is in `language`.
    `list_unsubscribe` (campaign mail) is the one-click unsubscribe URL sent as a header.
    """
    try:
        subject = compose.check_line("subject", subject)
    except ValueError as exc:
        raise _invalid("subject", exc) from exc
    try:
        if list_unsubscribe is not None:
            compose.check_line("list_unsubscribe", list_unsubscribe)
    except ValueError as exc:
        raise _invalid("list_unsubscribe", exc) from exc
    recipients = _recipients(to)
    key = f"comment:{comment.id}" if comment is not None else uuid.uuid4().hex
    if comment is not None:
        existing = session.scalar(select(MailMessage).where(MailMessage.idempotency_key == key))
        if existing is not None:
            return existing  # type: ignore[no-any-return]
    kind = _kind(kind, auto)
    refs = list(references)
    if ticket is not None and in_reply_to is None and not refs:
        in_reply_to, refs = thread_headers(session, ticket.id)
    row = _row(
        kind=kind,
        key=key,
        recipients=recipients,
        subject=subject,
        text=text,
        html=html,
        author=author,
        language=language,
        ticket=ticket,
        in_reply_to=in_reply_to,
        references=refs,
    )
    if customer_id is not None:
        row.customer_id = customer_id
    row.list_unsubscribe = list_unsubscribe
    row.comment_id = comment.id if comment is not None else None
    session.add(row)
    session.flush()
    _attach(session, row.id, list(attachment_ids))
    send_after_commit(session, row.id)
    return row


def _attach(session: DbSession, row_id: int, ids: list[int]) -> None:
    """Files already in the attachment store (an agent's upload) go with this message."""
    if ids:
        session.execute(
            update(Attachment)
            .where(Attachment.id.in_(ids), Attachment.mail_message_id.is_(None))
            .values(mail_message_id=row_id)
            .execution_options(synchronize_session=False)
        )


def send_after_commit(session: DbSession, row_id: int) -> None:
    from flask import current_app, has_app_context

    if has_app_context() and current_app.extensions.get("celery") is not None:
        celery = current_app.extensions["celery"]
        on_commit(session, lambda: celery.tasks[SEND_TASK].delay(row_id))


# -- sending ---------------------------------------------------------------------------------------

# Reads an attachment's bytes by its storage key (the attachment store's `open`).
AttachmentReader = Any


# What sending needs of a row, read by the claim itself (UPDATE ... RETURNING): a message is two
# short transactions, the claim and the outcome, and nothing more (bench/mail_out.py).
_SENT_AS = (
    MailMessage.id,
    MailMessage.message_id,
    MailMessage.kind,
    MailMessage.from_address,
    MailMessage.from_name,
    MailMessage.to_addresses,
    MailMessage.cc_addresses,
    MailMessage.subject,
    MailMessage.in_reply_to,
    MailMessage.references,
    MailMessage.body_text,
    MailMessage.full_text,
    MailMessage.list_unsubscribe,
    MailMessage.body_html,
    MailMessage.comment_id,
    MailMessage.attempts,
    MailMessage.created_at,
)


@functools.cache
def _claim_statement() -> Any:
    """The claim, built once: making the statement anew costs more Python than running it."""
    now = bindparam("now", type_=MailMessage.claimed_at.type)
    return (
        update(MailMessage)
        .where(
            MailMessage.id == bindparam("row_id"),
            MailMessage.direction == "outbound",
            MailMessage.status.in_(("queued", "retry")),
            MailMessage.next_attempt_at.is_(None) | (MailMessage.next_attempt_at <= now),
        )
        .values(status="sending", attempts=MailMessage.attempts + 1, claimed_at=now)
        .returning(
            *_SENT_AS,
            exists()
            .where(Attachment.mail_message_id == MailMessage.id, Attachment.inline.is_(False))
            .label("has_files"),
        )
    )


def _claim(session: DbSession, row_id: int, now: datetime) -> Any:
    """The row, moved to `sending` if it was due; None when it was not (sent, being sent, given
    up, or not due yet). Committed before the server is called, so no other worker takes it."""
    # On the connection: a plain statement, without the ORM's bulk-update bookkeeping (the
    # session holds no copy of the row that must follow it before the next commit).
    return session.connection().execute(_claim_statement(), {"row_id": row_id, "now": now}).first()


def _parts(session: DbSession, row_id: int, reader: AttachmentReader) -> list[compose.Part]:
    files = session.execute(
        select(Attachment.filename, Attachment.content_type, Attachment.storage_key)
        .where(Attachment.mail_message_id == row_id, Attachment.inline.is_(False))
        .order_by(Attachment.id)
    ).all()
    if files and reader is None:
        raise ValueError("the message has attachments and no attachment store can read them")
    parts = []
    for f in files:
        try:
            data = reader(f.storage_key)
        except Exception as exc:  # whatever the store raises: it may be away for a while
            raise SendFailed(
                f"attachment {f.filename} unreadable: {exc!r}", permanent=False
            ) from exc
        parts.append(compose.Part(f.filename, f.content_type, data))
    return parts


def outgoing(row: Any, parts: Sequence[compose.Part] = ()) -> bytes:
    """The bytes a row (a MailMessage, or the claim's columns) is sent as: the same every time
    it is built."""
    msg = compose.build(
        compose.Outgoing(
            message_id=row.message_id,
            from_address=row.from_address,
            from_name=row.from_name,
            to=list(row.to_addresses),
            cc=list(row.cc_addresses or []),
            reply_to=row.from_address,
            subject=row.subject,
            text=row.full_text or row.body_text,
            html=row.body_html,
            date=row.created_at,
            in_reply_to=row.in_reply_to,
            references=list(row.references or []),
            auto=row.kind in compose.AUTO_KINDS,
            attachments=tuple(parts),
            list_unsubscribe=getattr(row, "list_unsubscribe", None),
        )
    )
    return compose.serialise(msg)


def _status_of(session: DbSession, row_id: int) -> str:
    found = session.scalar(select(MailMessage.status).where(MailMessage.id == row_id))
    session.commit()
    return str(found) if found is not None else "missing"


def send(
    session: DbSession,
    row_id: int,
    transport: MailTransport,
    *,
    reader: AttachmentReader = None,
    now: datetime | None = None,
) -> str:
    """Send one outbox row if it is still due; returns its status afterwards."""
    now = now or utcnow()
    row = _claim(session, row_id, now)
    if row is None:
        session.commit()
        return _status_of(session, row_id)  # nothing to do
    try:
        raw = outgoing(row, _parts(session, row.id, reader) if row.has_files else ())
    except ValueError as exc:  # a stored value no server may see: trying again cannot help
        session.commit()
        return _give_up(session, row, f"not sendable: {exc}")
    except SendFailed as exc:  # a file the attachment store could not give back, this time
        session.commit()
        return _failed_attempt(session, row, exc, now)
    session.commit()  # the claim is visible before the server is called
    try:
        transport.send(
            raw,
            sender=row.from_address,
            recipients=[*row.to_addresses, *(row.cc_addresses or [])],
            message_id=row.message_id,
        )
    except SendFailed as exc:
        return _failed_attempt(session, row, exc, now)
    return _sent(session, row, now)


@functools.cache
def _finish_statement(columns: tuple[str, ...]) -> Any:
    """The update of an attempt's outcome, built once for each set of columns it sets."""
    table = MailMessage.__table__
    return (
        update(MailMessage)
        .where(MailMessage.id == bindparam("row_id"))
        .values({c: bindparam(c, type_=table.c[c].type) for c in columns})
    )


def _finish(session: DbSession, row: Any, status: str, **values: Any) -> str:
    """Record the outcome of an attempt, and the reply's delivery with it, in one commit."""
    values["status"] = status
    statement = _finish_statement(tuple(sorted(values)))
    session.connection().execute(statement, {"row_id": row.id, **values})
    if status in ("sent", "failed"):
        _track_reply(session, row, status)
    session.commit()
    return status


def _sent(session: DbSession, row: Any, now: datetime) -> str:
    return _finish(session, row, "sent", sent_at=now, next_attempt_at=None)


def _give_up(session: DbSession, row: Any, reason: str) -> str:
    log.warning("giving up on e-mail %s to %s: %s", row.id, list(row.to_addresses), reason)
    return _finish(session, row, "failed", error=reason[:300], next_attempt_at=None)


def _failed_attempt(session: DbSession, row: Any, exc: SendFailed, now: datetime) -> str:
    attempts = row.attempts  # as the claim returned it: this attempt counted
    delay = None if exc.permanent else next_attempt_delay(attempts)
    if delay is None:
        why = "refused" if exc.permanent else f"gave up after {attempts} attempts"
        return _give_up(session, row, f"{why}: {exc.reason}")
    return _finish(session, row, "retry", error=exc.reason[:300], next_attempt_at=now + delay)


def _track_reply(session: DbSession, row: Any, status: str) -> None:
    """Report the message's new state to the agent's reply it carries, if it carries one."""
    if row.comment_id is None:
        return
    from helpdesk.tickets import service as tickets

    tickets.record_delivery(session, channel="email", ref=row.message_id, status=status)


def recover(
    session: DbSession,
    transport: MailTransport,
    *,
    stuck_after: timedelta = timedelta(minutes=5),
    now: datetime | None = None,
) -> int:
    """Rows a dead worker left `sending`, retries that fell due, and rows whose task was lost.

    A row counts as left behind once it has been `sending` for `stuck_after` since its claim
    (well over the SMTP timeout). The transport is asked first; where it cannot know (SMTP), the
    row is sent again with the same Message-ID (see the module's docstring). Returns how many
    rows left behind were settled.
    """
    now = now or utcnow()
    fixed = 0
    stuck = session.scalars(
        select(MailMessage)
        .where(
            MailMessage.direction == "outbound",
            MailMessage.status == "sending",
            MailMessage.claimed_at <= now - stuck_after,
        )
        .limit(200)
    )
    for row in list(stuck):
        if transport.find(row.message_id):
            row.status, row.sent_at, row.next_attempt_at = "sent", now, None
            _track_reply(session, row, "sent")
        else:
            # Due at once: the send below must be able to claim it, whatever `now` says.
            row.status, row.next_attempt_at = "retry", None
            send_after_commit(session, row.id)
        fixed += 1
    due = session.scalars(
        select(MailMessage.id)
        .where(
            MailMessage.direction == "outbound",
            (MailMessage.status == "retry") & (MailMessage.next_attempt_at <= now)
            | (MailMessage.status == "queued") & (MailMessage.created_at <= now - stuck_after),
        )
        .limit(500)
    )
    for row_id in list(due):
        send_after_commit(session, row_id)
    session.commit()
    return fixed
