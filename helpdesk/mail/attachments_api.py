"""Files an agent uploads to send with a reply: `POST /tickets/{id}/attachments`.

The endpoint sits with the files (their checks and their store) rather than in the ticket API,
which only lists them on comments through `helpdesk.tickets.files`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from helpdesk.api.core import current_api_user, operation
from helpdesk.errors import APIError, ValidationFailed
from helpdesk.extensions import db
from helpdesk.mail import uploads
from helpdesk.tickets import service
from helpdesk.tickets.api import AttachmentOut, attachment_out

bp = Blueprint("mail_files_api", __name__, url_prefix="/api/v1")


@operation(
    bp,
    "/tickets/<int:ticket_id>/attachments",
    "POST",
    summary="Upload a file to send with a reply (multipart/form-data, field `file`); then name "
    "its id in the reply's `attachment_ids`",
    response=AttachmentOut,
    status=201,
    tag="tickets",
    raw_body={
        "multipart/form-data": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
        }
    },
    errors={503: "no attachment store is configured"},
)
def upload_attachment(ticket_id: int) -> AttachmentOut:
    ticket = service.get(db.session, ticket_id)
    given = request.files.get("file")
    if given is None or not given.filename:
        raise ValidationFailed("no file", fields={"file": "send one file in the field `file`"})
    upload = uploads.Upload(
        filename=given.filename, data=given.read(), declared_type=given.mimetype or ""
    )
    limits = uploads.Limits.from_config(current_app.config)
    [(checked, kind)] = uploads.check([upload], limits)
    store = uploads.file_store(current_app)
    if store is None:
        raise APIError("no attachment store is configured", code="no_store", status=503)
    row = uploads.store_upload(
        db.session,
        store,
        checked,
        content_type=kind,
        ticket_id=ticket.id,
        customer_id=ticket.requester_id,
        user_id=current_api_user().id,
    )
    db.session.commit()
    return attachment_out(row)
