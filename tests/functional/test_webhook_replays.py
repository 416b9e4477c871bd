"""Webhooks replayed one after the other (Twilio's retries, a replay from its console) do what
the first did and nothing more: one `entered`, one `callback`, one outcome, each counted once.
The same copies at once, on PostgreSQL, are in tests/services/test_webhook_duplicates.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.supervision.models import CallEvent
from telephony.models import Call, CallQueue
from telephony.routing import CALLBACK_PRIORITY
from tests.functional.test_voice import SID, fixture, signed_post

REPLAYS = 3


@pytest.fixture
def queue(app):
    db.session.add(CallQueue(name="support", skills={"support": 1}, callback_after_s=0))
    db.session.commit()


def _events(event: str) -> int:
    return db.session.scalar(select(func.count(CallEvent.id)).where(CallEvent.event == event))


def _call() -> Call:
    db.session.expire_all()
    call = db.session.scalar(select(Call).where(Call.call_sid == SID))
    assert call is not None
    return call


def _answers(client, path: str, form: dict[str, str]) -> set[str]:
    replies = [signed_post(client, path, form) for _ in range(REPLAYS)]
    assert {r.status_code for r in replies} == {200}
    return {r.get_data(as_text=True) for r in replies}


def test_replayed_menu_choice_and_callback_choice_count_once(client, queue):
    signed_post(client, "/twilio/voice", fixture("incoming_call"))
    signed_post(client, "/twilio/voice/language", {"CallSid": SID, "Digits": "1"})

    (menu,) = _answers(client, "/twilio/voice/menu", {"CallSid": SID, "Digits": "1"})
    assert "<Enqueue" in menu
    assert _events("entered") == 1
    assert _call().ivr_path == ["language:fr", "menu:1:queue"]
    before = _call().priority

    (choice,) = _answers(client, "/twilio/voice/wait-choice", {"CallSid": SID, "Digits": "1"})
    assert "<Leave />" in choice
    call = _call()
    assert _events("callback") == 1
    assert call.priority == before + CALLBACK_PRIORITY
    assert call.ivr_path == ["language:fr", "menu:1:queue", "callback"]

    # The caller hangs up, keeping the place; the final status replayed changes nothing more.
    for _ in range(REPLAYS):
        assert signed_post(client, "/twilio/voice/status", fixture("status_completed")).status_code
    call = _call()
    assert call.callback_requested and call.routing_state == "waiting"
    assert _events("abandoned") == 0 and _events("callback") == 1


def test_replayed_hang_up_of_a_waiting_caller_counts_one_abandon(client, queue):
    signed_post(client, "/twilio/voice", fixture("incoming_call"))
    signed_post(client, "/twilio/voice/menu", {"CallSid": SID, "Digits": "1"})
    for _ in range(REPLAYS):
        signed_post(client, "/twilio/voice/status", fixture("status_completed"))
    assert _call().outcome == "abandoned"
    assert _events("abandoned") == 1 and _events("entered") == 1


def test_a_callback_is_asked_for_only_by_a_caller_in_line(client, queue):
    """The callback choice of a caller not (or no longer) waiting is answered but counts
    nothing: no `callback` event, no priority raised."""
    signed_post(client, "/twilio/voice", fixture("incoming_call"))
    r = signed_post(client, "/twilio/voice/wait-choice", {"CallSid": SID, "Digits": "1"})
    assert r.status_code == 200
    call = _call()
    assert not call.callback_requested and call.priority == 0
    assert _events("callback") == 0
