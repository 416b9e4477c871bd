"""Call recordings with Twilio, against the contract mock: a queue's policy, the recording started
on accept, pause and resume, the status callback, the lists, the audio streamed with the staff
user's rights, retention and erasure.

Every request to Twilio goes to the mock built from its OpenAPI document (tests/twilio_mock.py),
which answers 422 to any request outside the contract; Twilio's callbacks are replayed signed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from helpdesk.auth import service as auth
from helpdesk.auth.models import Role, User
from helpdesk.customers.erasure import erase
from helpdesk.customers.models import Customer
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.timeline.models import TimelineEntry
from telephony import adapters, agent_presence, calls, recordings
from telephony.models import Call, CallQueue
from telephony.recording_models import CallRecording
from tests.conftest import Api, Database
from tests.functional.test_console import sign_in
from tests.twilio_mock import ACCOUNT, MEDIA_BYTES, ContractMock, app_in_twilio_mode, start_mock

BASE = "http://localhost"
TOKEN = "test-auth-token"
CENTER = "+15005550006"
CALLER = "CA" + "5" * 32


@pytest.fixture(scope="module")
def twilio_mock() -> Iterator[tuple[ContractMock, str]]:
    mock, base, server = start_mock()
    yield mock, base
    server.shutdown()
    server.server_close()


@pytest.fixture
def mock(twilio_mock: tuple[ContractMock, str]) -> ContractMock:
    twilio_mock[0].seen.clear()
    return twilio_mock[0]


@pytest.fixture
def app(
    sqlite_db: Database, tmp_path: Path, twilio_mock: tuple[ContractMock, str]
) -> Iterator[Flask]:
    yield from app_in_twilio_mode(
        sqlite_db,
        tmp_path,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_PHONE_NUMBER=CENTER,
        TWILIO_API_BASE_URL=twilio_mock[1],
        PUBLIC_BASE_URL=BASE,
    )


@pytest.fixture
def queue(app: Flask) -> CallQueue:
    support = CallQueue(name="support", skills={"support": 1}, ring_timeout_s=25)
    db.session.add(support)
    db.session.commit()
    return support


def _api(client: Any, user: User) -> Api:
    return Api(client, auth.issue_token(session=db.session, user=user))


def _agent(make_user: Any, **skills: int) -> User:
    user = make_user(Role.AGENT, languages=["fr", "en"], skills=skills)
    agent_presence.set_presence(db.session, user=user, state="available")
    return user


def _signed(client: Any, path: str, form: dict[str, str]) -> Any:
    sig = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def _answered(client: Any, queue: CallQueue, agent: User) -> Call:
    call, _ = calls.upsert_inbound(
        db.session,
        inbound=calls.InboundCall(call_sid=CALLER, from_number="+33612345678", to_number=CENTER),
        region="FR",
    )
    calls.enqueue(db.session, call=call, queue=queue)
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.agent_id == agent.id
    assert _api(client, agent).post(f"/calls/{call.id}/accept").status_code == 200
    db.session.expire_all()
    return db.session.get(Call, call.id)


def _posts(mock: ContractMock, ending: str) -> list[tuple[str, dict[str, list[str]]]]:
    return [(p, f) for m, p, f in mock.seen if m == "POST" and p.endswith(ending)]


def _policy(client: Any, make_user: Any, queue: CallQueue, **body: Any) -> None:
    admin = _api(client, make_user(Role.ADMIN))
    r = admin.put(f"/queues/{queue.id}/recording", json=body)
    assert r.status_code == 200, r.get_json()


def _recorded(client, mock, queue, make_user) -> tuple[Call, CallRecording, User]:
    """An answered call of a recorded queue, its recording completed by Twilio's callback."""
    _policy(client, make_user, queue, mode="on", retention_days=30, restricted=True)
    agent = _agent(make_user, support=2)
    call = _answered(client, queue, agent)
    recording = db.session.scalar(select(CallRecording).where(CallRecording.call_id == call.id))
    assert recording is not None and recording.status == "in-progress"
    url = (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording.recording_sid}"
    )
    form = {
        "AccountSid": ACCOUNT,
        "CallSid": CALLER,
        "RecordingSid": recording.recording_sid or "",
        "RecordingStatus": "completed",
        "RecordingUrl": url,
        "RecordingDuration": "42",
    }
    assert _signed(client, "/twilio/voice/recording-status", form).status_code == 204
    assert _signed(client, "/twilio/voice/recording-status", form).status_code == 204  # replay
    db.session.expire_all()
    return call, db.session.get(CallRecording, recording.id), agent


def test_the_answered_call_of_a_recorded_queue_is_recorded_within_the_contract(
    app, client, mock, queue, make_user
):
    _policy(client, make_user, queue, mode="on")
    agent = _agent(make_user, support=2)
    call = _answered(client, queue, agent)
    ((path, form),) = _posts(mock, "/Recordings.json")
    assert path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALLER}/Recordings.json"
    assert form["RecordingStatusCallback"] == [f"{BASE}/twilio/voice/recording-status"]
    assert form["RecordingChannels"] == ["dual"]
    (recording,) = db.session.scalars(select(CallRecording).where(CallRecording.call_id == call.id))
    assert recording.recording_sid and recording.recording_sid.startswith("RE")

    me = _api(client, agent)
    paused = me.post(f"/calls/{call.id}/recording", json={"paused": True})
    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"
    resumed = me.post(f"/calls/{call.id}/recording", json={"paused": False})
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "in-progress"
    updates = _posts(mock, f"/Recordings/{recording.recording_sid}.json")
    assert [f["Status"] for _, f in updates] == [["paused"], ["in-progress"]]
    assert updates[0][1]["PauseBehavior"] == ["skip"]
    # Nobody else pauses the agent's recording.
    other = _api(client, _agent(make_user, support=2))
    assert other.post(f"/calls/{call.id}/recording", json={"paused": True}).status_code == 403


def test_a_queue_that_does_not_record_makes_no_recording(app, client, mock, queue, make_user):
    agent = _agent(make_user, support=2)
    call = _answered(client, queue, agent)
    assert _posts(mock, "/Recordings.json") == []
    r = _api(client, agent).post(f"/calls/{call.id}/recording", json={"paused": True})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_recording"


def test_a_recording_is_listed_and_streamed_to_whoever_may_hear_it(
    app, client, mock, queue, make_user
):
    call, recording, agent = _recorded(client, mock, queue, make_user)
    assert recording.status == "completed" and recording.duration_s == 42
    supervisor = _api(client, make_user(Role.SUPERVISOR))
    for path in (
        f"/calls/{call.id}/recordings",
        f"/customers/{call.customer_id}/recordings",
    ):
        (item,) = supervisor.get(path).get_json()["items"]
        assert item["id"] == recording.id and item["media_path"].endswith("/media")
        assert "twilio" not in str(item)  # the provider's address is never given out
    entry = db.session.scalar(
        select(TimelineEntry).where(
            TimelineEntry.kind == "recording", TimelineEntry.subject_id == recording.id
        )
    )
    assert entry is not None and entry.customer_id == call.customer_id

    audio = supervisor.get(f"/recordings/{recording.id}/media")
    assert audio.status_code == 200 and audio.data == MEDIA_BYTES
    assert audio.mimetype == "audio/mpeg" and "no-store" in audio.headers["Cache-Control"]
    assert _api(client, agent).get(f"/recordings/{recording.id}/media").status_code == 200
    # The queue's own agents hear it; an agent of another queue does not, nor sees it listed.
    colleague = _api(client, make_user(Role.AGENT, skills={"support": 1}))
    assert colleague.get(f"/recordings/{recording.id}/media").status_code == 200
    outsider = _api(client, make_user(Role.AGENT, skills={"billing": 3}))
    assert outsider.get(f"/recordings/{recording.id}/media").status_code == 403
    assert outsider.get(f"/calls/{call.id}/recordings").get_json()["items"] == []


def test_retention_purges_the_recording_at_the_source(app, client, mock, queue, make_user):
    _, recording, _ = _recorded(client, mock, queue, make_user)
    sid = recording.recording_sid
    recorder = adapters.recorder()
    assert recordings.purge(db.session, recorder=recorder, now=utcnow()) == 0
    later = utcnow() + timedelta(days=31)
    assert recordings.purge(db.session, recorder=recorder, now=later) == 1
    deletes = [p for m, p, _ in mock.seen if m == "DELETE"]
    assert deletes == [f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}.json"]
    assert db.session.get(CallRecording, recording.id) is None


def test_erasing_the_customer_removes_their_recordings(app, client, mock, queue, make_user):
    call, recording, _ = _recorded(client, mock, queue, make_user)
    supervisor = _api(client, make_user(Role.SUPERVISOR))
    erase(db.session, db.session.get(Customer, call.customer_id), actor_id=None)
    db.session.commit()
    assert supervisor.get(f"/calls/{call.id}/recordings").get_json()["items"] == []
    assert supervisor.get(f"/recordings/{recording.id}/media").status_code == 404
    assert recordings.purge(db.session, recorder=adapters.recorder()) == 1
    assert any(m == "DELETE" for m, _, _ in mock.seen)


def test_an_announcing_queue_tells_the_caller_before_they_wait(app, client, queue, make_user):
    _policy(client, make_user, queue, mode="announce")
    calls.upsert_inbound(
        db.session,
        inbound=calls.InboundCall(call_sid=CALLER, from_number="+33612345678", to_number=CENTER),
        region="FR",
    )
    form = {"CallSid": CALLER, "Digits": "1", "From": "+33612345678", "To": CENTER}
    body = _signed(client, "/twilio/voice/menu", form).get_data(as_text=True)
    said = [v.text or "" for v in ET.fromstring(body) if v.tag == "Say"]  # noqa: S314
    assert said and "enregistré" in said[0]  # in the caller's language, before the wait


def test_the_ticket_page_plays_the_tickets_recordings(app, client, mock, queue, make_user):
    from helpdesk.tickets import service as tickets

    call, recording, agent = _recorded(client, mock, queue, make_user)
    ticket = tickets.create(
        db.session, actor=None, subject="Dispute", requester_id=call.customer_id
    )
    recording.ticket_id = ticket.id
    db.session.commit()
    assert sign_in(client, agent).status_code == 302
    page = client.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200, page.status_code
    assert f'src="/recordings/{recording.id}/audio"' in page.get_data(as_text=True)
    audio = client.get(f"/recordings/{recording.id}/audio")
    assert audio.status_code == 200 and audio.data == MEDIA_BYTES
