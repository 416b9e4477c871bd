"""Two survey triggers for one customer at once on PostgreSQL (a call ending as its ticket is
solved, in two processes): the customer's row lock makes the second wait for the first, then see
its survey, so one survey is sent in the period, not two."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import func, select, text

from helpdesk.app import create_app
from helpdesk.extensions import db
from helpdesk.surveys import sending
from helpdesk.surveys.models import Survey


def _waiting_on_a_lock() -> bool:
    found = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
    )
    db.session.rollback()
    return bool(found)


def test_two_triggers_at_once_send_one_survey(app, settings, customer_factory):
    customer = customer_factory(emails=["both-at-once@example.com"], phones=[])
    db.session.commit()
    trigger = sending.Trigger(kind="call", customer_id=customer.id, by_phone=False)
    first_sent, release_first = threading.Event(), threading.Event()
    results: dict[str, Any] = {}
    errors: list[BaseException] = []
    # Each trigger is its own application, as in two processes; built here, one after the other
    # (werkzeug's routing parses with `ast`, which is not safe in two threads at once).
    apps = [create_app(settings) for _ in range(2)]

    def trigger_in(worker: Any, name: str, before: threading.Event | None) -> None:
        with worker.app_context():
            try:
                if before is not None:
                    assert before.wait(timeout=30)
                survey = sending.send(db.session, trigger)
                results[name] = survey.id if survey is not None else None
                if name == "first":
                    first_sent.set()
                    assert release_first.wait(timeout=30)  # holds the lock meanwhile
                db.session.commit()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()
                db.engine.dispose()

    first = threading.Thread(target=trigger_in, args=(apps[0], "first", None), daemon=True)
    second = threading.Thread(target=trigger_in, args=(apps[1], "second", first_sent), daemon=True)
    first.start()
    second.start()
    assert first_sent.wait(timeout=30)
    # The first commits once the second is blocked on the customer's row (or after a few
    # seconds: without the lock the second does not wait, and sends a survey of its own).
    deadline = time.monotonic() + 5
    while not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    release_first.set()
    first.join(timeout=60)
    second.join(timeout=60)
    assert not errors, errors
    count = db.session.scalar(
        select(func.count()).select_from(Survey).where(Survey.customer_id == customer.id)
    )
    assert count == 1
    assert results["first"] is not None
    assert results["second"] is None
