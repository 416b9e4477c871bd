"""Recordings over the REST API: a queue's recording policy, pausing a call's recording, the
lists on a call, a ticket and a customer, and the audio, streamed with the caller's rights."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.auth import permissions
from helpdesk.extensions import db
from telephony import adapters, recordings
from telephony.recording_models import CallRecording
from telephony.recording_policy import Policy

bp = Blueprint("telephony_recordings_api", __name__, url_prefix="/api/v1")


class RecordingPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["off", "on", "announce"]
    retention_days: int | None = Field(default=None, ge=1, le=recordings.MAX_RETENTION_DAYS)
    restricted: bool = False


class RecordingPolicyOut(BaseModel):
    queue_id: int
    mode: str
    retention_days: int | None
    restricted: bool


class RecordingPauseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paused: bool


class RecordingOut(BaseModel):
    id: int
    call_id: int
    kind: str
    status: str
    duration_s: int | None
    ticket_id: int | None
    created_at: datetime
    expires_at: datetime | None
    # The helpdesk's own address of the audio; the provider's is never given out.
    media_path: str


class RecordingList(BaseModel):
    items: list[RecordingOut]


def recording_out(r: CallRecording) -> RecordingOut:
    return RecordingOut(
        id=r.id,
        call_id=r.call_id,
        kind=r.kind,
        status=r.status,
        duration_s=r.duration_s,
        ticket_id=r.ticket_id,
        created_at=r.created_at,
        expires_at=r.expires_at,
        media_path=f"/api/v1/recordings/{r.id}/media",
    )


def _policy_out(queue_id: int, policy: Policy) -> RecordingPolicyOut:
    return RecordingPolicyOut(
        queue_id=queue_id,
        mode=policy.mode,
        retention_days=policy.retention_days,
        restricted=policy.restricted,
    )


@operation(
    bp,
    "/queues/<int:queue_id>/recording",
    "GET",
    summary="A queue's recording policy",
    response=RecordingPolicyOut,
    tag="recordings",
)
def get_policy(queue_id: int) -> RecordingPolicyOut:
    return _policy_out(queue_id, recordings.policy_for(db.session, queue_id))


@operation(
    bp,
    "/queues/<int:queue_id>/recording",
    "PUT",
    summary="Set a queue's recording policy (off, on, announce; retention; restricted)",
    roles=permissions.ADMINISTER,
    body=RecordingPolicyIn,
    response=RecordingPolicyOut,
    tag="recordings",
)
def put_policy(queue_id: int, body: RecordingPolicyIn) -> RecordingPolicyOut:
    policy = recordings.save_policy(
        db.session,
        queue_id=queue_id,
        mode=body.mode,
        retention_days=body.retention_days,
        restricted=body.restricted,
    )
    return _policy_out(queue_id, policy)


@operation(
    bp,
    "/calls/<int:call_id>/recording",
    "POST",
    summary="Pause or resume the recording of the call you are on",
    body=RecordingPauseIn,
    response=RecordingOut,
    tag="recordings",
)
def pause_recording(call_id: int, body: RecordingPauseIn) -> RecordingOut:
    recording = recordings.set_paused(
        db.session,
        user=current_api_user(),
        call_id=call_id,
        paused=body.paused,
        recorder=adapters.recorder(),
    )
    return recording_out(recording)


def _list(**where: int) -> RecordingList:
    found = recordings.listed(db.session, user=current_api_user(), **where)
    return RecordingList(items=[recording_out(r) for r in found])


@operation(
    bp,
    "/calls/<int:call_id>/recordings",
    "GET",
    summary="A call's recordings you may hear",
    response=RecordingList,
    tag="recordings",
)
def call_recordings(call_id: int) -> RecordingList:
    return _list(call_id=call_id)


@operation(
    bp,
    "/tickets/<int:ticket_id>/recordings",
    "GET",
    summary="A ticket's recordings (its voicemail, its calls') you may hear",
    response=RecordingList,
    tag="recordings",
)
def ticket_recordings(ticket_id: int) -> RecordingList:
    return _list(ticket_id=ticket_id)


@operation(
    bp,
    "/customers/<int:customer_id>/recordings",
    "GET",
    summary="A customer's recordings you may hear",
    response=RecordingList,
    tag="recordings",
)
def customer_recordings(customer_id: int) -> RecordingList:
    return _list(customer_id=customer_id)


@operation(
    bp,
    "/recordings/<int:recording_id>/media",
    "GET",
    summary="A recording's audio, streamed by the helpdesk",
    tag="recordings",
    media={"audio/mpeg": {"type": "string"}, "audio/wav": {"type": "string"}},
    errors={403: "a restricted queue's recording, and you are not one of its agents"},
)
def recording_media(recording_id: int) -> Response:
    audio, content_type = recordings.media_for(
        db.session, user=current_api_user(), recording_id=recording_id, recorder=adapters.recorder()
    )
    return audio_response(audio, content_type)


def audio_response(audio: bytes, content_type: str) -> Response:
    """The audio, never cached by a shared cache: it is personal data."""
    response = Response(audio, mimetype=content_type)
    response.headers["Cache-Control"] = "private, no-store"
    return response
