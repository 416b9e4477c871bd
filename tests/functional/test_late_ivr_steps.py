"""Ended calls stay ended: an IVR step that arrives after the call's final status (late, or
replayed by Twilio) answers `<Hangup/>` and changes nothing.

Before, a late menu choice put a hung-up caller back in line, offered them to an agent, and the
agent's accept sent Twilio REST requests for a dead call; a late recording turned an abandoned
call into a voicemail with a new ticket. The app runs in Twilio mode with its REST client aimed at
the contract mock (tests/twilio_mock.py), which records every request it gets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.supervision.models import CallEvent
from helpdesk.tickets.models import Ticket
from telephony import agent_presence, offers
from telephony.models import AgentPresence, Call, CallOffer, CallQueue
from tests.conftest import Database
from tests.twilio_mock import ContractMock, app_in_twilio_mode, start_mock

BASE = "http://localhost"
TOKEN = "test-auth-token"
CENTER = "+15005550006"
CALLER = "CA" + "5" * 32
INCOMING = {"CallSid": CALLER, "From": "+33612345678", "To": CENTER, "CallStatus": "ringing"}
RECORDING = "https://api.twilio.com/2010-04-01/Recordings/RE" + "5" * 32

# Every IVR step a call can take, each as Twilio would post it.
LATE_STEPS = [
    pytest.param("/twilio/voice", INCOMING, id="incoming-replayed"),
    pytest.param("/twilio/voice/language", {"Digits": "1"}, id="language"),
    pytest.param("/twilio/voice/menu", {"Digits": "1"}, id="menu-queue"),
    pytest.param("/twilio/voice/menu", {"Digits": "9"}, id="menu-voicemail"),
    pytest.param("/twilio/voice/ticket", {"Digits": "10001"}, id="ticket"),
    pytest.param("/twilio/voice/wait", {"QueuePosition": "1", "QueueTime": "300"}, id="wait"),
    pytest.param("/twilio/voice/wait-choice", {"Digits": "1"}, id="callback-choice"),
    pytest.param("/twilio/voice/wait-choice", {"Digits": "2"}, id="wait-choice-voicemail"),
    pytest.param("/twilio/voice/queue-result", {"QueueResult": "leave"}, id="queue-result"),
    pytest.param(
        "/twilio/voice/voicemail",
        {"RecordingUrl": RECORDING, "RecordingDuration": "12"},
        id="voicemail",
    ),
]


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
    support = CallQueue(name="support", skills={}, ring_timeout_s=25, callback_after_s=0)
    db.session.add(support)
    db.session.commit()
    return support


def signed_post(client: Any, path: str, form: dict[str, str]) -> Any:
    sig = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def _snapshot(call_id: int) -> dict[str, Any]:
    db.session.expire_all()
    call = db.session.get(Call, call_id)
    assert call is not None
    return {
        "status": call.status,
        "routing_state": call.routing_state,
        "outcome": call.outcome,
        "ivr_path": list(call.ivr_path or []),
        "callback_requested": call.callback_requested,
        "priority": call.priority,
        "queue_id": call.queue_id,
        "ticket_id": call.ticket_id,
        "recording_url": call.recording_url,
        "events": db.session.scalar(select(func.count(CallEvent.id))),
        "tickets": db.session.scalar(select(func.count(Ticket.id))),
        "offers": db.session.scalar(select(func.count(CallOffer.id))),
    }


def _abandoned(client: Any) -> Call:
    """A caller who chose the support queue, waited with nobody free, and hung up."""
    assert signed_post(client, "/twilio/voice", INCOMING).status_code == 200
    signed_post(client, "/twilio/voice/language", {"CallSid": CALLER, "Digits": "1"})
    r = signed_post(client, "/twilio/voice/menu", {"CallSid": CALLER, "Digits": "1"})
    assert "<Enqueue" in r.get_data(as_text=True)
    done = {"CallSid": CALLER, "CallStatus": "completed"}
    assert signed_post(client, "/twilio/voice/status", done).status_code == 204
    call = db.session.scalar(select(Call).where(Call.call_sid == CALLER))
    assert call is not None and call.outcome == "abandoned" and call.routing_state == "done"
    return call


def _agents_take_what_they_are_offered(app: Flask) -> None:
    """Dispatch, and accept whatever rings: what a free agent's console would do."""
    offers.dispatch(db.session)
    gateway = app.extensions["telephony_gateway"]
    for offer in db.session.scalars(select(CallOffer).where(CallOffer.state == "pending")).all():
        agent = db.session.get(AgentPresence, offer.agent_id)
        assert agent is not None
        from helpdesk.auth.models import User

        offers.accept(
            db.session,
            user=db.session.get(User, agent.user_id),
            call_id=offer.call_id,
            gateway=gateway,
        )


@pytest.mark.parametrize(("path", "form"), LATE_STEPS)
def test_a_step_after_the_call_ended_hangs_up_and_changes_nothing(
    app, client, mock, queue, make_user, path, form
):
    call = _abandoned(client)
    agent = make_user(Role.AGENT, languages=["fr", "en"])
    agent_presence.set_presence(
        db.session, user=agent, state="available"
    )  # free now: anything queued rings
    before = _snapshot(call.id)
    mock.seen.clear()

    r = signed_post(client, path, {"CallSid": CALLER} | form)

    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "<Hangup />" in body
    assert "<Enqueue" not in body and "<Record" not in body and "<Gather" not in body
    _agents_take_what_they_are_offered(app)
    assert _snapshot(call.id) == before  # no queue entry, no offer, no ticket, no event
    assert db.session.get(AgentPresence, agent.id).state == "available"
    assert mock.seen == []  # no REST request to Twilio for the dead call


def test_a_called_back_caller_is_not_queued_again_by_a_replayed_menu_choice(
    app, client, mock, queue, make_user
):
    """The callback's original call ended (`callback`): replaying its menu choice would queue it
    again and the accepting agent would dial the customer a second time."""
    assert signed_post(client, "/twilio/voice", INCOMING).status_code == 200
    signed_post(client, "/twilio/voice/menu", {"CallSid": CALLER, "Digits": "1"})
    signed_post(client, "/twilio/voice/wait-choice", {"CallSid": CALLER, "Digits": "1"})
    signed_post(client, "/twilio/voice/status", {"CallSid": CALLER, "CallStatus": "completed"})
    agent = make_user(Role.AGENT, languages=["fr", "en"])
    agent_presence.set_presence(db.session, user=agent, state="available")
    _agents_take_what_they_are_offered(app)
    placed = [p for m, p, _ in mock.seen if m == "POST" and p.endswith("/Calls.json")]
    assert len(placed) == 1  # the callback, dialled once
    original = db.session.scalar(select(Call).where(Call.call_sid == CALLER))
    before = _snapshot(original.id)
    mock.seen.clear()
    # The agent is free again when the replay arrives.
    db.session.execute(
        AgentPresence.__table__.update()
        .where(AgentPresence.user_id == agent.id)
        .values(state="available", current_call_id=None)
    )
    db.session.commit()

    r = signed_post(client, "/twilio/voice/menu", {"CallSid": CALLER, "Digits": "1"})

    assert "<Hangup />" in r.get_data(as_text=True)
    _agents_take_what_they_are_offered(app)
    assert _snapshot(original.id) == before
    assert mock.seen == []
