"""`/api/v1/calls/{id}/hold` and the other controls of a live call, for the agent on it."""

from __future__ import annotations

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict

from helpdesk.api.core import current_api_user, operation
from helpdesk.db import kept_after_commit
from helpdesk.extensions import db
from telephony import adapters, hold
from telephony.api import CallOut, call_out
from telephony.models import Call

bp = Blueprint("telephony_controls_api", __name__, url_prefix="/api/v1")


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold: bool


class ControlledCallOut(CallOut):
    """The call as `CallOut` shows it, with the state its controls change."""

    on_hold: bool
    hold_seconds: float


def controlled_out(call: Call) -> ControlledCallOut:
    queue = call.queue
    base = call_out(call, {queue.id: queue.name} if queue is not None else {}).model_dump()
    return ControlledCallOut(
        **base, on_hold=call.held_since is not None, hold_seconds=call.hold_seconds or 0.0
    )


def hold_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/twilio/voice/on-hold"


@operation(
    bp,
    "/calls/<int:call_id>/hold",
    "POST",
    summary="Put the caller of my call on hold (music in their language) or take them back",
    body=HoldIn,
    response=ControlledCallOut,
    tag="calls",
    errors={404: "not a call of yours", 409: "the call is not live, or already in that state"},
)
def hold_call(call_id: int, body: HoldIn) -> ControlledCallOut:
    with kept_after_commit(db.session):
        call = hold.set_hold(
            db.session,
            user=current_api_user(),
            call_id=call_id,
            hold=body.hold,
            gateway=adapters.gateway(),
            hold_url=hold_url(),
        )
    return controlled_out(call)
