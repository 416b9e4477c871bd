"""Twilio's SMS webhooks: `POST /twilio/sms` (a text arrives), `/twilio/sms/status`."""

from __future__ import annotations

from flask import Blueprint, Response, request

from helpdesk.extensions import csrf, db
from telephony import adapters, sms, sms_inbound, sms_recovery
from telephony import webhook_forms as forms
from telephony.webhooks import bad_webhook, signed

bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio/sms")
csrf.exempt(bp)
bp.register_error_handler(forms.BadWebhook, bad_webhook)

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def settings() -> sms.SmsSettings:
    return adapters.sms_settings()


@bp.post("")
@signed
def incoming() -> Response:
    # A copy of the webhook inserts nothing (`sms_inbound.receive`: its insert does nothing
    # once the first one's row is committed) and gets the same answer.
    sms_inbound.receive(db.session, forms.inbound_sms(request.form), settings())
    # Replies leave through the outbox, never in this response: each is sent exactly once.
    return Response(EMPTY, mimetype="text/xml")


@bp.post("/status")
@signed
def status() -> Response:
    update = forms.SmsStatusUpdate.read(request.form, request.args)
    if update.message_sid and update.status:
        sms_recovery.apply_status(
            db.session,
            message_sid=update.message_sid,
            status=update.status,
            key=update.key,
            error_code=update.error_code,
        )
    return Response(status=204)
