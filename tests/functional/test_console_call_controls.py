"""The call controls in the console's phone panel: the buttons and their shortcuts on the page,
hold through the console, the transfer search that shows who is free, and the panel of an agent
who handed a call over (their wrap-up is that call, while it goes on with the next agent)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agents_ui import phone_state
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from telephony.models import CallQueue
from telephony.recording_models import CallRecording, QueueRecording
from telephony.simulator import Simulator
from tests.conftest import Api
from tests.functional import test_console_phone as phone
from tests.functional.test_console import html
from tests.functional.test_console_phone import JSON, go_available, ring, state
from tests.statements import statements

compiled_catalogues = phone.compiled_catalogues
agent = phone.agent
console = phone.console
client = phone.client
hugo = phone.hugo
sim = phone.sim


@pytest.fixture
def bea(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, name="Béa Second", skills={"billing": 2}, languages=["fr"])


def test_the_panel_has_the_controls_with_their_shortcuts(console: FlaskClient) -> None:
    page = html(console.get("/tickets"))
    assert 'id="call-controls"' in page and "call_controls.js" in page
    for button, key in (
        ("call-hold", "h"),
        ("call-transfer-open", "t"),
        ("call-hangup", "q"),
        ("call-transfer-complete", "c"),
        ("call-transfer-cancel", "v"),
    ):
        assert f'id="{button}"' in page and f'aria-keyshortcuts="{key}"' in page
    assert "Put the caller on hold, or take them back" in page
    # The transfer search names an agent who is not free by their state, in the agent's words.
    found = re.search(r'id="call-controls"[^>]*data-strings="([^"]*)"', page, re.S)
    assert found
    strings = json.loads(unescape(found.group(1)))
    assert strings["states"]["offline"] == "Offline" and strings["states"]["break"] == "Break"


def test_hold_search_and_cold_transfer_from_the_console(
    app: Flask,
    console: FlaskClient,
    agent: User,
    bea: User,
    sim: Simulator,
    hugo: Any,
    token_for: Callable[[User], str],
) -> None:
    go_available(console)
    row = ring(sim, "+33611111111")
    assert console.post(f"/phone/calls/{row.id}/accept", headers=JSON).status_code == 200
    r = console.post(f"/phone/calls/{row.id}/hold", data={"hold": "1"}, headers=JSON)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["call"]["on_hold"] is True
    assert r.get_json()["message"] == "The caller is on hold."
    assert state(console)["call"]["on_hold"] is True
    r = console.post(f"/phone/calls/{row.id}/hold", data={"hold": "1"}, headers=JSON)
    assert r.status_code == 409 and r.get_json()["error"]["message"]

    # The search shows Béa, not free yet, and the queues with their callers.
    found = console.get("/phone/transfer-targets?q=b", headers=JSON).get_json()
    assert found["agents"] == [
        {"id": bea.id, "name": "Béa Second", "state": "offline", "free": False}
    ]
    assert [q["name"] for q in found["queues"]] == ["billing"]
    assert found["queues"][0]["label"] == "billing"  # no label of its own: its name
    Api(app.test_client(), token_for(bea)).put("/agents/me/presence", json={"state": "available"})
    found = console.get("/phone/transfer-targets?q=béa", headers=JSON).get_json()
    assert found["agents"][0]["free"] is True

    r = console.post(
        f"/phone/calls/{row.id}/transfer",
        data={"target": "number:+33612345678", "mode": "cold"},
        headers=JSON,
    )
    assert r.status_code == 403
    r = console.post(
        f"/phone/calls/{row.id}/transfer",
        data={"target": f"agent:{bea.id}", "mode": "cold", "notes": "billing question"},
        headers=JSON,
    )
    assert r.status_code == 200, r.get_json()
    snap = state(console)
    assert snap["presence"]["state"] == "wrap_up" and snap["call"] is None
    assert snap["wrap_up"]["call_id"] == row.id
    assert snap["wrap_up"]["transfer"]["to_name"] == "Béa Second"


def test_conference_from_the_console(
    app: Flask,
    console: FlaskClient,
    agent: User,
    bea: User,
    sim: Simulator,
    hugo: Any,
    token_for: Callable[[User], str],
) -> None:
    go_available(console)
    row = ring(sim, "+33611111111")
    assert console.post(f"/phone/calls/{row.id}/accept", headers=JSON).status_code == 200
    Api(app.test_client(), token_for(bea)).put("/agents/me/presence", json={"state": "available"})
    add = {"action": "add", "target": f"agent:{bea.id}"}
    r = console.post(f"/phone/calls/{row.id}/conference", data=add, headers=JSON)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["call"]["parties"][0]["name"] == "Béa Second"
    r = console.post(f"/phone/calls/{row.id}/conference", data={"action": "leave"}, headers=JSON)
    assert r.status_code == 200, r.get_json()
    assert sim.calls[row.call_sid].parties == [f"agent-{bea.id}"]
    assert state(console)["presence"]["state"] == "wrap_up"


def _record(queue_name: str) -> None:
    """The queue records its calls."""
    queue = db.session.scalar(select(CallQueue).where(CallQueue.name == queue_name))
    assert queue is not None
    db.session.add(QueueRecording(queue_id=queue.id, mode="on"))
    db.session.commit()


def test_the_call_view_carries_the_recording_and_the_panel_pauses_and_resumes_it(
    console: FlaskClient, agent: User, sim: Simulator, hugo: Any, recorded: Any
) -> None:
    page = html(console.get("/tickets"))
    assert 'id="call-recording"' in page and 'aria-keyshortcuts="p"' in page
    assert "Pause or resume the call's recording" in page
    _record("support")
    go_available(console)
    row = ring(sim, "+33611111111")
    assert row.agent_id == agent.id
    assert state(console)["offer"]["recording"] == "none"  # ringing: nothing recorded yet
    with statements() as seen:
        accepted = console.post(f"/phone/calls/{row.id}/accept", headers=JSON)
    assert accepted.status_code == 200
    # The view announced and the view answered: the recording's state read once for both.
    assert accepted.get_json()["phone"]["call"]["recording"] == "recording"
    assert len([s for s in seen if s.startswith("SELECT call_recordings.status")]) == 1
    assert state(console)["call"]["recording"] == "recording"
    connected = recorded.named("call.connected")[-1].payload
    assert connected["call"]["recording"] == "recording"

    r = console.post(f"/phone/calls/{row.id}/recording", data={"paused": "1"}, headers=JSON)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["call"]["recording"] == "paused"
    assert r.get_json()["message"] == "Recording paused: what is said now is not recorded."
    event = recorded.named("call.recording")[-1]
    assert event.payload["call"]["recording"] == "paused"
    assert f"user:{agent.id}" in event.rooms
    assert state(console)["call"]["recording"] == "paused"
    (recording,) = db.session.scalars(select(CallRecording).where(CallRecording.call_id == row.id))
    assert recording.status == "paused"

    r = console.post(f"/phone/calls/{row.id}/recording", data={"paused": "0"}, headers=JSON)
    assert r.status_code == 200 and r.get_json()["call"]["recording"] == "recording"
    assert recorded.named("call.recording")[-1].payload["call"]["recording"] == "recording"


def test_a_call_not_recorded_has_no_recording_to_pause(
    console: FlaskClient, agent: User, sim: Simulator, hugo: Any
) -> None:
    go_available(console)
    row = ring(sim, "+33611111111")
    assert console.post(f"/phone/calls/{row.id}/accept", headers=JSON).status_code == 200
    assert state(console)["call"]["recording"] == "none"
    r = console.post(f"/phone/calls/{row.id}/recording", data={"paused": "1"}, headers=JSON)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_recording"


def test_the_screen_pop_wording_has_the_recording_player_address(app: Flask) -> None:
    with app.test_request_context():
        strings = phone_state.js_strings({})["screen"]
    assert strings["audio_url"] == "/recordings/0/audio"
    assert strings["play_recording"] == "Play the recording"


def test_the_transfer_search_names_queues_in_the_agents_language(
    client: FlaskClient, make_user: Callable[..., User], sim: Simulator
) -> None:
    from tests.functional.test_console import sign_in

    french = make_user(Role.AGENT, name="Inès Agent", skills={"support": 3}, locale="fr")
    assert sign_in(client, french).status_code == 302
    found = client.get("/phone/transfer-targets?q=ass", headers=JSON).get_json()
    assert [(q["name"], q["label"]) for q in found["queues"]] == [("support", "Assistance")]
