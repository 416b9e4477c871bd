"""The raw-MIME ingress and the staff-only download of attachments.

`POST /api/v1/mail/inbound` takes one RFC 5322 message as the body (`Content-Type:
message/rfc822`) from a mail provider's inbound route or a script holding an `integration` (or
admin) token, and answers what became of it. A retry of the same message answers `duplicate`
with the same ticket and changes nothing, so a provider that retries on a timeout is safe.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel

from helpdesk.api.core import ANY_STAFF, operation
from helpdesk.auth import permissions
from helpdesk.errors import APIError, NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.models import Attachment
from helpdesk.mail.store import MB, SNIFFED_TYPES, attachment_store

bp = Blueprint("mail_api", __name__, url_prefix="/api/v1/mail")

RAW_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")


class IngestedOut(BaseModel):
    outcome: str
    ticket_id: int | None
    mail_message_id: int | None
    reason: str


def _largest_body() -> int:
    """Twice the files' limit: a message somewhat over it (a 30 MB scan, 40 MB once encoded)
    is still taken in, its text kept and the file named as not kept, rather than refused whole;
    past this it is refused (413) and the sender's server tells them."""
    settings = inbound.settings_for(current_app)
    return settings.max_message_bytes * 2 + 4 * MB


@operation(
    bp,
    "/inbound",
    "POST",
    summary="Hand the helpdesk one raw inbound e-mail (message/rfc822 body); a retry of the "
    "same message changes nothing",
    roles=(*permissions.MAIL_INGRESS,),
    response=IngestedOut,
    tag="mail",
    raw_body={"message/rfc822": {"type": "string", "format": "binary"}},
    errors={413: "the message is larger than the size limit allows"},
)
def ingest_raw() -> IngestedOut:
    if request.mimetype not in RAW_TYPES:
        raise APIError(
            "expected the raw message (Content-Type: message/rfc822)",
            code="unsupported_media_type",
            status=415,
        )
    limit = _largest_body()
    if (request.content_length or 0) > limit:
        raise APIError(f"the message is larger than {limit // MB} MB", code="too_large", status=413)
    request.max_content_length = limit
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise ValidationFailed("the body is empty", fields={"body": "expected a raw message"})
    result = inbound.ingest(db.session, raw, source="ingress")
    return IngestedOut(
        outcome=result.outcome,
        ticket_id=result.ticket_id,
        mail_message_id=result.mail_message_id,
        reason=result.reason,
    )


def _ascii_name(name: str) -> str:
    cleaned = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name
    )
    return cleaned.strip() or "attachment"


@operation(
    bp,
    "/attachments/<int:attachment_id>",
    "GET",
    summary="Download an attachment (always as a download, with the type sniffed from its bytes)",
    roles=ANY_STAFF,
    tag="mail",
    media={ctype: {"type": "string", "format": "binary"} for ctype in SNIFFED_TYPES},
    errors={404: "no such attachment, or its file is gone"},
)
def download_attachment(attachment_id: int) -> Any:
    att = db.session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound(f"no attachment {attachment_id}")
    store = attachment_store(current_app)
    try:
        data = store.open(att.storage_key)
    except (KeyError, FileNotFoundError) as exc:
        raise NotFound(f"the file of attachment {attachment_id} is gone") from exc
    from urllib.parse import quote

    response = Response(data, mimetype=att.content_type or "application/octet-stream")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_ascii_name(att.filename)}"; '
        f"filename*=UTF-8''{quote(att.filename, safe='')}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
