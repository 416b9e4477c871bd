"""A text whose webhook meets a failing database is kept on disk and recorded once it is back.

Twilio does not retry an SMS webhook, so a 500 there used to lose the text for good. The
failure is produced where a dropped connection shows itself: the driver's error on the INSERT.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from telephony import sms_spool
from telephony.models import SmsMessage

OURS = "+15005550006"
ME = "+33612345678"
SID = "SM" + "7" * 32


def _signed(client, path: str, form: dict[str, str]):
    sig = RequestValidator("test-auth-token").compute_signature("http://localhost" + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


@contextmanager
def database_fails_on(prefix: str, times: int = 1_000):
    """The next `times` statements starting with `prefix` fail as a dropped connection does."""
    left = {"n": times}

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(prefix) and left["n"] > 0:
            left["n"] -= 1
            raise OperationalError(statement, parameters, Exception("server closed the connection"))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _texts() -> int:
    db.session.expire_all()
    n = (
        db.session.scalar(
            select(func.count()).select_from(SmsMessage).where(SmsMessage.direction == "inbound")
        )
        or 0
    )
    db.session.commit()  # SQLite here begins IMMEDIATE: an open read would block the replay
    return n


def _replay(app) -> tuple[int, int]:
    db.session.commit()
    return sms_spool.replay(app)


@pytest.fixture
def form() -> dict[str, str]:
    return {"MessageSid": SID, "From": ME, "To": OURS, "Body": "Plus de connexion depuis ce matin"}


def test_text_is_spooled_answered_and_recorded_once_the_database_is_back(app, client, form):
    before = utcnow()
    with database_fails_on("INSERT INTO SMS_MESSAGES"):
        r = _signed(client, "/twilio/sms", form)
    assert r.status_code == 200 and "<Response" in r.get_data(as_text=True)
    assert _texts() == 0
    [spooled] = sms_spool.pending(app)
    assert spooled.parent == sms_spool.spool_dir(app)
    arrived = utcnow()
    time.sleep(0.05)

    with database_fails_on("INSERT INTO SMS_MESSAGES"):
        assert _replay(app) == (0, 1)  # still failing: kept for the next round
    assert sms_spool.pending(app) == [spooled]

    assert _replay(app) == (1, 0)
    assert sms_spool.pending(app) == []
    row = db.session.scalar(select(SmsMessage).where(SmsMessage.message_sid == SID))
    assert row.body == form["Body"] and row.from_number == ME and row.direction == "inbound"
    assert before - timedelta(seconds=1) <= row.created_at <= arrived  # when it arrived
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1

    # Twilio (or a person) sending it again, and a second replay, change nothing.
    assert _signed(client, "/twilio/sms", form).status_code == 200
    assert _replay(app) == (0, 0)
    assert _texts() == 1


def test_the_web_process_replays_by_itself(app, client, form, monkeypatch):
    monkeypatch.setattr(sms_spool, "REPLAY_EVERY_S", 0.05)
    with database_fails_on("INSERT INTO SMS_MESSAGES", times=1):
        assert _signed(client, "/twilio/sms", form).status_code == 200
    db.session.commit()
    deadline = time.monotonic() + 10
    while sms_spool.pending(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sms_spool.pending(app) == []
    assert _texts() == 1


def test_a_restarted_process_replays_what_it_had_kept(app, form, monkeypatch):
    from telephony.sms_inbound import InboundSms

    monkeypatch.setattr(sms_spool, "REPLAY_EVERY_S", 0.05)
    sms_spool.write(app, InboundSms(SID, ME, OURS, form["Body"]), utcnow())
    db.session.commit()
    sms_spool.resume(app)
    deadline = time.monotonic() + 10
    while sms_spool.pending(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _texts() == 1


def test_a_failing_status_callback_is_not_taken_for_a_text(app, client):
    status = {"MessageSid": SID, "MessageStatus": "delivered", "From": OURS, "To": ME}
    with database_fails_on("SELECT"), pytest.raises(OperationalError):
        _signed(client, "/twilio/sms/status", status)  # a 500 in service (tests propagate it)
    assert sms_spool.pending(app) == []


def test_a_forged_text_is_refused_before_anything_is_kept(app, client, form):
    with database_fails_on("INSERT INTO SMS_MESSAGES"):
        assert client.post("/twilio/sms", data=form).status_code == 403
    assert sms_spool.pending(app) == []
