"""Twilio's SMS webhooks: `POST /twilio/sms` (a text arrives), `/twilio/sms/status`."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from helpdesk.extensions import csrf, db
from telephony import sms, sms_spool
from telephony.webhooks import signed

bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio/sms")
csrf.exempt(bp)

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def settings() -> sms.SmsSettings:
    return current_app.extensions["sms_settings"]  # type: ignore[no-any-return]


@bp.post("")
@signed
def incoming() -> Response:
    inbound = sms_spool.inbound_from(request.form)
    if inbound is None:
        abort(400)
    sms.receive(db.session, inbound, settings())
    # Replies leave through the outbox, never in this response: each is sent exactly once.
    return Response(EMPTY, mimetype="text/xml")


@bp.post("/status")
@signed
def status() -> Response:
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    state = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    if sid and state:
        sms.apply_status(
            db.session,
            message_sid=sid,
            status=state,
            key=request.args.get("key"),
            error_code=request.form.get("ErrorCode"),
        )
    return Response(status=204)
