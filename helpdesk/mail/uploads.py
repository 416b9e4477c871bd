"""Files an agent attaches to a reply: checked, stored, then tied to the reply they go out with.

The bytes go to the attachment store (`helpdesk.mail.store`, local files under the instance
folder by default) and only a row with its key, size, digest and sniffed type reaches the
database. A file is uploaded first, on its own (`store_upload`: the API's
`POST /tickets/<id>/attachments`, or the console's reply form just before the reply), and then
tied to the reply by `attach_to_comment`, which the ticket service calls after the reply is
written and before its channel carries it, so the e-mail that leaves already lists the files.

The type is sniffed from the first bytes rather than taken from the browser, and only types a
customer can open safely are accepted: documents, images, text and archives, never HTML,
scripts or executables. An unknown binary is refused rather than sent as "something".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import select

from helpdesk.db import DbSession
from helpdesk.errors import ValidationFailed
from helpdesk.mail.models import Attachment

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # per reply, all files together (MAIL_REPLY_MAX_BYTES)
DEFAULT_MAX_FILES = 5  # per reply (MAIL_REPLY_MAX_FILES)
FILENAME_MAX = 255

# Leading bytes -> the type they announce. ZIP covers the office formats (docx, xlsx, odt).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
)
# Office documents are ZIP files: their extension says which one to call it.
_ZIP_KINDS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_TEXT_KINDS = {"csv": "text/csv"}
_MARKUP = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<head", b"<iframe")
ALLOWED_TYPES = frozenset(
    {t for _, t in _MAGIC} | set(_ZIP_KINDS.values()) | {"text/plain", "text/csv"}
)


class StoredFile(Protocol):
    @property
    def key(self) -> str: ...


class FileStore(Protocol):
    """What this module needs of the attachment store (`helpdesk.mail.store.AttachmentStore`)."""

    def put(self, data: bytes, *, kind: str = "file") -> StoredFile: ...

    def open(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def file_store(app: Any) -> FileStore | None:
    """The application's attachment store, None where this installation has none.

    The store made by `helpdesk.mail.store.attachment_store` is kept on the app
    (`app.extensions["mail_store"]`); a test or a deployment may put its own there first.
    """
    found = app.extensions.get("mail_store")
    if found is not None:
        return cast(FileStore, found)
    try:
        from helpdesk.mail import store  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    return cast(FileStore, store.attachment_store(app))


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_files: int = DEFAULT_MAX_FILES

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        settings = config.get("HELPDESK_SETTINGS")
        return cls(
            max_bytes=int(getattr(settings, "MAIL_REPLY_MAX_BYTES", DEFAULT_MAX_BYTES)),
            max_files=int(getattr(settings, "MAIL_REPLY_MAX_FILES", DEFAULT_MAX_FILES)),
        )


@dataclass(frozen=True)
class Upload:
    """A file as received, before anything is stored."""

    filename: str
    data: bytes
    declared_type: str = ""


def clean_filename(name: str) -> str:
    """The last path component, without control characters, quotes or separators, so that a
    name never escapes a folder or breaks a `Content-Disposition` header."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*;')
    kept = kept.strip(" .")
    return kept[-FILENAME_MAX:] or "file"


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\r\n\t\f" for ch in text)


def sniff(data: bytes, filename: str) -> str | None:
    """The type the bytes really are (None: not a type we send). Pure, for the unit tests."""
    head = data[:512]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "application/zip":
                return _ZIP_KINDS.get(_extension(filename), kind)
            return kind
    lowered = head.lstrip().lower()
    if any(lowered.startswith(tag) for tag in _MARKUP):
        return None  # markup opens as a page in some mail programs: never sent as "text"
    if _looks_like_text(data[:4096]):
        return _TEXT_KINDS.get(_extension(filename), "text/plain")
    return None


class Refused(ValidationFailed):
    """Files a reply cannot carry: `reason` is too_many, too_big, empty, type or no_store, and
    `filename` the file concerned (if one is), so that the console can say it in its words."""

    def __init__(self, reason: str, message: str, *, filename: str = "") -> None:
        super().__init__(message, fields={"files": message}, code=f"attachment_{reason}")
        self.reason = reason
        self.filename = filename


def check(uploads: Sequence[Upload], limits: Limits) -> list[tuple[Upload, str]]:
    """Each upload with its sniffed type; `Refused` for the first thing wrong."""
    if len(uploads) > limits.max_files:
        raise Refused("too_many", f"at most {limits.max_files} files per reply")
    if sum(len(u.data) for u in uploads) > limits.max_bytes:
        raise Refused("too_big", f"at most {limits.max_bytes} bytes of files per reply")
    checked = []
    for upload in uploads:
        if not upload.data:
            raise Refused("empty", f"{upload.filename}: empty file", filename=upload.filename)
        kind = sniff(upload.data, upload.filename)
        if kind is None:
            raise Refused("type", f"{upload.filename}: type not accepted", filename=upload.filename)
        checked.append((upload, kind))
    return checked


def store_upload(
    session: DbSession,
    store: FileStore,
    upload: Upload,
    *,
    content_type: str,
    ticket_id: int,
    customer_id: int | None,
    user_id: int,
) -> Attachment:
    """Store one checked file and write its row, not yet tied to a reply. The caller commits."""
    filename = clean_filename(upload.filename)
    key = store.put(upload.data, kind="reply").key
    row = Attachment(
        ticket_id=ticket_id,
        customer_id=customer_id,
        filename=filename,
        content_type=content_type,
        declared_type=(upload.declared_type or "")[:127],
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        storage_key=key,
        uploaded_by_user_id=user_id,
    )
    session.add(row)
    session.flush()
    return row


def pending(session: DbSession, ids: Sequence[int], *, ticket_id: int, user_id: int) -> list[Any]:
    """The uploads `ids` names that this agent made on this ticket and no reply carries yet;
    `ValidationFailed` if any is missing, someone else's or already sent."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = list(
        session.scalars(
            select(Attachment).where(
                Attachment.id.in_(wanted),
                Attachment.ticket_id == ticket_id,
                Attachment.uploaded_by_user_id == user_id,
                Attachment.comment_id.is_(None),
                Attachment.mail_message_id.is_(None),
            )
        )
    )
    if len(rows) != len(wanted):
        found = {r.id for r in rows}
        missing = ", ".join(str(i) for i in wanted if i not in found)
        raise ValidationFailed(
            "unknown attachments",
            fields={
                "attachment_ids": f"not uploads of yours on this ticket awaiting a reply: {missing}"
            },
        )
    return rows


def attach_to_comment(rows: Sequence[Any], comment_id: int) -> None:
    """Tie checked uploads (`pending`) to the reply that carries them."""
    for row in rows:
        row.comment_id = comment_id


def tie(rows: Sequence[Any]) -> Callable[[Any], None] | None:
    """What `tickets.service.add_comment(before_delivery=...)` calls to tie `rows` to the new
    reply before its channel carries it (None: nothing to tie)."""
    if not rows:
        return None
    return lambda comment: attach_to_comment(rows, comment.id)


def by_comment(session: DbSession, comment_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """The listed files of each comment, in one query."""
    if not comment_ids:
        return {}
    found: dict[int, list[Attachment]] = {}
    rows = session.scalars(
        select(Attachment)
        .where(Attachment.comment_id.in_(list(comment_ids)), Attachment.inline.is_(False))
        .order_by(Attachment.id)
    )
    for row in rows:
        if row.comment_id is not None:
            found.setdefault(row.comment_id, []).append(row)
    return found


def for_comment(session: DbSession, comment_id: int) -> list[int]:
    """The ids of the files a reply carries, for the channel that sends it (`attachment_ids`)."""
    return list(
        session.scalars(
            select(Attachment.id)
            .where(Attachment.comment_id == comment_id, Attachment.inline.is_(False))
            .order_by(Attachment.id)
        )
    )
