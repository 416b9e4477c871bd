"""What every IVR webhook needs to speak TwiML: the configuration in use, absolute URLs, `<Say>`.

Shared by the voice webhooks and the IVR's self-service steps, so both say things the same way
(the caller's voice and language) and build the URLs Twilio signs the same way."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from twilio.twiml.voice_response import Gather, VoiceResponse

from telephony import ivr


def config() -> dict[str, Any]:
    return ivr.load(current_app.instance_path)


def url(endpoint: str, **values: Any) -> str:
    """The public URL of `endpoint`: Twilio signs what it calls, which is this, not the
    internal address behind a proxy."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return str(base) + url_for(endpoint, **values)


def say(response: VoiceResponse | Gather, text: str, language: str) -> None:
    voice = config()["voices"].get(language)
    response.say(text, language=ivr.twilio_language(language), voice=voice)
