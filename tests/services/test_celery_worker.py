"""A real Celery worker on Redis runs the tasks the web side sends, against PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from helpdesk.app import create_app
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Status

ROOT = Path(__file__).resolve().parents[2]


def test_worker_runs_task_sent_from_web_side(settings, database, redis_url, tmp_path):
    settings.REDIS_URL = redis_url
    app = create_app(settings)
    celery = app.extensions["celery"]
    assert celery.conf.task_always_eager is False
    env = os.environ | {
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "worker"),
        "SECRET_KEY": "x",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpdesk.cli",
            "worker",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with app.app_context():
            from helpdesk.customers import service as customers

            c = customers.create(db.session, name="Worker test", phones=["+33612000001"])
            t = service.create(db.session, actor=None, subject="old", requester_id=c.id)
            service.update(db.session, t, actor=None, status=Status.SOLVED)
            ticket_id = t.id
            db.session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(solved_at=utcnow() - timedelta(days=30))
            )
            db.session.commit()
            celery.send_task("helpdesk.tickets.tasks.auto_close_solved")
            deadline = time.monotonic() + 60
            while True:
                db.session.expire_all()
                status = db.session.get(Ticket, ticket_id).status
                db.session.commit()
                if status is Status.CLOSED:
                    break
                assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
                assert time.monotonic() < deadline, "the worker did not run the task"
                time.sleep(0.2)
            db.session.remove()
            db.engine.dispose()
    finally:
        worker.terminate()
        try:
            out, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
    assert "auto_close_solved" in out and "succeeded" in out
    database.reset()
