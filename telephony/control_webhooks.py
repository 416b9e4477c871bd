"""The TwiML of the call controls: what a caller hears on hold, while a cold transfer finds
them an agent, and when they are handed to an outside number. Reached from the Participants
API (`HoldUrl`) and from call redirects the controls make, signed as every voice webhook."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from helpdesk.extensions import csrf, db
from telephony import ivr
from telephony import webhook_forms as forms
from telephony.hold import on_hold_prompt
from telephony.models import Call
from telephony.transfer import transfer_prompt
from telephony.webhooks import signed, twiml

bp = Blueprint("twilio_controls", __name__, url_prefix="/twilio/voice")
csrf.exempt(bp)  # Twilio posts here, signed: no cookie session for a forged form to ride on


def _config() -> dict[str, Any]:
    return ivr.load(current_app.instance_path)


def _call() -> Call | None:
    sid = forms.call_sid(request.form, required=False)
    return db.session.scalar(db.select(Call).where(Call.call_sid == sid)) if sid else None


def _say_then_music(text_for: Any) -> Response:
    call = _call()
    language = call.language if call is not None else "en"
    cfg = _config()
    response = VoiceResponse()
    voice = cfg["voices"].get(language)
    response.say(text_for(language), language=ivr.twilio_language(language), voice=voice)
    response.play(cfg["hold_music"], loop=0)
    return twiml(response)


@bp.post("/on-hold")
@signed
def on_hold() -> Response:
    """The hold URL of a caller the agent put on hold (`telephony.hold`): a line in their
    language, then the hold music looped until the agent takes them back."""
    return _say_then_music(on_hold_prompt)


@bp.post("/transfer-wait")
@signed
def transfer_wait() -> Response:
    """A cold transfer's caller, out of the first agent's conference: a line in their language,
    then the music until the next agent's accept bridges them again."""
    return _say_then_music(transfer_prompt)


@bp.post("/transfer-number")
@signed
def transfer_number() -> Response:
    """A cold transfer to an outside number: the caller is told, then dialled through to it
    from the center's number. The number is the one the transfer recorded on the call."""
    call = _call()
    response = VoiceResponse()
    number = ((call.transfer or {}).get("to") or {}).get("number") if call is not None else None
    if call is None or not number:
        response.hangup()
        return twiml(response)
    cfg = _config()
    voice = cfg["voices"].get(call.language)
    response.say(
        transfer_prompt(call.language),
        language=ivr.twilio_language(call.language),
        voice=voice,
    )
    response.dial(number, caller_id=current_app.config["TWILIO_PHONE_NUMBER"])
    return twiml(response)
