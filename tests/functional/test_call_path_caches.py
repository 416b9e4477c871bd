"""The call path's configuration from the per-process caches (`helpdesk.caches`): the queues, the
recording policies and the business calendars are read once, and an admin's committed change is
seen by the next call. (Across processes: tests/services/test_call_path_cache.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.errors import NotFound
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.sla.models import CalendarModel
from telephony import queue_config, recordings
from telephony.models import CallQueue
from tests.functional.test_voice import SID, fixture, signed_post
from tests.statements import statements

OTHER_SID = "CA22222222222222222222222222222222"


@pytest.fixture
def support(app) -> int:  # type: ignore[no-untyped-def]
    queue = CallQueue(
        name="support", label_en="Support", skills={"support": 1}, callback_after_s=60
    )
    db.session.add_all([queue, CallQueue(name="billing", skills={"billing": 1})])
    db.session.commit()
    return queue.id


def _in_line(client, sid: str = SID):  # type: ignore[no-untyped-def]
    signed_post(client, "/twilio/voice", fixture("incoming_call", CallSid=sid))
    signed_post(client, "/twilio/voice/language", {"CallSid": sid, "Digits": "1"})
    return signed_post(client, "/twilio/voice/menu", {"CallSid": sid, "Digits": "1"})


def _wait(client, queue_time: str) -> str:  # type: ignore[no-untyped-def]
    form = fixture("wait", QueueTime=queue_time, QueuePosition="1")
    return str(signed_post(client, "/twilio/voice/wait", form).get_data(as_text=True))


def test_a_queue_is_read_once_and_an_admins_change_is_heard_by_the_next_call(
    client, support, api_as
):
    admin = api_as(Role.ADMIN)
    _in_line(client)
    assert "/twilio/voice/wait-choice" in _wait(client, "75")  # waited past 60 s: callback
    with statements() as seen:
        assert "/twilio/voice/wait-choice" in _wait(client, "75")
    assert not [s for s in seen if "FROM call_queues" in s]
    changed = {"name": "support", "skills": {"support": 1}, "callback_after_s": 600}
    put = admin.put(f"/queues/{support}", json=changed)
    assert put.status_code == 200, put.get_json()
    assert "/twilio/voice/wait-choice" not in _wait(client, "75")


def test_a_queue_deactivated_is_no_longer_found_by_name(support):
    assert queue_config.queue_by_name(db.session, name="billing").active
    billing = db.session.scalar(select(CallQueue).where(CallQueue.name == "billing"))
    billing.active = False
    db.session.commit()
    with pytest.raises(NotFound):
        queue_config.queue_by_name(db.session, name="billing")
    assert queue_config.name_of(db.session, billing.id) == "billing"  # the log still names it


def test_a_recording_policy_is_read_once_and_a_change_applies_to_the_next_caller(
    client, support, api_as
):
    admin = api_as(Role.ADMIN)
    assert not recordings.policy_for(db.session, support).announces
    with statements() as seen:
        assert not recordings.policy_for(db.session, support).records
    assert not [s for s in seen if "queue_recording" in s]
    put = admin.put(f"/queues/{support}/recording", json={"mode": "announce"})
    assert put.status_code == 200, put.get_json()
    assert recordings.policy_for(db.session, support).announces
    body = _in_line(client, OTHER_SID).get_data(as_text=True)
    assert "<Enqueue" in body
    assert body.count("<Say") >= 2  # the recording notice, then the queue's message


def test_a_calendar_committed_closes_the_center_for_the_next_call(client, support):
    assert sla.is_open(db.session)
    with statements() as seen:
        assert sla.is_open(db.session)
    assert not [s for s in seen if "sla_calendars" in s]
    first = signed_post(client, "/twilio/voice", fixture("incoming_call")).get_data(as_text=True)
    assert "actuellement fermés" not in first
    db.session.add(CalendarModel(name="Never", timezone="UTC", weekly={}, is_default=True))
    db.session.commit()
    assert not sla.is_open(db.session)
    second = signed_post(
        client, "/twilio/voice", fixture("incoming_call", CallSid=OTHER_SID)
    ).get_data(as_text=True)
    assert "actuellement fermés" in second and "<Record" in second


def test_what_a_transaction_read_of_its_own_uncommitted_change_is_not_kept(app, support):
    db.session.add(CalendarModel(name="Never", timezone="UTC", weekly={}, is_default=True))
    db.session.flush()
    assert not sla.is_open(db.session)  # its own transaction sees the calendar...
    db.session.rollback()
    assert sla.is_open(db.session)  # ...which never was
