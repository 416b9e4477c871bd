"""Background jobs in the embedded deployment: eager tasks and the in-process scheduler."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.scheduler import InProcessScheduler
from helpdesk.tickets import service
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Status


def _solved(ticket_factory, days_ago):
    t = ticket_factory()
    service.update(db.session, t, actor=None, status=Status.SOLVED)
    ticket_id = t.id
    db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(solved_at=utcnow() - timedelta(days=days_ago))
    )
    # Ends the transaction: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE),
    # and the task runs in its own session as it would in a worker.
    db.session.commit()
    return ticket_id


def test_auto_close_task_closes_only_old_solved(app, ticket_factory):
    old = _solved(ticket_factory, 5)
    recent = _solved(ticket_factory, 1)
    celery = app.extensions["celery"]
    assert celery.conf.task_always_eager is True  # no REDIS_URL: no broker needed
    result = celery.tasks["helpdesk.tickets.tasks.auto_close_solved"].delay()
    assert result.get() == 1
    db.session.expire_all()
    assert db.session.get(Ticket, old).status is Status.CLOSED
    assert db.session.get(Ticket, recent).status is Status.SOLVED
    history = service.history(db.session, db.session.get(Ticket, old))
    assert history[-1].note == "closed automatically" and history[-1].actor_user_id is None


def test_scheduler_runs_due_jobs_once_per_period(app, ticket_factory):
    _solved(ticket_factory, 10)
    scheduler = InProcessScheduler(app.extensions["celery"])
    due: dict[str, float] = {}
    scheduler.run_due(due, now=1000.0)
    db.session.expire_all()
    assert db.session.query(Ticket).filter_by(status=Status.CLOSED).count() == 1
    next_due = due["auto-close-solved-tickets"]
    assert next_due == 1000.0 + 3600.0
    _solved(ticket_factory, 10)
    scheduler.run_due(due, now=1001.0)  # not due yet
    db.session.expire_all()
    assert db.session.query(Ticket).filter_by(status=Status.SOLVED).count() == 1


def test_scheduler_survives_a_failing_job(app, caplog):
    scheduler = InProcessScheduler(
        app.extensions["celery"], jobs={"boom": {"task": "no.such.task", "schedule": 60}}
    )
    scheduler.run_due({}, now=0.0)
    assert "periodic job boom failed" in caplog.text


def test_every_periodic_job_is_a_registered_task(app):
    from helpdesk.celery_app import PERIODIC

    celery = app.extensions["celery"]
    for name, job in PERIODIC.items():
        assert job["task"] in celery.tasks, name
