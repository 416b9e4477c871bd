"""Twilio's recording status callback: `POST /twilio/voice/recording-status`.

Signed like every voice webhook (403 otherwise); its values are checked at the edge as
`telephony.webhook_forms` does. It says a call recording's audio is ready (`completed`) or that
there is none (`absent`); other statuses, replays and unknown recordings change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, request

from helpdesk.extensions import csrf, db
from telephony import recordings
from telephony import webhook_forms as forms
from telephony.webhooks import bad_webhook, signed

bp = Blueprint("twilio_recordings", __name__, url_prefix="/twilio/voice")
csrf.exempt(bp)
bp.register_error_handler(forms.BadWebhook, bad_webhook)

RECORDING_SID = 64


@dataclass(frozen=True)
class RecordingStatus:
    sid: str
    status: str
    url: str
    duration_s: int | None

    @classmethod
    def read(cls, form: forms.Form) -> RecordingStatus:
        duration = forms.count(form, "RecordingDuration", default=-1, low=0, high=86_400)
        return cls(
            sid=forms.text(form, "RecordingSid", limit=RECORDING_SID, required=True),
            status=forms.text(form, "RecordingStatus", limit=20),
            url=forms.text(form, "RecordingUrl", limit=forms.RECORDING_URL),
            duration_s=None if duration < 0 else duration,
        )


@bp.post("/recording-status")
@signed
def recording_status() -> Response:
    update = RecordingStatus.read(request.form)
    if update.status in ("completed", "absent"):
        recordings.completed(
            db.session,
            recording_sid=update.sid,
            status=update.status,
            media_url=update.url,
            duration_s=update.duration_s,
        )
    return Response("", status=204)
