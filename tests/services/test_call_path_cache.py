"""Two processes on one PostgreSQL and one Redis: a web process that has the queues cached (the
wait webhook reads a queue's callback delay on every loop) hears of a change committed by
another process through Redis, well before the cache's own expiry."""

from __future__ import annotations

import dataclasses
import time

import requests
from twilio.request_validator import RequestValidator

from helpdesk.app import create_app
from helpdesk.db import utcnow
from helpdesk.extensions import db
from telephony.models import Call, CallQueue
from tests.services.test_cache_invalidation import _until
from tests.services.test_realtime_processes import _port, _up, _web

SID = "CA33333333333333333333333333333333"


def _waiting_call(app) -> int:  # type: ignore[no-untyped-def]
    """A caller in line for `support`, which offers a callback after 60 s; the queue's id."""
    with app.app_context():
        queue = CallQueue(name="support", skills={"support": 1}, callback_after_s=60)
        db.session.add(queue)
        db.session.flush()
        db.session.add(
            Call(
                call_sid=SID,
                direction="inbound",
                from_number="+33612345678",
                to_number="+15005550006",
                language="fr",
                status="in-progress",
                routing_state="waiting",
                queue_id=queue.id,
                created_at=utcnow(),
                enqueued_at=utcnow(),
            )
        )
        db.session.commit()
        queue_id = queue.id
        db.session.remove()
        return queue_id


def test_a_queue_change_reaches_the_other_process_cache(settings, database, redis_url, tmp_path):
    app = create_app(dataclasses.replace(settings, REDIS_URL=redis_url))
    queue_id = _waiting_call(app)
    port = _port()
    proc = _web(database.url, redis_url, port, tmp_path)
    url = f"http://127.0.0.1:{port}/twilio/voice/wait"
    form = {"CallSid": SID, "QueueTime": "75", "QueuePosition": "1", "AvgQueueTime": "90"}
    signature = RequestValidator("rt-token").compute_signature(url, form)

    def offers_callback() -> bool:
        r = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
        assert r.status_code == 200, r.text
        return "/twilio/voice/wait-choice" in r.text

    try:
        _up(port)
        for _ in range(3):  # read, then from its cache: 75 s waited, past the 60 s
            assert offers_callback()
        with app.app_context():
            queue = db.session.get(CallQueue, queue_id)
            assert queue is not None
            queue.callback_after_s = 600
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        started = time.monotonic()
        _until(lambda: not offers_callback(), "the other process kept its cached queue")
        assert time.monotonic() - started < 5  # the cache itself keeps the queues for 60 s
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    database.reset()
