"""`/api/v1/simulator/...`: place simulated calls and follow them (simulator mode only)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import operation
from helpdesk.api.text import Written
from helpdesk.errors import APIError, NotFound
from helpdesk.extensions import db
from telephony import adapters
from telephony.simulator import Simulator

bp = Blueprint("simulator_api", __name__, url_prefix="/api/v1")


class SimCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_number: str = Field(alias="from", min_length=3, max_length=32)
    digits: str = Field(default="", max_length=64, pattern=r"^[0-9*#, ]*$")
    record_voicemail: bool = True


class DigitsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digits: str = Field(min_length=1, max_length=64, pattern=r"^[0-9*#]+$")


class SimCallOut(BaseModel):
    call_sid: str
    state: str
    queue: str | None
    bridged_to: str | None
    transcript: list[str]


class SimCallList(BaseModel):
    items: list[SimCallOut]


def simulator() -> Simulator:
    sim = adapters.simulator()
    if sim is None:
        raise APIError(
            "the simulator is off: Twilio is configured", code="simulator_off", status=404
        )
    return sim


def _out(data: dict[str, Any]) -> SimCallOut:
    return SimCallOut(
        call_sid=data["call_sid"],
        state=data["state"],
        queue=data["queue"],
        bridged_to=data["bridged_to"],
        transcript=data["transcript"],
    )


def _get(call_sid: str) -> Any:
    call = simulator().calls.get(call_sid)
    if call is None:
        raise NotFound(f"no simulated call {call_sid}")
    return call


@operation(
    bp,
    "/simulator/calls",
    "POST",
    summary="A simulated customer calls in (simulator mode); digits answer the menus",
    body=SimCallIn,
    response=SimCallOut,
    status=201,
    tag="simulator",
)
def place(body: SimCallIn) -> SimCallOut:
    sim = simulator()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    started = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        with app.app_context():
            holder["call"] = sim.call(
                body.from_number, digits=body.digits, record_voicemail=body.record_voicemail
            )
        started.set()

    # The call runs in its own thread, as a real caller would; this request first ends its own
    # transaction, which on SQLite holds the write lock the call's webhooks need.
    db.session.commit()
    threading.Thread(target=run, daemon=True).start()
    started.wait(timeout=30)
    if "call" not in holder:
        raise APIError("the simulated call did not start", code="simulator_timeout", status=409)
    sim.start_hold_loop(app)
    return _out(holder["call"].as_dict())


@operation(
    bp,
    "/simulator/calls",
    "GET",
    summary="Simulated calls and their transcripts",
    response=SimCallList,
    tag="simulator",
)
def list_calls() -> SimCallList:
    calls = list(simulator().calls.values())[-50:]
    return SimCallList(items=[_out(c.as_dict()) for c in reversed(calls)])


@operation(
    bp,
    "/simulator/calls/<string:call_sid>",
    "GET",
    summary="One simulated call",
    response=SimCallOut,
    tag="simulator",
)
def get_call(call_sid: str) -> SimCallOut:
    return _out(_get(call_sid).as_dict())


@operation(
    bp,
    "/simulator/calls/<string:call_sid>/digits",
    "POST",
    summary="The simulated caller presses keys (used at the next menu or hold message)",
    body=DigitsIn,
    response=SimCallOut,
    tag="simulator",
)
def press(call_sid: str, body: DigitsIn) -> SimCallOut:
    call = _get(call_sid)
    simulator().press(call_sid, body.digits)
    return _out(call.as_dict())


@operation(
    bp,
    "/simulator/calls/<string:call_sid>/hangup",
    "POST",
    summary="The simulated caller hangs up",
    response=SimCallOut,
    tag="simulator",
)
def hang_up(call_sid: str) -> SimCallOut:
    _get(call_sid)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    done = threading.Event()

    def run() -> None:
        with app.app_context():
            simulator().hang_up(call_sid)
        done.set()

    db.session.commit()
    threading.Thread(target=run, daemon=True).start()
    done.wait(timeout=30)
    return _out(_get(call_sid).as_dict())


class SimSmsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_number: str = Field(alias="from", min_length=3, max_length=32)
    body: Annotated[str, Written] = Field(min_length=1, max_length=1600)
    media_urls: list[str] = Field(default_factory=list, max_length=10)


class SimSmsOut(BaseModel):
    status: int
    replies: list[str]


class SimInboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=3, max_length=32)


@operation(
    bp,
    "/simulator/sms",
    "POST",
    summary="A simulated customer texts in (simulator mode); returns what they got back",
    body=SimSmsIn,
    response=SimSmsOut,
    status=201,
    tag="simulator",
)
def text_in(body: SimSmsIn) -> SimSmsOut:
    from helpdesk.customers.phones import try_e164

    sim = simulator()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    number = try_e164(body.from_number, app.config["HELPDESK_DEFAULT_REGION"]) or body.from_number
    before = len(sim.inbox(number))
    result: dict[str, int] = {}

    def run() -> None:
        with app.app_context():
            result["status"] = sim.text(number, body.body, media_urls=tuple(body.media_urls))[0]

    db.session.commit()  # see place(): the webhook needs the write lock on SQLite
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)
    return SimSmsOut(status=result.get("status", 0), replies=sim.inbox(number)[before:])


@operation(
    bp,
    "/simulator/sms",
    "GET",
    summary="Texts the call center sent to a number",
    query=SimInboxQuery,
    response=SimSmsOut,
    tag="simulator",
)
def inbox(query: SimInboxQuery) -> SimSmsOut:
    return SimSmsOut(status=200, replies=simulator().inbox(query.number))
