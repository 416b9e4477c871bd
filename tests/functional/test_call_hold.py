"""Hold and resume in the simulator, through the API: the caller hears the hold prompt in their
language, the hold time is kept, logged with the call's end and split out of AHT in reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.auth.models import User
from helpdesk.extensions import db
from helpdesk.supervision import reports
from helpdesk.supervision.models import CallEvent
from telephony.models import Call
from telephony.simulator import Simulator
from tests.conftest import Api
from tests.functional import test_console_phone as phone
from tests.functional.test_console_phone import JSON, go_available, ring

# The phone console's fixtures: a simulator with its queues, a signed-in agent, a known caller.
compiled_catalogues = phone.compiled_catalogues
agent = phone.agent
console = phone.console
client = phone.client
hugo = phone.hugo
sim = phone.sim


def _on_the_line(console: FlaskClient, sim: Simulator) -> Call:
    go_available(console)
    row = ring(sim, "+33611111111")
    r = console.post(f"/phone/calls/{row.id}/accept", headers=JSON)
    assert r.status_code == 200, r.get_json()
    return row


def test_hold_then_resume_is_heard_and_counted(
    console: FlaskClient,
    agent: User,
    sim: Simulator,
    hugo: Any,
    token_for: Callable[[User], str],
    recorded: Any,
) -> None:
    row = _on_the_line(console, sim)
    api = Api(console, token_for(agent))
    r = api.post(f"/calls/{row.id}/hold", json={"hold": True})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["on_hold"] is True
    caller = sim.calls[row.call_sid]
    assert caller.on_hold and "[on hold]" in caller.transcript
    # Hugo speaks French: the prompt is in French, then the music.
    assert "Votre conseiller vous met en attente" in caller.transcript[-2]
    assert caller.transcript[-1] == "[music]"
    event = recorded.named("call.hold")[-1].payload
    assert event["call"]["on_hold"] is True and event["call"]["call_id"] == row.id

    # A second hold is refused without asking the network again.
    asked = len(caller.transcript)
    r = api.post(f"/calls/{row.id}/hold", json={"hold": True})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "hold_state"
    assert len(caller.transcript) == asked

    r = api.post(f"/calls/{row.id}/hold", json={"hold": False})
    body = r.get_json()
    assert r.status_code == 200 and body["on_hold"] is False and body["hold_seconds"] >= 0
    assert not caller.on_hold and caller.transcript[-1].startswith("[back with agent-")
    assert recorded.named("call.hold")[-1].payload["call"]["on_hold"] is False

    # Held again when the caller hangs up: the open hold is closed with the call.
    assert api.post(f"/calls/{row.id}/hold", json={"hold": True}).status_code == 200
    db.session.rollback()
    sim.hang_up(row.call_sid)
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None and call.held_since is None and call.hold_seconds > 0
    done = db.session.scalar(
        select(CallEvent).where(CallEvent.call_id == row.id, CallEvent.event == "completed")
    )
    assert done is not None and done.hold_s == round(call.hold_seconds, 3)
    # Resuming an ended call is refused.
    assert api.post(f"/calls/{row.id}/hold", json={"hold": False}).status_code == 409
    # The wrap-up's length goes on the same entry when it ends.
    r = api.post(f"/calls/{row.id}/wrap-up", json={"notes": "held twice", "done": True})
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    done = db.session.get(CallEvent, done.id)
    assert done is not None and done.wrap_s is not None and done.wrap_s >= 0


def test_another_agents_call_cannot_be_held(
    console: FlaskClient,
    sim: Simulator,
    hugo: Any,
    api_as: Callable[..., Api],
) -> None:
    row = _on_the_line(console, sim)
    r = api_as("agent").post(f"/calls/{row.id}/hold", json={"hold": True})
    assert r.status_code == 404
    assert not sim.calls[row.call_sid].on_hold


def test_reports_split_handle_time_into_talk_hold_and_wrap_up() -> None:
    figures = reports._figures(
        {
            **dict.fromkeys(reports.COLUMNS, 0),
            "completed": 2,
            "answered": 2,
            "wait_s": 10.0,
            "talk_s": 300.0,
            "hold_s": 60.0,
            "wrap_s": 40.0,
        }
    )
    assert figures["aht_s"] == 150.0
    assert figures["aht_hold_s"] == 30.0 and figures["aht_talk_s"] == 120.0
    assert figures["aht_wrap_s"] == 20.0


def test_the_agent_hangs_up(
    console: FlaskClient,
    agent: User,
    sim: Simulator,
    hugo: Any,
    token_for: Callable[[User], str],
) -> None:
    row = _on_the_line(console, sim)
    api = Api(console, token_for(agent))
    r = api.post(f"/calls/{row.id}/hangup")
    assert r.status_code == 200, r.get_json()
    assert sim.calls[row.call_sid].state == "completed"
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None and call.outcome == "answered" and call.ended_at is not None
    assert api.post(f"/calls/{row.id}/hangup").status_code == 409


def test_a_hold_the_provider_refuses_is_a_409_and_changes_nothing(
    console: FlaskClient,
    agent: User,
    sim: Simulator,
    hugo: Any,
    token_for: Callable[[User], str],
    monkeypatch: Any,
) -> None:
    row = _on_the_line(console, sim)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("conference not found")

    from telephony import adapters

    with console.application.app_context():
        monkeypatch.setattr(adapters.gateway(console.application), "hold", refuse)
    r = Api(console, token_for(agent)).post(f"/calls/{row.id}/hold", json={"hold": True})
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["error"]["code"] == "hold_failed"
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call is not None and call.held_since is None
    assert not sim.calls[row.call_sid].on_hold
