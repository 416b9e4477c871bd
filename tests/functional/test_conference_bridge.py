"""Calls bridged through a conference with Twilio, end to end against the contract mock.

The app runs with Twilio credentials and its REST client aimed at the mock of Twilio's API built
from the OpenAPI document (tests/twilio_mock.py), so every request the bridge, the agent leg and
the supervisor's monitor make is checked against Twilio's contract; Twilio's webhooks are replayed
signed, as Twilio would send them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from helpdesk.audit.models import AuditEntry
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.supervision.models import CallEvent
from telephony import agent_presence, calls, offers
from telephony.models import AgentPresence, Call, CallQueue
from tests.conftest import Api, Database
from tests.twilio_mock import ACCOUNT, ContractMock, app_in_twilio_mode, start_mock

BASE = "http://localhost"
TOKEN = "test-auth-token"
CENTER = "+15005550006"
CALLER = "CA" + "7" * 32


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
    """The app in Twilio mode, its REST client aimed at the contract mock."""
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
    support = CallQueue(name="support", skills={}, ring_timeout_s=25)
    db.session.add(support)
    db.session.commit()
    return support


def signed_post(
    client: Any, path: str, form: dict[str, str], *, signature: str | None = None
) -> Any:
    sig = (
        signature
        if signature is not None
        else RequestValidator(TOKEN).compute_signature(BASE + path, form)
    )
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def _agent(make_user: Any, endpoint: str | None = None) -> User:
    user = make_user(Role.AGENT, languages=["fr", "en"])
    if endpoint:
        agent_presence.presence_of(db.session, user_id=user.id).endpoint = endpoint
        db.session.commit()
    agent_presence.set_presence(db.session, user=user, state="available")
    return user


def _api(client: Any, user: User) -> Api:
    return Api(client, auth.issue_token(session=db.session, user=user))


def _waiting_call(queue: CallQueue, sid: str = CALLER) -> Call:
    call, _ = calls.upsert_inbound(
        db.session,
        inbound=calls.InboundCall(call_sid=sid, from_number="+33612345678", to_number=CENTER),
        region="FR",
    )
    calls.enqueue(db.session, call=call, queue=queue)
    db.session.expire_all()
    return db.session.get(Call, call.id)


def _requests(mock: ContractMock, ending: str) -> list[tuple[str, dict[str, list[str]]]]:
    return [
        (path, form)
        for method, path, form in mock.seen
        if method == "POST" and path.endswith(ending)
    ]


def _conference(twiml: str) -> ET.Element:
    root = ET.fromstring(twiml)  # noqa: S314 (TwiML the app under test built)
    assert root.tag == "Response"
    (dial,) = list(root)
    assert dial.tag == "Dial"
    (conference,) = list(dial)
    assert conference.tag == "Conference"
    return conference


def _accepted(client: Any, mock: ContractMock, queue: CallQueue, agent: User) -> Call:
    call = _waiting_call(queue)
    assert call.routing_state == "offered" and call.agent_id == agent.id
    r = _api(client, agent).post(f"/calls/{call.id}/accept")
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    return db.session.get(Call, call.id)


def test_accept_puts_the_caller_in_a_conference_and_rings_the_agent_into_it(
    app, client, mock, queue, make_user
):
    agent = _agent(make_user)
    call = _accepted(client, mock, queue, agent)

    # 1. The caller's live call is moved into the conference named after its CallSid.
    (update,) = _requests(mock, f"/Calls/{CALLER}.json")
    conference = _conference(update[1]["Twiml"][0])
    assert conference.text == f"call-{CALLER}"
    assert conference.attrib == {
        "beep": "false",
        "startConferenceOnEnter": "true",
        "endConferenceOnExit": "true",
        "waitUrl": f"{BASE}/twilio/voice/hold",
        "waitMethod": "POST",
    }
    # 2. The agent's softphone is added to it, from the center's number, ringing as long as an
    # offer of the queue does, its end reported to the signed agent-leg webhook.
    (created,) = _requests(mock, "/Participants.json")
    path, form = created
    assert path == f"/2010-04-01/Accounts/{ACCOUNT}/Conferences/call-{CALLER}/Participants.json"
    assert form == {
        "From": [CENTER],
        "To": [f"client:agent-{agent.id}"],
        "Label": ["agent"],
        "Beep": ["false"],
        "StartConferenceOnEnter": ["true"],
        "EndConferenceOnExit": ["true"],
        "Timeout": ["25"],
        "StatusCallback": [f"{BASE}/twilio/voice/agent-status?call={call.id}"],
        "StatusCallbackMethod": ["POST"],
        "StatusCallbackEvent": ["completed"],
    }
    # 3. The agent leg's CallSid (the participant's call_sid) is recorded and served.
    leg = call.agent_call_sid
    assert leg and leg.startswith("CA") and leg != CALLER
    assert _api(client, agent).get(f"/calls/{call.id}").get_json()["agent_call_sid"] == leg
    assert call.routing_state == "connected"
    assert db.session.get(AgentPresence, agent.id).state == "on_call"


def test_an_agent_on_a_phone_number_is_rung_there(app, client, mock, queue, make_user):
    agent = _agent(make_user, endpoint="+33698765432")
    _accepted(client, mock, queue, agent)
    ((_, form),) = _requests(mock, "/Participants.json")
    assert form["To"] == ["+33698765432"] and form["From"] == [CENTER]


def test_the_wait_url_tells_the_caller_and_plays_the_hold_music(app, client, queue):
    _waiting_call(queue)
    body = signed_post(client, "/twilio/voice/hold", {"CallSid": CALLER}).get_data(as_text=True)
    root = ET.fromstring(body)  # noqa: S314 (TwiML the app under test built)
    assert [v.tag for v in root] == ["Say", "Play"]
    assert "conseiller" in (root[0].text or "")  # the caller's language (a French number)
    assert root[1].attrib["loop"] == "0" and (root[1].text or "").endswith(".mp3")
    anonymous = signed_post(client, "/twilio/voice/hold", {}).get_data(as_text=True)
    assert [v.tag for v in ET.fromstring(anonymous)] == ["Play"]  # noqa: S314
    assert signed_post(client, "/twilio/voice/hold", {}, signature="forged").status_code == 403


def _events(call_id: int, event: str) -> int:
    return int(
        db.session.scalar(
            select(func.count()).where(CallEvent.call_id == call_id, CallEvent.event == event)
        )
    )


def test_an_agent_leg_that_rings_out_puts_the_caller_back_in_line_once(
    app, client, mock, queue, make_user, recorded
):
    agent = _agent(make_user)
    call = _accepted(client, mock, queue, agent)
    leg = call.agent_call_sid
    form = {"CallSid": leg, "CallStatus": "no-answer", "AccountSid": ACCOUNT}
    path = f"/twilio/voice/agent-status?call={call.id}"

    # A forged callback changes nothing.
    assert signed_post(client, path, form, signature="forged").status_code == 403
    db.session.expire_all()
    assert db.session.get(Call, call.id).routing_state == "connected"

    assert signed_post(client, path, form).status_code == 204
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.routing_state == "waiting" and call.agent_id is None
    assert call.agent_call_sid is None and call.declined_by == [agent.id]
    presence = db.session.get(AgentPresence, agent.id)
    assert presence.state == "break" and presence.reason == "missed call"
    assert presence.current_call_id is None
    assert _events(call.id, "timeout") == 1 and _events(call.id, "requeued") == 1
    sup = Api(client, auth.issue_token(session=db.session, user=make_user(Role.SUPERVISOR)))
    (figures,) = sup.get("/wallboard").get_json()["queues"]
    assert figures["waiting"] == 1 and figures["answered"] == 0

    # Twilio retries the callback: nothing more happens.
    assert signed_post(client, path, form).status_code == 204
    db.session.expire_all()
    assert _events(call.id, "timeout") == 1 and _events(call.id, "requeued") == 1
    assert db.session.get(Call, call.id).routing_state == "waiting"

    # The next free agent gets the call, in a conference again, with a leg of their own.
    mock.seen.clear()
    other = _agent(make_user)
    db.session.expire_all()
    assert db.session.get(Call, call.id).agent_id == other.id
    assert _api(client, other).post(f"/calls/{call.id}/accept").status_code == 200
    ((_, second),) = _requests(mock, "/Participants.json")
    assert second["To"] == [f"client:agent-{other.id}"]
    db.session.expire_all()
    again = db.session.get(Call, call.id)
    assert again.agent_call_sid and again.agent_call_sid != leg
    # The first leg's late callback does not touch the second agent's call.
    assert signed_post(client, path, form).status_code == 204
    db.session.expire_all()
    assert db.session.get(Call, call.id).agent_id == other.id
    (figures,) = sup.get("/wallboard").get_json()["queues"]
    assert figures["waiting"] == 0 and figures["answered"] == 1


@pytest.mark.parametrize("status", ["busy", "failed", "canceled"])
def test_every_unanswered_end_of_the_leg_requeues(app, client, mock, queue, make_user, status):
    agent = _agent(make_user)
    call = _accepted(client, mock, queue, agent)
    form = {"CallSid": call.agent_call_sid, "CallStatus": status}
    assert (
        signed_post(client, f"/twilio/voice/agent-status?call={call.id}", form).status_code == 204
    )
    db.session.expire_all()
    assert db.session.get(Call, call.id).routing_state == "waiting"


def test_a_leg_that_was_answered_or_a_caller_gone_changes_nothing(
    app, client, mock, queue, make_user
):
    agent = _agent(make_user)
    call = _accepted(client, mock, queue, agent)
    path = f"/twilio/voice/agent-status?call={call.id}"
    for status in ("in-progress", "completed"):
        assert (
            signed_post(
                client, path, {"CallSid": call.agent_call_sid, "CallStatus": status}
            ).status_code
            == 204
        )
    db.session.expire_all()
    assert db.session.get(Call, call.id).routing_state == "connected"
    # The caller hangs up; the leg Twilio then cancels does not bring the call back.
    calls.apply_status(db.session, call_sid=CALLER, status="completed")
    signed_post(client, path, {"CallSid": call.agent_call_sid, "CallStatus": "canceled"})
    db.session.expire_all()
    ended = db.session.get(Call, call.id)
    assert ended.outcome == "answered" and ended.routing_state == "connected"
    assert _events(call.id, "requeued") == 0


def test_monitor_listen_whisper_and_barge_join_the_conference(app, client, mock, queue, make_user):
    agent = _agent(make_user)
    call = _accepted(client, mock, queue, agent)
    sup_user = make_user(Role.SUPERVISOR)
    sup = Api(client, auth.issue_token(session=db.session, user=sup_user))
    mock.seen.clear()
    for mode in ("listen", "whisper", "barge"):
        r = sup.post(f"/calls/{call.id}/monitor", json={"mode": mode})
        assert r.status_code == 200, r.get_json()  # the mock answers 422 off the contract
        assert r.get_json()["supervisor_call_sid"].startswith("CA")
    joined = _requests(mock, "/Participants.json")
    assert {path for path, _ in joined} == {
        f"/2010-04-01/Accounts/{ACCOUNT}/Conferences/call-{CALLER}/Participants.json"
    }
    listen, whisper, barge = (form for _, form in joined)
    assert listen["Muted"] == ["true"] and "Coaching" not in listen
    assert whisper["Coaching"] == ["true"] and whisper["CallSidToCoach"] == [call.agent_call_sid]
    assert barge["Muted"] == ["false"] and "Coaching" not in barge
    for form in joined:
        assert form[1]["StartConferenceOnEnter"] == ["false"]
        assert form[1]["EndConferenceOnExit"] == ["false"]
    # Listening in is a privileged act: each one is in the audit log, newest first.
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "call.monitor").order_by(AuditEntry.id)
    ).all()
    assert [(e.target_id, e.details, e.actor_id) for e in entries] == [
        (str(call.id), {"mode": mode}, sup_user.id) for mode in ("listen", "whisper", "barge")
    ]


def test_monitor_without_a_recorded_agent_leg_is_refused(app, client, mock, queue, make_user):
    agent = _agent(make_user)
    call = _accepted(client, mock, queue, agent)
    call.agent_call_sid = None  # bridged before calls went through conferences
    db.session.commit()
    sup = Api(client, auth.issue_token(session=db.session, user=make_user(Role.SUPERVISOR)))
    mock.seen.clear()
    r = sup.post(f"/calls/{call.id}/monitor", json={"mode": "whisper"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "monitoring_unavailable"
    assert _requests(mock, "/Participants.json") == []


def test_a_callback_is_dialled_into_its_own_conference(app, client, mock, queue, make_user):
    caller = _waiting_call(queue)  # nobody free yet
    offers.request_callback(db.session, call=caller)
    calls.apply_status(db.session, call_sid=CALLER, status="completed")  # hangs up, keeps the place
    agent = _agent(make_user)
    db.session.expire_all()
    assert db.session.get(Call, caller.id).agent_id == agent.id
    r = _api(client, agent).post(f"/calls/{caller.id}/accept")
    assert r.status_code == 200, r.get_json()
    outbound = db.session.get(Call, r.get_json()["id"])
    assert outbound.direction == "outbound" and outbound.agent_call_sid is None
    ((_, dialled),) = _requests(mock, "/Calls.json")
    assert dialled["Url"] == [f"{BASE}/twilio/voice/connect-agent?call={outbound.id}"]

    # The customer answers: they join the conference of their own call, and the agent's leg is
    # rung into it (a task, run at once without a broker).
    mock.seen.clear()
    path = f"/twilio/voice/connect-agent?call={outbound.id}"
    answered = {
        "CallSid": outbound.call_sid,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
    }
    body = signed_post(client, path, answered).get_data(as_text=True)
    conference = _conference(body)
    assert conference.text == f"call-{outbound.call_sid}"
    assert conference.attrib["endConferenceOnExit"] == "true"
    assert conference.attrib["waitUrl"] == f"{BASE}/twilio/voice/hold"
    ((leg_path, leg_form),) = _requests(mock, "/Participants.json")
    assert leg_path.endswith(f"/Conferences/call-{outbound.call_sid}/Participants.json")
    assert leg_form["To"] == [f"client:agent-{agent.id}"]
    assert leg_form["StatusCallback"] == [f"{BASE}/twilio/voice/agent-status?call={outbound.id}"]
    db.session.expire_all()
    leg = db.session.get(Call, outbound.id).agent_call_sid
    assert leg and leg.startswith("CA")

    # A replayed webhook does not ring the agent twice.
    signed_post(client, path, answered)
    assert len(_requests(mock, "/Participants.json")) == 1

    # The supervisor can whisper to the agent of the callback.
    sup = Api(client, auth.issue_token(session=db.session, user=make_user(Role.SUPERVISOR)))
    assert sup.post(f"/calls/{outbound.id}/monitor", json={"mode": "whisper"}).status_code == 200

    # The agent does not answer: the customer, on the line, waits in the queue again.
    form = {"CallSid": leg, "CallStatus": "no-answer"}
    signed_post(client, f"/twilio/voice/agent-status?call={outbound.id}", form)
    db.session.expire_all()
    back = db.session.get(Call, outbound.id)
    assert back.routing_state == "waiting" and back.queue_id == queue.id
    assert back.declined_by == [agent.id]
    assert db.session.get(AgentPresence, agent.id).state == "break"


def test_an_agent_leg_twilio_refuses_puts_the_callback_back_in_line(
    app, client, mock, queue, make_user
):
    from telephony import bridging

    caller = _waiting_call(queue)
    offers.request_callback(db.session, call=caller)
    agent = _agent(make_user)
    r = _api(client, agent).post(f"/calls/{caller.id}/accept")
    assert r.status_code == 200
    outbound_id = r.get_json()["id"]

    class Refusing:
        def add_agent_leg(self, *args: Any) -> str:
            raise RuntimeError("Twilio said no")

    # The customer answered; the task that rings the agent hears Twilio refuse the leg.
    assert bridging.add_agent_leg(db.session, outbound_id, Refusing()) is None
    db.session.expire_all()
    back = db.session.get(Call, outbound_id)
    assert back.routing_state == "waiting" and back.agent_call_sid is None
    assert _events(outbound_id, "requeued") == 1
    assert db.session.get(AgentPresence, agent.id).state == "break"


def test_controls_address_the_conference_by_the_sid_twilio_answered(
    app, client, mock, queue, make_user
):
    """Ringing the agent in answers the conference's SID: it is kept on the call, and hold
    addresses the conference by it, with no lookup. A process that does not know it (a
    restart, another worker) looks it up once by name and keeps it."""
    from telephony.adapters import GATEWAY
    from telephony.conference_sids import CallConferenceSids

    agent = _agent(make_user)
    call = _accepted(client, mock, queue, agent)
    room = mock.conferences[f"call-{CALLER}"]
    assert call.conference_sid == room
    api = _api(client, agent)
    mock.seen.clear()
    assert api.post(f"/calls/{call.id}/hold", {"hold": True}).status_code == 200
    assert [(m, p.rsplit("/Accounts/", 1)[-1]) for m, p, _ in mock.seen] == [
        ("POST", f"{ACCOUNT}/Conferences/{room}/Participants/{CALLER}.json")
    ]

    call.conference_sid = None
    db.session.commit()
    app.extensions[GATEWAY].conference_sids = CallConferenceSids()
    mock.seen.clear()
    assert api.post(f"/calls/{call.id}/hold", {"hold": False}).status_code == 200
    assert api.post(f"/calls/{call.id}/hold", {"hold": True}).status_code == 200
    assert [(m, p.rsplit("/", 1)[-1]) for m, p, _ in mock.seen] == [
        ("GET", "Conferences.json"),
        ("POST", f"{CALLER}.json"),
        ("POST", f"{CALLER}.json"),
    ]
    db.session.expire_all()
    assert db.session.get(Call, call.id).conference_sid == room
