"""`/api/v1/calls` and `/api/v1/agents/me/presence` (queues: `telephony.queues_api`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.db import kept_after_commit
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.pagination import decode_cursor, encode_cursor
from telephony import adapters, agent_presence, calls, offers, outbound
from telephony.conference import agent_leg_sid
from telephony.gateway import Gateway
from telephony.models import Call
from telephony.queue_config import all_queues, name_of

bp = Blueprint("telephony_api", __name__, url_prefix="/api/v1")


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["available", "break", "offline"]
    reason: str = Field(default="", max_length=100)


class PresenceOut(BaseModel):
    user_id: int
    state: str
    reason: str
    since: datetime
    wrap_up_until: datetime | None
    current_call_id: int | None


class CallOut(BaseModel):
    id: int
    call_sid: str
    direction: str
    from_number: str
    to_number: str
    customer_id: int | None
    language: str
    ivr_path: list[str]
    status: str
    routing_state: str
    queue: str | None
    priority: int
    agent_id: int | None
    # The agent's own leg when the call is bridged through a conference (Twilio), else null.
    agent_call_sid: str | None
    created_at: datetime
    enqueued_at: datetime | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    outcome: str | None
    callback_requested: bool
    recording_url: str | None
    ticket_id: int | None
    disposition: str | None
    wrap_up_notes: str


class CallList(BaseModel):
    items: list[CallOut]
    next_cursor: str | None


class CallQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: int | None = None
    agent_id: int | None = None
    outcome: Literal["answered", "abandoned", "voicemail", "callback", "missed"] | None = None
    routing_state: Literal["none", "waiting", "offered", "connected", "done"] | None = None
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


class DialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=3, max_length=40)


class WrapUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disposition: str | None = Field(default=None, max_length=50)
    notes: str = Field(default="", max_length=10_000)
    done: bool = True


def call_out(c: Call, queues: dict[int, str]) -> CallOut:
    return CallOut(
        id=c.id,
        call_sid=c.call_sid,
        direction=c.direction,
        from_number=c.from_number,
        to_number=c.to_number,
        customer_id=c.customer_id,
        language=c.language,
        ivr_path=list(c.ivr_path or []),
        status=c.status,
        routing_state=c.routing_state,
        queue=queues.get(c.queue_id) if c.queue_id else None,
        priority=c.priority,
        agent_id=c.agent_id,
        agent_call_sid=agent_leg_sid(c.agent_call_sid),
        created_at=c.created_at,
        enqueued_at=c.enqueued_at,
        offered_at=c.offered_at,
        answered_at=c.answered_at,
        ended_at=c.ended_at,
        wait_seconds=c.wait_seconds,
        talk_seconds=c.talk_seconds,
        outcome=c.outcome,
        callback_requested=c.callback_requested,
        recording_url=c.recording_url,
        ticket_id=c.ticket_id,
        disposition=c.disposition,
        wrap_up_notes=c.wrap_up_notes,
    )


def _queue_names() -> dict[int, str]:
    return {qid: q.name for qid, q in all_queues(db.session).items()}


def _written(call: Call) -> CallOut:
    """A call just changed and committed (see `kept_after_commit`), named with its queue."""
    name = name_of(db.session, call.queue_id)
    return call_out(call, {call.queue_id: name} if call.queue_id is not None and name else {})


def _gateway() -> Gateway:
    return adapters.gateway()


@operation(
    bp,
    "/agents/me/presence",
    "PUT",
    summary="Set my presence (available, break, offline)",
    body=PresenceIn,
    response=PresenceOut,
    tag="calls",
)
def put_presence(body: PresenceIn) -> PresenceOut:
    p = agent_presence.set_presence(
        db.session, user=current_api_user(), state=body.state, reason=body.reason
    )
    return PresenceOut(
        user_id=p.user_id,
        state=p.state,
        reason=p.reason,
        since=p.since,
        wrap_up_until=p.wrap_up_until,
        current_call_id=p.current_call_id,
    )


@operation(
    bp, "/agents/me/presence", "GET", summary="My presence", response=PresenceOut, tag="calls"
)
def get_presence() -> PresenceOut:
    p = agent_presence.presence_of(db.session, user_id=current_api_user().id)
    db.session.commit()
    return PresenceOut(
        user_id=p.user_id,
        state=p.state,
        reason=p.reason,
        since=p.since,
        wrap_up_until=p.wrap_up_until,
        current_call_id=p.current_call_id,
    )


@operation(
    bp,
    "/calls",
    "GET",
    summary="Calls, newest first",
    query=CallQuery,
    response=CallList,
    tag="calls",
)
def list_calls(query: CallQuery) -> CallList:
    stmt = select(Call).order_by(Call.id.desc())
    for field in ("customer_id", "agent_id", "outcome", "routing_state"):
        value = getattr(query, field)
        if value is not None:
            stmt = stmt.where(getattr(Call, field) == value)
    if query.cursor:
        stmt = stmt.where(Call.id < decode_cursor(query.cursor, (int,))[0])
    rows = list(db.session.scalars(stmt.limit(query.limit + 1)))
    nxt = encode_cursor(rows[query.limit - 1].id) if len(rows) > query.limit else None
    names = _queue_names()
    return CallList(items=[call_out(c, names) for c in rows[: query.limit]], next_cursor=nxt)


def _get(call_id: int, *options: Any) -> Call:
    call = db.session.get(Call, call_id, options=list(options))
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


@operation(
    bp,
    "/calls",
    "POST",
    summary="Click-to-call: dial a customer and connect them to me when they answer",
    body=DialIn,
    response=CallOut,
    status=201,
    tag="calls",
)
def dial(body: DialIn) -> CallOut:
    call = outbound.click_to_call(
        db.session,
        user=current_api_user(),
        number=body.to,
        gateway=_gateway(),
        region=current_app.config["HELPDESK_DEFAULT_REGION"],
    )
    return call_out(call, _queue_names())


@operation(
    bp,
    "/agents/me/state",
    "GET",
    summary="What my console shows, to restore after a reconnect: presence, the call ringing "
    "for me and my current call, each with its caller screen",
    tag="calls",
)
def my_state() -> dict[str, Any]:
    from telephony.models import CallOffer
    from telephony.screen import screen

    user = current_api_user()
    p = agent_presence.presence_of(db.session, user_id=user.id)
    offer = db.session.scalar(
        select(CallOffer)
        .where(CallOffer.agent_id == user.id, CallOffer.state == "pending")
        .order_by(CallOffer.id.desc())
    )
    ringing = None
    if offer is not None:
        call = db.session.get(Call, offer.call_id)
        if call is not None:
            # The `screen_pop` payload of the offer: the call's view and its caller screen.
            ringing = screen(db.session, call, expires_at=offer.expires_at)
    current = db.session.get(Call, p.current_call_id) if p.current_call_id else None
    state = {
        "presence": {
            "state": p.state,
            "reason": p.reason,
            "since": p.since.isoformat(),
            "wrap_up_until": p.wrap_up_until.isoformat() if p.wrap_up_until else None,
        },
        "ringing": ringing,
        "current_call": screen(db.session, current) if current and offer is None else None,
    }
    db.session.commit()
    return state


@operation(bp, "/calls/<int:call_id>", "GET", summary="One call", response=CallOut, tag="calls")
def get_call(call_id: int) -> CallOut:
    return call_out(_get(call_id), _queue_names())


@operation(
    bp,
    "/calls/<int:call_id>/accept",
    "POST",
    summary="Accept the call ringing on my console; the caller is bridged to me",
    response=CallOut,
    tag="calls",
)
def accept_call(call_id: int) -> CallOut:
    found = _get(call_id)
    with kept_after_commit(db.session):
        call = offers.accept(
            db.session, user=current_api_user(), call_id=found.id, gateway=_gateway()
        )
    return _written(call)


@operation(
    bp,
    "/calls/<int:call_id>/reject",
    "POST",
    summary="Decline the call ringing on my console; it goes to the next agent",
    status=204,
    tag="calls",
)
def reject_call(call_id: int) -> Any:
    from flask import Response

    _get(call_id)
    offers.reject(db.session, user=current_api_user(), call_id=call_id)
    return Response(status=204)


@operation(
    bp,
    "/calls/<int:call_id>/wrap-up",
    "POST",
    summary="Disposition and notes for my call; `done` makes me available again",
    body=WrapUpIn,
    response=CallOut,
    tag="calls",
)
def wrap_up_call(call_id: int, body: WrapUpIn) -> CallOut:
    with kept_after_commit(db.session):
        call = calls.wrap_up(
            db.session,
            user=current_api_user(),
            call_id=call_id,
            disposition=body.disposition,
            notes=body.notes,
            done=body.done,
        )
    return _written(call)


class CallerIn(BaseModel):
    """Who is calling: an existing customer, or the details of a new one."""

    model_config = ConfigDict(extra="forbid")
    customer_id: int | None = Field(default=None, ge=1)
    name: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=200)
    language: Literal["fr", "en"] = "fr"
    kind: Literal["person", "company"] = "person"
    email: str = Field(default="", max_length=254)


class CallTicketIn(BaseModel):
    """What the call is about: an open ticket of the caller's (`ticket_id`, with an optional
    internal `note` and new `status`), or a new ticket (`subject`, ...)."""

    model_config = ConfigDict(extra="forbid")
    ticket_id: int | None = Field(default=None, ge=1)
    note: str = Field(default="", max_length=20_000)
    status: Literal["open", "pending", "on_hold", "solved", "closed"] | None = None
    subject: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


@operation(
    bp,
    "/calls/<int:call_id>/caller",
    "POST",
    summary="Identify the caller: link the call to a customer, or make the caller one",
    body=CallerIn,
    response=CallOut,
    tag="calls",
)
def identify_caller(call_id: int, body: CallerIn) -> CallOut:
    from helpdesk.customers.models import CustomerKind
    from telephony import call_records

    call = _get(call_id)
    call_records.check_may_record(call, current_api_user())
    if (body.customer_id is None) == (body.name is None):
        raise ValidationFailed(
            "give customer_id or name", fields={"customer_id": "give either this or name"}
        )
    if body.customer_id is not None:
        call_records.link_caller(
            db.session,
            call=call,
            customer_id=body.customer_id,
            actor=current_api_user(),
            region=current_app.config["HELPDESK_DEFAULT_REGION"],
        )
    else:
        call_records.create_caller(
            db.session,
            call=call,
            name=str(body.name),
            language=body.language,
            kind=CustomerKind(body.kind),
            email=body.email,
            region=current_app.config["HELPDESK_DEFAULT_REGION"],
        )
    return call_out(_get(call_id), _queue_names())


@operation(
    bp,
    "/calls/<int:call_id>/ticket",
    "POST",
    summary="Link the call to one of the caller's open tickets, or open a new ticket for it",
    body=CallTicketIn,
    response=CallOut,
    tag="calls",
)
def call_ticket(call_id: int, body: CallTicketIn) -> CallOut:
    from helpdesk.tickets.workflow import Priority, Status
    from telephony import call_records

    call = _get(call_id)
    user = current_api_user()
    call_records.check_may_record(call, user)
    if (body.ticket_id is None) == (body.subject is None):
        raise ValidationFailed(
            "give ticket_id or subject", fields={"ticket_id": "give either this or subject"}
        )
    if body.ticket_id is not None:
        call_records.link_ticket(
            db.session,
            call=call,
            actor=user,
            ticket_id=body.ticket_id,
            note=body.note,
            status=Status(body.status) if body.status else None,
        )
    else:
        call_records.open_ticket(
            db.session,
            call=call,
            actor=user,
            subject=str(body.subject),
            description=body.description,
            priority=Priority(body.priority),
        )
    return call_out(_get(call_id), _queue_names())
