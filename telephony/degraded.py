"""What a caller hears when the database fails under a voice webhook.

Without this, a dropped PostgreSQL connection turns a webhook into a 500 and the caller hears
Twilio's "an application error has occurred". Instead the webhook answers a short apology in
French and English and then hands the call to `HELPDESK_VOICE_FALLBACK_URL` (the same TwiML Bin
configured as the number's fallback URL in Twilio's console, which takes a message), or hangs up
when none is configured. Nothing is half-written: the session is rolled back first. The next
request gets a fresh connection from the pool: the disconnect invalidated the pool's older
connections, and one that sat idle is checked before use (`helpdesk.db.ping_when_idle`).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app
from sqlalchemy.exc import DBAPIError, OperationalError
from twilio.twiml.voice_response import VoiceResponse

from helpdesk.extensions import db

log = logging.getLogger(__name__)

APOLOGY_FR = "Nous rencontrons un problème technique. Merci de rappeler dans quelques minutes."
APOLOGY_EN = "We are having a technical problem. Please call again in a few minutes."


def degraded_answer() -> Response:
    response = VoiceResponse()
    response.say(APOLOGY_FR, language="fr-FR")
    response.say(APOLOGY_EN, language="en-US")
    fallback = current_app.config.get("HELPDESK_VOICE_FALLBACK_URL") or ""
    if fallback:
        response.redirect(fallback, method="POST")
    else:
        response.hangup()
    return Response(str(response), mimetype="text/xml")


def _database_failed(exc: Exception) -> Response:
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone altogether; the pool replaces it
        log.warning("rollback after a database failure failed too", exc_info=True)
    log.error("voice webhook answered the degraded TwiML: %s", type(exc).__name__)
    return degraded_answer()


def install(bp: Blueprint) -> None:
    """Answer the degraded TwiML from every webhook of `bp` when the database fails."""
    bp.register_error_handler(OperationalError, _database_failed)
    bp.register_error_handler(DBAPIError, _database_failed)
