"""`/api/v1/calls/{id}/hold` and the other controls of a live call, for the agent on it."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk.api.core import current_api_user, operation
from helpdesk.auth import permissions
from helpdesk.db import kept_after_commit
from helpdesk.errors import Forbidden
from helpdesk.extensions import db
from telephony import adapters, conference_parties, hold, transfer
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


def _base() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")


def hold_url() -> str:
    return _base() + "/twilio/voice/on-hold"


def transfer_urls() -> transfer.Urls:
    voice = _base() + "/twilio/voice"
    return transfer.Urls(
        wait=f"{voice}/transfer-wait", number=f"{voice}/transfer-number", hold=hold_url()
    )


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: int | None = Field(default=None, ge=1)
    queue: str | None = Field(default=None, min_length=1, max_length=50)
    number: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$")

    @model_validator(mode="after")
    def one_target(self) -> TargetIn:
        if sum(v is not None for v in (self.agent_id, self.queue, self.number)) != 1:
            raise ValueError("name exactly one of agent_id, queue, number")
        return self


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: TargetIn
    mode: Literal["cold", "warm"] = "cold"
    notes: str = Field(default="", max_length=2000)


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


@operation(
    bp,
    "/calls/<int:call_id>/transfer",
    "POST",
    summary="Transfer my call: cold (at once) or warm (I talk to the target first, the caller "
    "on hold), to an agent, a queue or a number",
    body=TransferIn,
    response=ControlledCallOut,
    tag="calls",
    errors={
        403: "a number outside the center needs the transfer-out permission",
        404: "not a call of yours",
        409: "the call is not live, the agent (or anyone of the queue) is not free, a transfer "
        "is under way, or the network refused",
    },
)
def transfer_call(call_id: int, body: TransferIn) -> ControlledCallOut:
    user = current_api_user()
    if body.to.number is not None and not user.has_role(*permissions.TRANSFER_OUT):
        raise Forbidden("transferring to an outside number needs the transfer-out permission")
    run = transfer.warm if body.mode == "warm" else transfer.cold
    with kept_after_commit(db.session):
        call = run(
            db.session,
            user=user,
            call_id=call_id,
            target=transfer.Target(**body.to.model_dump()),
            notes=body.notes,
            gateway=adapters.gateway(),
            urls=transfer_urls(),
        )
    return controlled_out(call)


@operation(
    bp,
    "/calls/<int:call_id>/transfer/complete",
    "POST",
    summary="Complete my warm transfer: I leave, the target keeps the caller",
    response=ControlledCallOut,
    tag="calls",
    errors={404: "not a call of yours", 409: "no consultation under way"},
)
def complete_transfer(call_id: int) -> ControlledCallOut:
    with kept_after_commit(db.session):
        call = transfer.complete(
            db.session, user=current_api_user(), call_id=call_id, gateway=adapters.gateway()
        )
    return controlled_out(call)


@operation(
    bp,
    "/calls/<int:call_id>/transfer/cancel",
    "POST",
    summary="Cancel my warm transfer: the target is let go, the caller comes back to me",
    response=ControlledCallOut,
    tag="calls",
    errors={404: "not a call of yours", 409: "no transfer under way"},
)
def cancel_transfer(call_id: int) -> ControlledCallOut:
    with kept_after_commit(db.session):
        call = transfer.cancel(
            db.session,
            user=current_api_user(),
            call_id=call_id,
            gateway=adapters.gateway(),
            urls=transfer_urls(),
        )
    return controlled_out(call)


@operation(
    bp,
    "/calls/<int:call_id>/hangup",
    "POST",
    summary="Hang up my call: the caller's call is ended, and with it the conference",
    response=ControlledCallOut,
    tag="calls",
    errors={404: "not a call of yours", 409: "the call is not live"},
)
def hang_up_call(call_id: int) -> ControlledCallOut:
    with kept_after_commit(db.session):
        call = hold.hang_up(
            db.session, user=current_api_user(), call_id=call_id, gateway=adapters.gateway()
        )
    return controlled_out(call)


class ConferenceIn(BaseModel):
    """Exactly one of: `add` a party (`agent_id` or `number`), `remove` a party by its id,
    `leave` (the agent leaves; the others talk on)."""

    model_config = ConfigDict(extra="forbid")
    add: TargetIn | None = None
    remove: int | None = Field(default=None, ge=1)
    leave: bool = False

    @model_validator(mode="after")
    def one_change(self) -> ConferenceIn:
        if sum((self.add is not None, self.remove is not None, self.leave)) != 1:
            raise ValueError("name exactly one of add, remove, leave")
        if self.add is not None and self.add.queue is not None:
            raise ValueError("a conference adds an agent or a number")
        return self


@operation(
    bp,
    "/calls/<int:call_id>/conference",
    "POST",
    summary="Conference: add a third party (agent or number) to my call, remove one, or leave "
    "and let the others talk on",
    body=ConferenceIn,
    response=ControlledCallOut,
    tag="calls",
    errors={
        403: "a number outside the center needs the transfer-out permission",
        404: "not a call of yours, or no such party",
        409: "the call is not live, the agent is not free, the conference is full",
    },
)
def conference_call(call_id: int, body: ConferenceIn) -> ControlledCallOut:
    user = current_api_user()
    gateway = adapters.gateway()
    with kept_after_commit(db.session):
        if body.add is not None:
            if body.add.number is not None and not user.has_role(*permissions.TRANSFER_OUT):
                raise Forbidden("adding an outside number needs the transfer-out permission")
            target = transfer.Target(agent_id=body.add.agent_id, number=body.add.number)
            call = conference_parties.add(
                db.session, user=user, call_id=call_id, target=target, gateway=gateway
            )
        elif body.remove is not None:
            call = conference_parties.remove(
                db.session, user=user, call_id=call_id, party_id=body.remove, gateway=gateway
            )
        else:
            call = conference_parties.leave(db.session, user=user, call_id=call_id, gateway=gateway)
    return controlled_out(call)
