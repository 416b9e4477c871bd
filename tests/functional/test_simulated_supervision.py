"""Supervisors and recordings on calls the built-in simulator carries: listen, whisper and barge
join the simulated call (once refused with 409), one supervisor barges at a time, also when two
click at once on PostgreSQL; a recorded queue's call and a voicemail play in the same player."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.auth import service as auth
from helpdesk.auth.models import Role, User
from helpdesk.errors import APIError
from helpdesk.extensions import db
from helpdesk.supervision.monitoring import current_monitor
from telephony import adapters, agent_presence, offers, recordings
from telephony import supervision as floor
from telephony.models import Call, CallQueue
from telephony.monitoring import simulated_supervisors
from telephony.recording_models import CallMonitor, CallRecording
from tests.conftest import Api


@pytest.fixture
def sim(app: Flask) -> Any:
    db.session.add(CallQueue(name="support", skills={"support": 1}))
    db.session.commit()
    return app.extensions["telephony_simulator"]


def _api(client: Any, user: User) -> Api:
    return Api(client, auth.issue_token(session=db.session, user=user))


def _connected(app: Flask, sim: Any, make_user: Any) -> tuple[Any, Call]:
    agent = make_user(Role.AGENT, skills={"support": 3}, languages=["fr", "en"])
    agent_presence.set_presence(db.session, user=agent, state="available")
    simulated = sim.call("+33611111111", digits="11")  # French, then support
    row = db.session.scalar(select(Call).where(Call.call_sid == simulated.call_sid))
    offers.accept(db.session, user=agent, call_id=row.id, gateway=adapters.gateway())
    assert simulated.state == "connected"
    return simulated, db.session.get(Call, row.id)


def test_listen_whisper_and_barge_join_the_simulated_call(app, client, sim, make_user):
    simulated, call = _connected(app, sim, make_user)
    first = _api(client, make_user(Role.SUPERVISOR))
    for mode in ("listen", "whisper", "barge"):
        r = first.post(f"/calls/{call.id}/monitor", json={"mode": mode})
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["supervisor_call_sid"].startswith("CA")
    joined = simulated_supervisors(sim, simulated.call_sid)
    assert [mode for _, mode, _ in joined] == ["listen", "whisper", "barge"]
    assert any("joins the conversation" in line for line in simulated.transcript)
    assert any("whispers to the agent" in line for line in simulated.transcript)
    # A second supervisor may listen, but not barge while the first one does.
    second = _api(client, make_user(Role.SUPERVISOR))
    assert second.post(f"/calls/{call.id}/monitor", json={"mode": "listen"}).status_code == 200
    refused = second.post(f"/calls/{call.id}/monitor", json={"mode": "barge"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "already_barged"


def test_a_call_the_simulator_has_ended_cannot_be_joined(app, client, sim, make_user):
    simulated, call = _connected(app, sim, make_user)
    simulated.state = "completed"  # gone from the network, not yet from our record
    r = _api(client, make_user(Role.SUPERVISOR)).post(
        f"/calls/{call.id}/monitor", json={"mode": "listen"}
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "monitoring_unavailable"
    assert db.session.scalars(select(CallMonitor)).all() == []  # no seat kept


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_supervisors_barging_at_once_one_gets_the_call(app, sim, make_user):
    """Both requests pass every check before either commits; the barge seat decides."""
    _, call = _connected(app, sim, make_user)
    supervisors = [make_user(Role.SUPERVISOR) for _ in range(2)]
    call_id = call.id
    db.session.commit()
    both_in = threading.Barrier(2)
    outcomes: list[str] = []

    class SlowMonitor:
        """The network's answer takes a while, so both requests are in flight together."""

        def __init__(self) -> None:
            self.inner = current_monitor()

        def join(self, **kwargs: Any) -> str:
            time.sleep(0.3)
            return str(self.inner.join(**kwargs))

    def barge(user_id: int) -> None:
        # A session of its own per request, as two web processes would have.
        with app.app_context(), Session(db.engine) as session:
            supervisor = session.get(User, user_id)
            monitor = SlowMonitor()
            both_in.wait(timeout=10)
            try:
                floor.monitor_call(
                    session, supervisor=supervisor, call_id=call_id, mode="barge", monitor=monitor
                )
                outcomes.append("joined")
            except APIError as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=barge, args=(s.id,)) for s in supervisors]
    db.session.rollback()  # hold no snapshot while the two race
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["already_barged", "joined"]
    seats = db.session.scalars(select(CallMonitor).where(CallMonitor.call_id == call_id)).all()
    assert [s.mode for s in seats] == ["barge"]


def test_a_recorded_call_and_a_voicemail_play_in_the_simulator(app, client, sim, make_user):
    queue = db.session.scalar(select(CallQueue).where(CallQueue.name == "support"))
    recordings.save_policy(
        db.session, queue_id=queue.id, mode="on", retention_days=None, restricted=False
    )
    _, call = _connected(app, sim, make_user)
    agent = _api(client, db.session.get(User, call.agent_id))
    assert agent.post(f"/calls/{call.id}/recording", json={"paused": True}).status_code == 200
    assert agent.post(f"/calls/{call.id}/recording", json={"paused": False}).status_code == 200
    (recording,) = db.session.scalars(select(CallRecording).where(CallRecording.call_id == call.id))
    db.session.rollback()  # hold no SQLite lock while the simulator's callback writes
    sim.hang_up(call.call_sid)
    # The simulator sends the recording's status callback once the call is over, as Twilio does.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(CallRecording, recording.id).status == "completed":
            break
        db.session.rollback()
        time.sleep(0.1)
    assert db.session.get(CallRecording, recording.id).status == "completed"
    played = agent.get(f"/recordings/{recording.id}/media")
    assert played.status_code == 200 and played.mimetype == "audio/wav"
    assert played.data[:4] == b"RIFF"

    voicemail = sim.call("+33622222222", digits="19")  # French, then voicemail
    row = db.session.scalar(select(Call).where(Call.call_sid == voicemail.call_sid))
    db.session.refresh(row)
    (left,) = agent.get(f"/tickets/{row.ticket_id}/recordings").get_json()["items"]
    assert left["kind"] == "voicemail" and left["duration_s"] == 12
    assert agent.get(left["media_path"].removeprefix("/api/v1")).status_code == 200
