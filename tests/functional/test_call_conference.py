"""Conference calls in the simulator, through the API: a second agent joins, is removed; the
agent leaves and the caller talks on with the party; the parties' agents wrap up."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.auth.models import User
from helpdesk.extensions import db
from telephony.models import Call
from telephony.simulator import Simulator
from tests.conftest import Api
from tests.functional import test_call_transfer as transfers
from tests.functional import test_console_phone as phone

compiled_catalogues = phone.compiled_catalogues
agent = phone.agent
console = phone.console
client = phone.client
hugo = phone.hugo
sim = phone.sim
bea = transfers.bea
apis = transfers.apis
_state = transfers._state
_accepted_by_a = transfers._accepted_by_a
_available = transfers._available


def test_add_remove_then_leave(
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
    r = a.post(f"/calls/{row.id}/conference", json={"add": {"agent_id": bea.id}})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "agent_busy"
    _available(b)
    r = a.post(f"/calls/{row.id}/conference", json={"add": {"agent_id": bea.id}})
    assert r.status_code == 200, r.get_json()
    caller = sim.calls[row.call_sid]
    assert caller.parties == [f"agent-{bea.id}"] and _state(bea) == "on_call"
    parties = recorded.named("call.conference")[-1].payload["call"]["parties"]
    assert parties == [{"id": 1, "kind": "agent", "name": "Béa Second", "agent_id": bea.id}]
    # Béa's console shows the call as hers to follow.
    assert recorded.named("call.connected")[-1].payload["agent_id"] == bea.id

    assert a.post(f"/calls/{row.id}/conference", json={"remove": 1}).status_code == 200
    assert caller.parties == [] and _state(bea) == "wrap_up"
    assert a.post(f"/calls/{row.id}/conference", json={"remove": 1}).status_code == 404
    r = a.post(f"/calls/{row.id}/conference", json={"leave": True})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "no_party"

    # Béa back, added again; Amélie leaves, the caller talks on with Béa.
    r = b.post(f"/calls/{row.id}/wrap-up", json={"notes": "joined", "done": True})
    assert r.status_code == 200, r.get_json()
    assert (
        a.post(f"/calls/{row.id}/conference", json={"add": {"agent_id": bea.id}}).status_code == 200
    )
    r = a.post(f"/calls/{row.id}/conference", json={"leave": True})
    assert r.status_code == 200, r.get_json()
    assert caller.state == "connected" and caller.bridged_to is None
    assert caller.parties == [f"agent-{bea.id}"]
    assert _state(agent) == "wrap_up" and _state(bea) == "on_call"
    r = a.post(f"/calls/{row.id}/wrap-up", json={"notes": "left them to it", "done": True})
    assert r.status_code == 200, r.get_json()

    db.session.rollback()
    sim.hang_up(row.call_sid)
    assert _state(bea) == "wrap_up"
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None and call.outcome == "answered"


@pytest.mark.parametrize("body", [{"add": {"queue": "billing"}}, {"leave": True, "remove": 1}])
def test_a_conference_change_is_one_of_add_remove_leave(
    app: Flask,
    console: FlaskClient,
    apis: tuple[Api, Api],
    sim: Simulator,
    hugo: Any,
    body: dict[str, Any],
) -> None:
    a, _ = apis
    row = _accepted_by_a(console, sim)
    assert a.post(f"/calls/{row.id}/conference", json=body).status_code in (400, 422)
