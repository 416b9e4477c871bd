"""The files a message carries, kept in the attachment store within the size limit.

The limit is on the decoded files of one message together (`MAIL_MAX_MESSAGE_BYTES`, 25 MB by
default). A file past it is not kept; the comment names it and its size, so an agent knows to ask
for it another way, and the message's text is taken in all the same.
"""

from __future__ import annotations

from helpdesk.db import DbSession
from helpdesk.mail.models import Attachment, MailMessage
from helpdesk.mail.parse import ParsedMail
from helpdesk.mail.store import MB, AttachmentStore, sniff_type


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{max(1, n // 1024)} KB"


def keep_files(
    session: DbSession,
    row: MailMessage,
    mail: ParsedMail,
    *,
    budget: int,
    store: AttachmentStore,
    stored_keys: list[str],
    customer_id: int | None = None,
    rows: list[Attachment] | None = None,
) -> list[str]:
    """Store the message's files (`budget` bytes at most) and write their rows (added to `rows`,
    so the caller can link them to the ticket without reading them back); returns the names to
    list on the comment (files not kept say why)."""
    names: list[str] = []
    for part in mail.files:
        if len(part.data) > budget:
            names.append(f"{part.filename} ({_size(len(part.data))}, over the limit: not kept)")
            continue
        budget -= len(part.data)
        stored = store.put(part.data)
        stored_keys.append(stored.key)
        attachment = Attachment(
            mail_message_id=row.id,
            customer_id=customer_id,
            filename=part.filename[:255],
            content_type=sniff_type(part.data, part.declared_type),
            declared_type=part.declared_type[:127],
            size=stored.size,
            sha256=stored.sha256,
            storage_key=stored.key,
            inline=part.inline,
        )
        session.add(attachment)
        if rows is not None:
            rows.append(attachment)
        if not part.inline:
            names.append(f"{part.filename} ({_size(stored.size)})")
    session.flush()
    return names
