"""Two breach scanners at once on PostgreSQL: every clock escalates exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from helpdesk.app import create_app
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.sla.models import CalendarModel, SlaClock, SlaEscalation, SlaPolicy
from helpdesk.tickets import service as tickets

START = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)


def test_two_scanners_escalate_each_clock_once(
    app, settings, database, customer_factory, monkeypatch
):
    monkeypatch.setattr("helpdesk.tickets.service.utcnow", lambda: START)
    cal = CalendarModel(name="24/7", timezone="UTC", always_open=True)
    db.session.add(cal)
    db.session.flush()
    db.session.add(
        SlaPolicy(
            name="All",
            calendar_id=cal.id,
            targets={"normal": {"first_response": 600, "resolution": 7200}},
            escalations=[
                {"on": "breached", "actions": [{"type": "notify_supervisors"}]},
                {"on": "at_risk", "actions": [{"type": "notify_supervisors"}]},
            ],
        )
    )
    db.session.commit()
    customer = customer_factory()
    n = 300
    for i in range(n):
        tickets.create(
            db.session, actor=None, subject=f"t{i}", requester_id=customer.id, commit=False
        )
    db.session.commit()

    later = START + timedelta(minutes=11)  # every first-response clock is past due
    results, errors = [], []
    barrier = threading.Barrier(2)
    # Each scanner is its own application, as in two worker processes. They are built here, one
    # after the other: CPython 3.11's ast.parse (which werkzeug's routing uses while an app is
    # built) is not safe to run in two threads at once.
    apps = [create_app(settings) for _ in range(2)]

    def scanner(worker_app: Flask) -> None:
        with worker_app.app_context():
            try:
                barrier.wait(timeout=60)
                total = sla.ScanResult()
                while True:
                    r = sla.scan(db.session, now=later, limit=50)
                    total.breached += r.breached
                    total.examined += r.examined
                    if r.examined == 0:
                        break
                results.append(total)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()
                db.engine.dispose()

    # Daemons: a scanner stuck on a failure must not keep the test run from exiting.
    threads = [threading.Thread(target=scanner, args=(a,), daemon=True) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sum(r.breached for r in results) == n
    assert all(r.breached > 0 for r in results), "SKIP LOCKED should let both scanners work"
    db.session.expire_all()
    fired = db.session.execute(
        select(SlaEscalation.trigger, func.count()).group_by(SlaEscalation.trigger)
    ).all()
    assert dict(fired) == {"breached": n}
    breached = db.session.scalar(
        select(func.count())
        .select_from(SlaClock)
        .where(SlaClock.metric == "first_response", SlaClock.state == "breached")
    )
    assert breached == n
