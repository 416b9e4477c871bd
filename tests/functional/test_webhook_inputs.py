"""Every Twilio webhook checks its values at the edge: a value out of range is clamped where that
is harmless (the queue position of the wait message) or answered 400 with a message naming the
field, never a 500. On SQLite and, in the services tier, on PostgreSQL, whose column lengths an
over-long `From` or `MessageSid` used to overrun."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from helpdesk.extensions import db
from telephony.models import Call, CallQueue, SmsMessage

BASE = "http://localhost"
SID = "CA" + "4" * 32
CENTER = "+15005550006"
ME = "+33612345678"
HUGE = str(2**63 + 7)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def queue(app) -> None:
    db.session.add(CallQueue(name="support", skills={}, callback_after_s=0))
    db.session.commit()


def post(client, path: str, form: dict[str, str]):
    sig = RequestValidator("test-auth-token").compute_signature(BASE + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def _call_in_line(client) -> Call:
    form = {"CallSid": SID, "From": ME, "To": CENTER, "CallStatus": "ringing"}
    assert post(client, "/twilio/voice", form).status_code == 200
    assert post(client, "/twilio/voice/menu", {"CallSid": SID, "Digits": "1"}).status_code == 200
    call = db.session.scalar(select(Call).where(Call.call_sid == SID))
    assert call is not None and call.routing_state == "waiting"
    return call


def test_a_queue_position_that_is_not_a_number_is_read_as_first(client, queue):
    _call_in_line(client)
    for bad in ("x", "", "-4", "1e9", "٣", "9" * 5000):
        r = post(client, "/twilio/voice/wait", {"CallSid": SID, "QueuePosition": bad})
        assert r.status_code == 200, bad
        assert "<Say" in r.get_data(as_text=True)
    body = post(
        client, "/twilio/voice/wait", {"CallSid": SID, "QueuePosition": "x", "QueueTime": "y"}
    ).get_data(as_text=True)
    assert "position 1" in body


def test_an_over_long_from_is_refused_with_a_message(client, queue):
    form = {"CallSid": SID, "From": "+33" + "6" * 40, "To": CENTER, "CallStatus": "ringing"}
    r = post(client, "/twilio/voice", form)
    assert r.status_code == 400
    assert r.get_data(as_text=True) == "From is longer than 32 characters"
    assert db.session.scalar(select(func.count(Call.id))) == 0
    text = {"MessageSid": "SM" + "1" * 32, "From": "+33" + "6" * 40, "To": CENTER, "Body": "hi"}
    r = post(client, "/twilio/sms", text)
    assert r.status_code == 400 and "From is longer than" in r.get_data(as_text=True)


def test_an_over_long_message_sid_is_refused_with_a_message(client, queue):
    form = {"MessageSid": "SM" + "1" * 100, "From": ME, "To": CENTER, "Body": "Bonjour"}
    r = post(client, "/twilio/sms", form)
    assert r.status_code == 400
    assert r.get_data(as_text=True) == "MessageSid is longer than 64 characters"
    assert db.session.scalar(select(func.count(SmsMessage.id))) == 0
    r = post(
        client, "/twilio/sms/status", {"MessageSid": "SM" + "1" * 100, "MessageStatus": "sent"}
    )
    assert r.status_code == 400


@pytest.mark.parametrize("path", ["/twilio/voice/connect-agent", "/twilio/voice/agent-status"])
@pytest.mark.parametrize("value", [HUGE, str(2**31), "0", "-1", "x", "9" * 5000])
def test_a_call_id_out_of_range_is_refused(client, queue, path, value):
    r = post(client, f"{path}?call={value}", {"CallSid": SID, "CallStatus": "no-answer"})
    assert r.status_code == 400
    assert r.get_data(as_text=True) == "call must be an id from 1 to 2147483647"


# Every Twilio webhook, with a form that reaches its work when valid.
ROUTES: dict[str, dict[str, str]] = {
    "/twilio/voice": {"CallSid": SID, "From": ME, "To": CENTER, "CallStatus": "ringing"},
    "/twilio/voice/language": {"CallSid": SID, "Digits": "1"},
    "/twilio/voice/menu": {"CallSid": SID, "Digits": "1"},
    "/twilio/voice/ticket": {"CallSid": SID, "Digits": "10001"},
    "/twilio/voice/wait": {
        "CallSid": SID,
        "QueuePosition": "2",
        "QueueTime": "90",
        "AvgQueueTime": "60",
    },
    "/twilio/voice/wait-choice": {"CallSid": SID, "Digits": "1"},
    "/twilio/voice/queue-result": {"CallSid": SID, "QueueResult": "leave"},
    "/twilio/voice/voicemail": {
        "CallSid": SID,
        "RecordingUrl": "https://api.twilio.com/Recordings/RE1",
        "RecordingDuration": "12",
    },
    "/twilio/voice/status": {"CallSid": SID, "CallStatus": "in-progress", "CallDuration": "3"},
    "/twilio/voice/connect-agent?call=1": {"CallSid": "CA" + "9" * 32, "CallStatus": "in-progress"},
    "/twilio/voice/hold": {"CallSid": SID},
    "/twilio/voice/agent-status?call=1": {"CallSid": "CA" + "8" * 32, "CallStatus": "no-answer"},
    "/twilio/sms": {
        "MessageSid": "SM" + "2" * 32,
        "From": ME,
        "To": CENTER,
        "Body": "Bonjour",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/Media/ME1",
        "OptOutType": "",
    },
    "/twilio/sms/status?key=abc": {
        "MessageSid": "SM" + "2" * 32,
        "MessageStatus": "delivered",
        "ErrorCode": "30003",
    },
}
# Over-long and not numeric, for every field and every query value.
SWEEP = ("x", "9" * 5000, "-1", "\u0663", "")


# The webhooks that create a row: each variant names a new call or text, so that every value
# reaches the insert instead of finding the row an earlier variant made.
FRESH = {"/twilio/voice": "CallSid", "/twilio/sms": "MessageSid"}


def _variants(path: str, form: dict[str, str]):
    fresh = FRESH.get(path)
    for n, field in enumerate(form):
        for m, value in enumerate(SWEEP):
            variant = form | {field: value}
            if fresh and field != fresh:
                variant[fresh] = f"{form[fresh][:2]}{n:02d}{m:02d}{form[fresh][6:]}"
            yield path, variant
    if "?" in path:
        route, _, query = path.partition("?")
        name = query.split("=", 1)[0]
        for value in (*SWEEP, HUGE):
            yield f"{route}?{name}={value}", form


@pytest.mark.parametrize("path", list(ROUTES))
def test_no_webhook_answers_5xx_to_an_out_of_range_value(client, queue, path):
    _call_in_line(client)
    post(client, "/twilio/sms", ROUTES["/twilio/sms"])
    failures = []
    for url, form in _variants(path, ROUTES[path]):
        r = post(client, url, form)
        if r.status_code >= 500:
            failures.append((url, {k: v[:20] for k, v in form.items()}, r.status_code))
        if r.status_code == 400:
            assert r.get_data(as_text=True), url  # a message saying what was wrong
    assert failures == []
