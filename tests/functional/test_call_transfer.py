"""Transfers in the simulator, through the API: warm to a second agent (hold, consult, complete,
wrap-up on both sides), cold to a queue (the caller keeps their place by waited time), cold to
an agent (ring timeout, fallback), the permission for outside numbers, and the races: a
transfer accepted while the caller hangs up, a target who is gone while it rings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.auth.models import Role, User
from helpdesk.db import utcnow
from helpdesk.extensions import db
from telephony import offers
from telephony.models import AgentPresence, Call
from telephony.simulator import Simulator
from tests.conftest import Api
from tests.functional import test_console_phone as phone
from tests.functional.test_console_phone import JSON, go_available, ring

compiled_catalogues = phone.compiled_catalogues
agent = phone.agent
console = phone.console
client = phone.client
hugo = phone.hugo
sim = phone.sim


@pytest.fixture
def bea(make_user: Callable[..., User]) -> User:
    return make_user(
        Role.AGENT, name="Béa Second", skills={"support": 2, "billing": 2}, languages=["fr"]
    )


@pytest.fixture
def apis(
    app: Flask, console: FlaskClient, agent: User, bea: User, token_for: Callable[[User], str]
) -> tuple[Api, Api]:
    return Api(console, token_for(agent)), Api(app.test_client(), token_for(bea))


def _state(user: User) -> str:
    db.session.expire_all()
    presence = db.session.get(AgentPresence, user.id)
    return presence.state if presence else "offline"


def _accepted_by_a(console: FlaskClient, sim: Simulator) -> Call:
    go_available(console)
    row = ring(sim, "+33611111111")
    r = console.post(f"/phone/calls/{row.id}/accept", headers=JSON)
    assert r.status_code == 200, r.get_json()
    return row


def _available(api: Api) -> None:
    r = api.put("/agents/me/presence", json={"state": "available"})
    assert r.status_code == 200, r.get_json()


def test_warm_transfer_to_a_second_agent_then_wrap_up_on_both_sides(
    console: FlaskClient,
    agent: User,
    bea: User,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
    recorded: Any,
) -> None:
    a, b = apis
    row = _accepted_by_a(console, sim)
    _available(b)
    assert a.post(f"/calls/{row.id}/hold", json={"hold": True}).status_code == 200
    assert a.post(f"/calls/{row.id}/hold", json={"hold": False}).status_code == 200

    r = a.post(
        f"/calls/{row.id}/transfer",
        json={"to": {"agent_id": bea.id}, "mode": "warm", "notes": "wants a refund"},
    )
    assert r.status_code == 200, r.get_json()
    caller = sim.calls[row.call_sid]
    assert caller.on_hold and _state(bea) == "reserved"
    # Béa's screen pop says it is a transfer, from whom, with the notes so far.
    pop = recorded.named("screen_pop")[-1]
    assert pop.rooms == (f"user:{bea.id}",)
    handed = pop.payload["transfer"]
    assert handed["mode"] == "warm" and handed["from_name"] == "Amélie Agent"
    assert handed["notes"] == "wants a refund" and handed["state"] == "ringing"

    r = b.post(f"/calls/{row.id}/accept")
    assert r.status_code == 200, r.get_json()
    assert caller.consulting == f"agent-{bea.id}" and caller.bridged_to == f"agent-{agent.id}"
    assert _state(bea) == "on_call" and _state(agent) == "on_call"

    r = a.post(f"/calls/{row.id}/transfer/complete")
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["agent_id"] == bea.id and body["on_hold"] is False
    assert caller.bridged_to == f"agent-{bea.id}" and not caller.on_hold
    assert caller.consulting is None
    assert _state(agent) == "wrap_up" and _state(bea) == "on_call"
    # Amélie wraps up her part while the call goes on with Béa.
    r = console.post(
        f"/phone/calls/{row.id}/wrap-up",
        data={"disposition": "other", "notes": "handed"},
        headers=JSON,
    )
    assert r.status_code == 200, r.get_json()
    assert _state(agent) == "available"

    db.session.rollback()
    sim.hang_up(row.call_sid)
    assert _state(bea) == "wrap_up"
    r = b.post(f"/calls/{row.id}/wrap-up", json={"notes": "refunded", "done": True})
    assert r.status_code == 200, r.get_json()
    assert _state(bea) == "available"


def test_cancel_a_warm_transfer_returns_the_caller(
    console: FlaskClient,
    agent: User,
    bea: User,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
) -> None:
    a, b = apis
    row = _accepted_by_a(console, sim)
    _available(b)
    body = {"to": {"agent_id": bea.id}, "mode": "warm"}
    assert a.post(f"/calls/{row.id}/transfer", json=body).status_code == 200
    assert b.post(f"/calls/{row.id}/accept").status_code == 200
    r = a.post(f"/calls/{row.id}/transfer/cancel")
    assert r.status_code == 200, r.get_json()
    caller = sim.calls[row.call_sid]
    assert caller.bridged_to == f"agent-{agent.id}" and caller.consulting is None
    assert not caller.on_hold and _state(agent) == "on_call"
    assert _state(bea) in ("wrap_up", "available")
    assert a.post(f"/calls/{row.id}/transfer/complete").status_code == 409


def test_cold_transfer_to_a_queue_keeps_the_callers_place(
    console: FlaskClient,
    agent: User,
    bea: User,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
) -> None:
    a, b = apis
    row = _accepted_by_a(console, sim)
    first = db.session.get(Call, row.id)
    assert first is not None
    waited_since, priority = first.enqueued_at, first.priority
    # Another caller starts waiting in billing after ours.
    later = ring(sim, "+33622222222", digits="12")
    r = a.post(f"/calls/{row.id}/transfer", json={"to": {"queue": "billing"}, "mode": "cold"})
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    moved = db.session.get(Call, row.id)
    assert moved is not None and moved.routing_state == "waiting" and moved.agent_id is None
    assert moved.queue is not None and moved.queue.name == "billing"
    assert moved.enqueued_at == waited_since and moved.priority == priority
    assert sim.calls[row.call_sid].bridged_to is None
    assert "Nous transférons votre appel" in " ".join(sim.calls[row.call_sid].transcript)
    assert _state(agent) == "wrap_up"
    # Béa comes free: ours is offered first, having waited longest.
    _available(b)
    offers.dispatch(db.session)
    db.session.expire_all()
    assert db.session.get(Call, row.id).agent_id == bea.id  # type: ignore[union-attr]
    assert db.session.get(Call, later.id).routing_state == "waiting"  # type: ignore[union-attr]
    assert b.post(f"/calls/{row.id}/accept").status_code == 200
    assert sim.calls[row.call_sid].bridged_to == f"agent-{bea.id}"


def test_cold_transfer_to_an_agent_who_is_gone_falls_back_to_the_queue(
    console: FlaskClient,
    agent: User,
    bea: User,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
) -> None:
    a, b = apis
    row = _accepted_by_a(console, sim)
    body = {"to": {"agent_id": bea.id}, "mode": "cold"}
    r = a.post(f"/calls/{row.id}/transfer", json=body)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "agent_busy"
    _available(b)
    r = a.post(f"/calls/{row.id}/transfer", json=body)
    assert r.status_code == 200, r.get_json()
    assert _state(bea) == "reserved"
    # Béa tries to leave while it rings: refused; then it rings out.
    r = b.put("/agents/me/presence", json={"state": "offline"})
    assert r.status_code == 409
    offers.expire(db.session, now=utcnow() + timedelta(seconds=121))
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None and bea.id in call.declined_by
    # Back in line: offered to whoever is free (Amélie, whose wrap-up is over by then).
    assert call.routing_state in ("waiting", "offered") and call.agent_id != bea.id
    assert _state(bea) == "break"


@pytest.mark.parametrize("first", ["caller hangs up", "target accepts"])
def test_a_warm_transfer_accepted_while_the_caller_hangs_up(
    first: str,
    console: FlaskClient,
    agent: User,
    bea: User,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
) -> None:
    a, b = apis
    row = _accepted_by_a(console, sim)
    _available(b)
    body = {"to": {"agent_id": bea.id}, "mode": "warm"}
    assert a.post(f"/calls/{row.id}/transfer", json=body).status_code == 200
    if first == "caller hangs up":
        db.session.rollback()
        sim.hang_up(row.call_sid)
        assert b.post(f"/calls/{row.id}/accept").status_code == 409
        assert _state(bea) == "available"
    else:
        assert b.post(f"/calls/{row.id}/accept").status_code == 200
        db.session.rollback()
        sim.hang_up(row.call_sid)
        assert _state(bea) in ("wrap_up", "available")
    assert _state(agent) == "wrap_up"
    assert a.post(f"/calls/{row.id}/transfer/complete").status_code == 409


def test_an_outside_number_needs_the_permission(
    console: FlaskClient, apis: tuple[Api, Api], sim: Simulator, hugo: Any
) -> None:
    a, _ = apis
    row = _accepted_by_a(console, sim)
    r = a.post(f"/calls/{row.id}/transfer", json={"to": {"number": "+33612345678"}})
    assert r.status_code == 403
    r = a.post(f"/calls/{row.id}/transfer", json={"to": {"queue": "billing", "number": "+3361"}})
    assert r.status_code in (400, 422)
    assert sim.calls[row.call_sid].bridged_to is not None


def test_a_warm_transfer_cancelled_while_it_rings_or_rung_out(
    console: FlaskClient,
    agent: User,
    bea: User,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
) -> None:
    a, b = apis
    row = _accepted_by_a(console, sim)
    _available(b)
    body = {"to": {"agent_id": bea.id}, "mode": "warm"}
    assert a.post(f"/calls/{row.id}/transfer", json=body).status_code == 200
    assert a.post(f"/calls/{row.id}/transfer/complete").status_code == 409  # not answered yet
    assert a.post(f"/calls/{row.id}/transfer/cancel").status_code == 200
    caller = sim.calls[row.call_sid]
    assert not caller.on_hold and _state(bea) == "available" and _state(agent) == "on_call"
    assert b.post(f"/calls/{row.id}/accept").status_code == 409

    # Again, and Béa's console rings out: she goes on break; Amélie takes the caller back.
    assert a.post(f"/calls/{row.id}/transfer", json=body).status_code == 200
    offers.expire(db.session, now=utcnow() + timedelta(seconds=121))
    assert _state(bea) == "break" and _state(agent) == "on_call"
    assert caller.on_hold
    assert a.post(f"/calls/{row.id}/transfer/cancel").status_code == 200
    assert not caller.on_hold and _state(bea) == "break"
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None and call.agent_id == agent.id and call.routing_state == "connected"


def _may_transfer_out(user: User) -> None:
    """A supervisor on the call: the role that holds the transfer-out permission."""
    user.role = Role.SUPERVISOR
    db.session.commit()


@pytest.mark.parametrize("end", ["complete", "cancel"])
def test_a_warm_transfer_to_a_number(
    end: str,
    console: FlaskClient,
    agent: User,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
    recorded: Any,
) -> None:
    a, _ = apis
    row = _accepted_by_a(console, sim)
    body = {"to": {"number": "+33612345678"}, "mode": "warm", "notes": "billing dispute"}
    assert a.post(f"/calls/{row.id}/transfer", json=body).status_code == 403
    _may_transfer_out(agent)
    r = a.post(f"/calls/{row.id}/transfer", json=body)
    assert r.status_code == 200, r.get_json()
    caller = sim.calls[row.call_sid]
    # The caller on hold, the number dialled into the call: the agent talks to it at once.
    assert caller.on_hold and caller.consulting == "+33612345678"
    assert caller.bridged_to == f"agent-{agent.id}" and _state(agent) == "on_call"
    event = recorded.named("call.transfer")[-1].payload["call"]
    handed = event["transfer"]
    assert handed["state"] == "consulting" and handed["to"] == {"number": "+33612345678"}
    assert handed["notes"] == "billing dispute"
    assert a.post(f"/calls/{row.id}/transfer", json=body).status_code == 409

    r = a.post(f"/calls/{row.id}/transfer/{end}")
    assert r.status_code == 200, r.get_json()
    assert not caller.on_hold and caller.consulting is None
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None
    if end == "cancel":
        # The number is let go; the caller is back with the agent, the call still theirs.
        assert caller.bridged_to == f"agent-{agent.id}" and _state(agent) == "on_call"
        assert call.routing_state == "connected" and call.agent_id == agent.id
        assert a.post(f"/calls/{row.id}/transfer/complete").status_code == 409
        return
    # The caller talks with the number; the call has left the helpdesk, the agent wraps up.
    assert caller.bridged_to == "+33612345678" and _state(agent) == "wrap_up"
    assert call.routing_state == "done" and call.outcome == "transferred"
    assert call.transfer is not None and call.transfer["state"] == "done"
    assert a.post(f"/calls/{row.id}/transfer/cancel").status_code == 409


def test_a_caller_who_hangs_up_while_a_number_is_consulted(
    console: FlaskClient, agent: User, apis: tuple[Api, Api], sim: Simulator, hugo: Any
) -> None:
    a, _ = apis
    row = _accepted_by_a(console, sim)
    _may_transfer_out(agent)
    body = {"to": {"number": "+33612345678"}, "mode": "warm"}
    assert a.post(f"/calls/{row.id}/transfer", json=body).status_code == 200
    db.session.rollback()
    sim.hang_up(row.call_sid)
    assert _state(agent) == "wrap_up"
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None and call.transfer is not None
    assert call.transfer["state"] == "caller_gone"
    assert a.post(f"/calls/{row.id}/transfer/complete").status_code in (404, 409)


def test_a_warm_transfer_to_a_queue_consults_its_first_free_agent(
    console: FlaskClient,
    agent: User,
    bea: User,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
    recorded: Any,
) -> None:
    a, b = apis
    row = _accepted_by_a(console, sim)
    body = {"to": {"queue": "billing"}, "mode": "warm", "notes": "wants a refund"}
    # Nobody of billing is free (Amélie, on the call, does not count): the caller stays.
    r = a.post(f"/calls/{row.id}/transfer", json=body)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "no_agent_free"
    caller = sim.calls[row.call_sid]
    assert not caller.on_hold
    _available(b)
    r = a.post(f"/calls/{row.id}/transfer", json=body)
    assert r.status_code == 200, r.get_json()
    assert caller.on_hold and _state(bea) == "reserved"
    pop = recorded.named("screen_pop")[-1]
    assert pop.rooms == (f"user:{bea.id}",)
    handed = pop.payload["transfer"]
    assert handed["mode"] == "warm" and handed["from_name"] == "Amélie Agent"
    assert handed["notes"] == "wants a refund" and handed["to"]["queue"] == "billing"
    assert handed["to_name"] == "Béa Second"

    assert b.post(f"/calls/{row.id}/accept").status_code == 200
    assert caller.consulting == f"agent-{bea.id}"
    r = a.post(f"/calls/{row.id}/transfer/complete")
    assert r.status_code == 200, r.get_json()
    assert caller.bridged_to == f"agent-{bea.id}" and not caller.on_hold
    assert _state(agent) == "wrap_up" and _state(bea) == "on_call"
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None and call.agent_id == bea.id
    assert call.queue is not None and call.queue.name == "billing"
