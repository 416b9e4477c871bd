"""An e-mail's original and its files, for staff: the headers, the whole text, the sanitised HTML
in a sandbox, the raw message, and each attachment as a download.

What a customer's mail program wrote is never trusted. The sanitised HTML is served from its own
URL with a policy that runs nothing and loads nothing from elsewhere (`sandbox`, no scripts, no
remote images, no forms), and the console shows it only in an `<iframe sandbox>`: even HTML the
sanitiser missed cannot reach the console's cookies, pages or API. Files and the raw message are
always downloads (`Content-Disposition: attachment`, `nosniff`), never opened in place.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import Response, abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from agents_ui import mail_reply, mail_thread
from agents_ui.blueprint import bp, error_page, role_required
from helpdesk.auth import permissions
from helpdesk.extensions import db
from helpdesk.mail.models import Attachment, MailMessage
from helpdesk.tickets import service as tickets

# The policy of the sandboxed HTML: inline styles for the layout mail relies on, images only if
# they are inside the message (data:), nothing else; framed by the console's pages alone.
HTML_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


@bp.context_processor
def _mail_helpers() -> dict[str, Any]:
    return {"bounce_of": _bounce_of}


def _bounce_of(address: str) -> str:
    """What the customer card says beside an address our mail came back from ("" if none)."""
    found = mail_reply.bouncing(db.session, address)
    if found is None:
        return ""
    return str(
        ngettext(
            "Mail to this address came back %(num)d time: %(reason)s",
            "Mail to this address came back %(num)d times: %(reason)s",
            found.bounces,
            reason=found.reason or "—",
        )
    )


def _no_store() -> ResponseReturnValue:
    return error_page(
        503,
        _("Files are not available"),
        _("The attachment store is not configured on this server."),
    )


def _message(ticket_id: int, mail_id: int) -> MailMessage:
    found = db.session.get(MailMessage, mail_id)
    if found is None or found.ticket_id != ticket_id:
        abort(404)
    return found


def download(data: bytes, *, filename: str, content_type: str) -> Response:
    """Bytes as a download that no browser opens or sniffs in place."""
    # The plain name keeps letters, digits and a few marks only: no quote or control character
    # can end the header early; the exact name travels percent-encoded beside it.
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()-]", "_", filename) or "file"
    response = Response(data, mimetype=content_type or "application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.get("/tickets/<int:ticket_id>/mail/<int:mail_id>", endpoint="mail_original")
@role_required(*permissions.STAFF)
def mail_original(ticket_id: int, mail_id: int) -> ResponseReturnValue:
    ticket = tickets.get(db.session, ticket_id)
    row = _message(ticket.id, mail_id)
    rows = db.session.scalars(
        select(Attachment)
        .where(Attachment.mail_message_id == row.id, Attachment.inline.is_(False))
        .order_by(Attachment.id)
    )
    views = [mail_thread.file_view(a) for a in rows]
    return render_template(
        "tickets/mail_original.html",
        ticket=ticket,
        mail=row,
        view=mail_thread.mail_view(row, views),
        headers=_headers(row),
    )


def _headers(row: MailMessage) -> list[tuple[str, str]]:
    pairs: list[tuple[str, Any]] = [
        (_("From"), f"{row.from_name} <{row.from_address}>" if row.from_name else row.from_address),
        (_("To"), ", ".join(row.to_addresses or [])),
        (_("Cc"), ", ".join(row.cc_addresses or [])),
        (_("Subject"), row.subject),
        ("Message-ID", f"<{row.message_id}>"),
        ("In-Reply-To", f"<{row.in_reply_to}>" if row.in_reply_to else ""),
        ("References", " ".join(f"<{r}>" for r in row.references or [])),
        (_("Received by"), row.source),
    ]
    return [(name, str(value)) for name, value in pairs if value]


@bp.get("/tickets/<int:ticket_id>/mail/<int:mail_id>/html", endpoint="mail_html")
@role_required(*permissions.STAFF)
def mail_html(ticket_id: int, mail_id: int) -> ResponseReturnValue:
    """The message's sanitised HTML, to be shown only inside the original page's sandbox."""
    row = _message(ticket_id, mail_id)
    if not row.body_html:
        abort(404)
    page = '<!doctype html><meta charset="utf-8"><base target="_blank">' + row.body_html
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/tickets/<int:ticket_id>/mail/<int:mail_id>/raw", endpoint="mail_raw")
@role_required(*permissions.STAFF)
def mail_raw(ticket_id: int, mail_id: int) -> ResponseReturnValue:
    """The message exactly as it arrived, as a `.eml` file."""
    row = _message(ticket_id, mail_id)
    if not row.raw_key:
        abort(404)
    store = mail_reply.attachment_store()
    if store is None:
        return _no_store()
    raw = store.open(row.raw_key)
    return download(raw, filename=f"message-{row.id}.eml", content_type="message/rfc822")


@bp.get("/attachments/<int:attachment_id>", endpoint="attachment_download")
@role_required(*permissions.STAFF)
def attachment_download(attachment_id: int) -> ResponseReturnValue:
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        abort(404)
    store = mail_reply.attachment_store()
    if store is None:
        return _no_store()
    return download(
        store.open(row.storage_key), filename=row.filename, content_type=row.content_type
    )
