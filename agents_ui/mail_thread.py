"""The e-mail side of a ticket's conversation: who wrote to whom, what came attached, and which
part of each message is new.

Each stored message (`helpdesk.mail.models.MailMessage`) points at the comment it became (an
inbound reply) or carried (an agent's reply); the opening message of a ticket that an e-mail
started has no comment, its text being the ticket's description. The page shows the new part of
a message and keeps the quoted history behind a "show quoted text" toggle, so a long exchange
does not repeat itself in every comment; the whole original stays one link away.

Everything shown here was written by customers or their mail programs: the templates print it
escaped, and the sanitised HTML is only ever served from its own sandboxed URL
(`mail_pages.mail_html`), never inlined into the console.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import format_decimal
from sqlalchemy import or_, select

from helpdesk.db import DbSession
from helpdesk.mail.models import Attachment, MailMessage


@dataclass(frozen=True)
class FileView:
    """An attached file as listed under its message."""

    id: int
    filename: str
    content_type: str
    size: str
    url: str


@dataclass(frozen=True)
class MailView:
    """One message of the thread, as the ticket page shows it."""

    id: int
    inbound: bool
    sender: str
    sender_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    text: str  # the new part
    quoted: str  # the quoted history below it ("" when there is none)
    status: str
    error: str
    has_html: bool
    files: tuple[FileView, ...] = ()
    original_url: str = ""


@dataclass
class Thread:
    """The ticket's messages: by the comment each one is, and the opening one."""

    by_comment: dict[int, MailView] = field(default_factory=dict)
    opening: MailView | None = None
    # Files an agent attached to a reply that has no e-mail (an internal note, or a reply that
    # went by another channel), by comment.
    files_by_comment: dict[int, tuple[FileView, ...]] = field(default_factory=dict)
    # Mail that is no comment: acknowledgements sent, automatic replies and bounces received.
    others: list[MailView] = field(default_factory=list)
    other_kinds: dict[int, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.by_comment and self.opening is None and not self.files_by_comment


def quoted_part(new: str, full: str) -> str:
    """What `full` holds beyond the new part `new`: the quoted history to fold away.

    The pipeline keeps the new part and the whole text; the history is what follows the new part
    when the whole begins with it (the usual reply), else the whole text (a reply written below
    the quote, or one whose new part was reworded by the parser), and nothing when both are the
    same.
    """
    body, whole = new.strip(), full.strip()
    if not whole or whole == body:
        return ""
    if body and whole.startswith(body):
        return whole[len(body) :].strip()
    return whole


def size_label(size: int) -> str:
    """`912 bytes`, `48 KB`, `3.2 MB`, with the agent's decimal separator."""
    if size < 1024:
        return f"{format_decimal(size)} B"
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024))} KB"
    return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"


def file_view(row: Attachment) -> FileView:
    return FileView(
        id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=size_label(int(row.size)),
        url=url_for("console.attachment_download", attachment_id=row.id),
    )


def mail_view(row: MailMessage, files: Sequence[FileView]) -> MailView:
    return MailView(
        id=row.id,
        inbound=row.direction == "inbound",
        sender=row.from_name or row.from_address,
        sender_address=row.from_address,
        to=tuple(row.to_addresses or ()),
        cc=tuple(row.cc_addresses or ()),
        subject=row.subject,
        text=row.body_text or row.full_text,
        # Only mail received quotes history: what we sent holds the agent's words in body_text
        # and, in full_text, the same words with the signature and footer, which are no quote.
        quoted=quoted_part(row.body_text, row.full_text) if row.direction == "inbound" else "",
        status=row.status,
        error=row.error,
        has_html=bool(row.body_html),
        files=tuple(files),
        original_url=url_for("console.mail_original", ticket_id=row.ticket_id, mail_id=row.id)
        if row.ticket_id
        else "",
    )


def _listed(rows: Iterable[Attachment]) -> list[Attachment]:
    return [a for a in rows if not a.inline]


def thread_for(session: DbSession, ticket_id: int, comment_ids: Sequence[int]) -> Thread:
    """The ticket's messages and files in two queries, whatever the thread's length."""
    mails = list(
        session.scalars(
            select(MailMessage).where(MailMessage.ticket_id == ticket_id).order_by(MailMessage.id)
        )
    )
    mail_ids = [m.id for m in mails]
    conditions = [Attachment.ticket_id == ticket_id]
    if mail_ids:
        conditions.append(Attachment.mail_message_id.in_(mail_ids))
    if comment_ids:
        conditions.append(Attachment.comment_id.in_(list(comment_ids)))
    files = _listed(
        session.scalars(select(Attachment).where(or_(*conditions)).order_by(Attachment.id))
    )
    by_mail: dict[int, list[FileView]] = {}
    by_comment: dict[int, list[FileView]] = {}
    for a in files:
        if a.mail_message_id is not None:
            by_mail.setdefault(a.mail_message_id, []).append(file_view(a))
        elif a.comment_id is not None:
            by_comment.setdefault(a.comment_id, []).append(file_view(a))
    thread = Thread()
    for m in mails:
        own = by_mail.get(m.id, [])
        if m.comment_id is not None:
            seen = {f.id for f in own}
            own = own + [f for f in by_comment.pop(m.comment_id, []) if f.id not in seen]
            thread.by_comment[m.comment_id] = mail_view(m, own)
        elif m.direction == "inbound" and thread.opening is None and m.kind == "message":
            thread.opening = mail_view(m, own)
        else:
            thread.others.append(mail_view(m, own))
            thread.other_kinds[m.id] = m.kind
    thread.files_by_comment = {k: tuple(v) for k, v in by_comment.items()}
    return thread
