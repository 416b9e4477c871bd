"""Twilio retries a slow webhook while the first request still runs: six identical signed
requests at once, spread over two web processes sharing PostgreSQL, do what one would have done
and all get the answer the first got.

Voicemail (one ticket), the IVR menu choice (one `entered` in the call log), the callback choice
(one `callback`), the final status callback (one `abandoned`) and an incoming text (one row), each
fired six times at once.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from helpdesk.app import create_app
from helpdesk.extensions import db
from telephony.models import CallQueue
from tests.services.test_call_race import TOKEN, _port, _start_web, _wait_up

COPIES = 6
CENTER = "+15005550006"


@pytest.fixture
def ports(settings, database, tmp_path) -> Iterator[list[int]]:
    """Two web processes on the test's PostgreSQL database, with a queue that offers the
    callback at once and nobody available (no offer muddles the counts)."""
    app = create_app(settings)
    with app.app_context():
        db.session.add(CallQueue(name="support", skills={}, callback_after_s=0))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    found = [_port(), _port()]
    procs: list[subprocess.Popen[bytes]] = [_start_web(database.url, p, tmp_path) for p in found]
    try:
        for p in found:
            _wait_up(p)
        yield found
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
        database.reset()


def _post(port: int, path: str, form: dict[str, str]) -> requests.Response:
    sig = RequestValidator(TOKEN).compute_signature("http://public.test" + path, form)
    return requests.post(
        f"http://127.0.0.1:{port}{path}", data=form, timeout=30, headers={"X-Twilio-Signature": sig}
    )


def _at_once(ports: list[int], path: str, form: dict[str, str]) -> list[requests.Response]:
    """The same signed request `COPIES` times, released together, alternating processes."""
    start = threading.Barrier(COPIES)

    def one(i: int) -> requests.Response:
        start.wait(timeout=30)
        return _post(ports[i % 2], path, form)

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        return list(pool.map(one, range(COPIES)))


def _same_answer(answers: list[requests.Response]) -> None:
    assert [r.status_code for r in answers] == [answers[0].status_code] * COPIES, [
        (r.status_code, r.text[:200]) for r in answers
    ]
    assert 200 <= answers[0].status_code < 300
    assert {r.text for r in answers} == {answers[0].text}


def _call(port: int, sid: str, number: str) -> dict[str, str]:
    form = {"CallSid": sid, "From": number, "To": CENTER, "CallStatus": "ringing"}
    assert _post(port, "/twilio/voice", form).status_code == 200
    assert _post(port, "/twilio/voice/language", form | {"Digits": "1"}).status_code == 200
    return form


def _scalar(url: str, sql: str, **params: object) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def test_six_copies_at_once_do_what_one_does(ports, database):
    url = database.url

    # A voicemail: one ticket.
    voicemail = _call(ports[0], "CA" + "1" * 32, "+33611111111")
    recording = {
        "CallSid": voicemail["CallSid"],
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Recordings/RE" + "1" * 32,
        "RecordingDuration": "12",
    }
    answers = _at_once(ports, "/twilio/voice/voicemail", recording)
    _same_answer(answers)
    assert "<Hangup" in answers[0].text
    assert _scalar(url, "SELECT count(*) FROM tickets") == 1
    assert _scalar(url, "SELECT count(*) FROM calls WHERE outcome = 'voicemail'") == 1

    # The menu choice that queues the caller: one `entered`, one step in the IVR path.
    queued = _call(ports[1], "CA" + "2" * 32, "+33622222222")
    answers = _at_once(ports, "/twilio/voice/menu", queued | {"Digits": "1"})
    _same_answer(answers)
    assert "<Enqueue" in answers[0].text
    call_id = _scalar(url, "SELECT id FROM calls WHERE call_sid = :sid", sid=queued["CallSid"])
    assert (
        _scalar(
            url,
            "SELECT count(*) FROM call_events WHERE call_id = :id AND event = 'entered'",
            id=call_id,
        )
        == 1
    )
    assert _scalar(url, "SELECT ivr_path FROM calls WHERE id = :id", id=call_id) == [
        "language:fr",
        "menu:1:queue",
    ]

    # The callback choice of the caller now waiting: one `callback`, the priority raised once.
    before = _scalar(url, "SELECT priority FROM calls WHERE id = :id", id=call_id)
    answers = _at_once(ports, "/twilio/voice/wait-choice", queued | {"Digits": "1"})
    _same_answer(answers)
    assert "<Leave" in answers[0].text
    assert (
        _scalar(
            url,
            "SELECT count(*) FROM call_events WHERE call_id = :id AND event = 'callback'",
            id=call_id,
        )
        == 1
    )
    assert _scalar(url, "SELECT priority FROM calls WHERE id = :id", id=call_id) > before
    from telephony.routing import CALLBACK_PRIORITY

    assert (
        _scalar(url, "SELECT priority FROM calls WHERE id = :id", id=call_id)
        == before + CALLBACK_PRIORITY
    )

    # A waiting caller hangs up and the final status callback comes six times at once: one
    # outcome, one `abandoned` counted.
    gone = _call(ports[0], "CA" + "4" * 32, "+33644444444")
    assert "<Enqueue" in _post(ports[0], "/twilio/voice/menu", gone | {"Digits": "1"}).text
    answers = _at_once(ports, "/twilio/voice/status", gone | {"CallStatus": "completed"})
    _same_answer(answers)
    gone_id = _scalar(url, "SELECT id FROM calls WHERE call_sid = :sid", sid=gone["CallSid"])
    assert (
        _scalar(
            url,
            "SELECT count(*) FROM call_events WHERE call_id = :id AND event = 'abandoned'",
            id=gone_id,
        )
        == 1
    )
    assert _scalar(url, "SELECT outcome FROM calls WHERE id = :id", id=gone_id) == "abandoned"

    # An incoming text: one row, one conversation, and the same empty answer to every copy.
    texted = {
        "MessageSid": "SM" + "3" * 32,
        "From": "+33633333333",
        "To": CENTER,
        "Body": "Ma box ne marche plus",
    }
    answers = _at_once(ports, "/twilio/sms", texted)
    _same_answer(answers)
    assert (
        _scalar(
            url, "SELECT count(*) FROM sms_messages WHERE message_sid = :sid", sid="SM" + "3" * 32
        )
        == 1
    )
    assert _scalar(url, "SELECT count(*) FROM tickets WHERE channel = 'sms'") == 1
