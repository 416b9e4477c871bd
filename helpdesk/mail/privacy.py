"""E-mail's personal data: the messages a customer sent or was sent, their files, and the
addresses listed as bouncing.

Messages keep their direction, kind, status, Message-ID, ticket and times (the channel's
figures, and what a late retry of the same message must still find to be recognised); the
addresses, names, subject, bodies, references and provider errors go, and so do the original's
bytes. Files are deleted (their rows now, their bytes once the erasure commits). A message still
waiting to be sent to the customer is not sent. An address that bounced is forgotten.

Without an SMTP server, each message sent is also an `.eml` file kept by the local simulator
(helpdesk.mail.simulator); it names the customer and carries what they were told, so erasing the
customer deletes the files sent to any of their addresses, once the erasure commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, func, or_, select

from helpdesk.db import DbSession
from helpdesk.events import on_commit
from helpdesk.mail.models import Attachment, BouncingAddress, MailMessage
from helpdesk.privacy.registry import ERASED, Holder, Subject, register

UNSENT = ("queued", "retry", "sending")


def _messages(session: DbSession, subject: Subject) -> list[MailMessage]:
    emails = [e.lower() for e in subject.emails]
    return list(
        session.scalars(
            select(MailMessage)
            .where(
                or_(
                    MailMessage.customer_id.in_(subject.customer_ids),
                    func.lower(MailMessage.from_address).in_(emails),
                )
            )
            .order_by(MailMessage.id)
        )
    )


def _files(session: DbSession, subject: Subject, message_ids: list[int]) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment).where(
                or_(
                    Attachment.customer_id.in_(subject.customer_ids),
                    Attachment.mail_message_id.in_(message_ids),
                )
            )
        )
    )


def _delete_after_commit(session: DbSession, keys: list[str]) -> None:
    if not keys or not has_app_context():
        return
    from helpdesk.mail.store import attachment_store

    store = attachment_store(current_app._get_current_object())  # type: ignore[attr-defined]

    def remove() -> None:
        for key in keys:
            store.delete(key)

    on_commit(session, remove)


def _blank(row: MailMessage) -> bool:
    if row.subject == ERASED and row.from_address == ERASED and row.raw_key is None:
        return False
    row.from_address, row.from_name, row.subject = ERASED, "", ERASED
    row.to_addresses, row.cc_addresses, row.references = [], [], []
    row.in_reply_to, row.raw_key = None, None
    row.body_text, row.full_text, row.body_html = "", "", ""
    row.error = "customer erased" if row.status in UNSENT else ""
    if row.status in UNSENT:
        row.status = "failed"
    return True


def erase(session: DbSession, subject: Subject) -> int:
    rows = _messages(session, subject)
    keys = [r.raw_key for r in rows if r.raw_key]
    changed = sum(1 for row in rows if _blank(row))
    files = _files(session, subject, [r.id for r in rows])
    keys += [f.storage_key for f in files]
    for att in files:
        session.delete(att)
    changed += len(files)
    emails = [e.lower() for e in subject.emails]
    if emails:
        result = session.execute(
            delete(BouncingAddress).where(func.lower(BouncingAddress.address).in_(emails))
        )
        changed += int(getattr(result, "rowcount", 0) or 0)
    _delete_after_commit(session, keys)
    return changed


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    rows = _messages(session, subject)
    names: dict[int, list[str]] = {}
    for att in _files(session, subject, [r.id for r in rows]):
        if att.mail_message_id is not None:
            names.setdefault(att.mail_message_id, []).append(att.filename)
    return {
        "mail_messages": [
            {
                "id": r.id,
                "direction": r.direction,
                "kind": r.kind,
                "from_address": r.from_address,
                "to_addresses": list(r.to_addresses),
                "cc_addresses": list(r.cc_addresses),
                "subject": r.subject,
                "body_text": r.body_text,
                "status": r.status,
                "created_at": r.created_at,
                "ticket_id": r.ticket_id,
                "attachments": names.get(r.id, []),
            }
            for r in rows
        ]
    }


register(
    Holder(
        name="mail",
        covers={
            "mail_messages": (
                "from_address",
                "from_name",
                "to_addresses",
                "cc_addresses",
                "subject",
                "in_reply_to",
                "references",
                "body_text",
                "full_text",
                "body_html",
                "raw_key",
                "error",
            ),
            "attachments": ("filename", "storage_key", "sha256"),
            "bouncing_addresses": ("address", "reason"),
        },
        erase=erase,
        export=export,
        parts=("mail_messages",),
    )
)


def erase_simulator_copies(session: DbSession, subject: Subject) -> int:
    from helpdesk.mail.transport import simulator

    if not subject.emails or not has_app_context():
        return 0
    found = simulator(current_app)
    if found is None:
        return 0
    paths = found.files_to(subject.emails)
    if paths:
        on_commit(session, lambda: found.delete(paths))
    return len(paths)


register(Holder(name="mail_simulator", covers={}, erase=erase_simulator_copies, export=None))
