"""A recording's audio for the console's player (the customer's timeline, the caller screen).

The same rights as the API (`telephony.recordings.media_for`): the signed-in staff user hears a
restricted queue's recordings only as one of its agents or a supervisor. The audio comes through
the helpdesk, so the page never holds the provider's address.
"""

from __future__ import annotations

from flask import Response
from flask_login import login_required

from agents_ui.account import me
from agents_ui.blueprint import bp
from helpdesk.extensions import db
from telephony import adapters, recordings
from telephony.recordings_api import audio_response


@bp.get("/recordings/<int:recording_id>/audio")
@login_required
def recording_audio(recording_id: int) -> Response:
    audio, content_type = recordings.media_for(
        db.session, user=me(), recording_id=recording_id, recorder=adapters.recorder()
    )
    return audio_response(audio, content_type)
