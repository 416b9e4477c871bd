"""Outgoing webhooks with a real Celery worker on Redis and PostgreSQL: the web side writes the
delivery with the ticket and sends the task after commit; the worker posts it to a real receiver
(a server thread on 127.0.0.1), retries after a failure, and a duplicated task posts nothing twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select, update

from helpdesk.app import create_app
from helpdesk.extensions import db
from helpdesk.webhooks import subscriptions
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery
from helpdesk.webhooks.outbox import TASK
from tests.services.workers import wait_until_idle
from tests.webhook_receiver import independent_signature_ok, receiver

ROOT = Path(__file__).resolve().parents[2]


def _status(delivery_id: int) -> str | None:
    db.session.expire_all()
    found = db.session.scalar(
        select(WebhookDelivery.status).where(WebhookDelivery.id == delivery_id)
    )
    db.session.commit()
    return found


def _wait_for(delivery_id: int, wanted: str, worker: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while (status := _status(delivery_id)) != wanted:
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
        assert time.monotonic() < deadline, f"still {status}, waiting for {wanted}"
        time.sleep(0.2)


def test_the_worker_retries_and_posts_each_event_once(
    settings, database, redis_url, tmp_path, ticket_factory
):
    settings.REDIS_URL = redis_url
    env = os.environ | {
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "x",
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "worker"),
        "WEBHOOKS_ALLOW_PRIVATE": "1",
    }
    cmd = [sys.executable, "-m", "helpdesk.cli", "worker", "--concurrency", "2", "--pool"]
    cmd += ["threads", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    worker = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    app = create_app(settings)
    try:
        with receiver(statuses=[500]) as hook, app.app_context():
            sub = subscriptions.create(
                db.session, actor=None, url=hook.url, event_types=["ticket.created"]
            )
            secret = sub.secret
            ticket_factory(subject="Via the worker")
            delivery_id = db.session.scalar(select(WebhookDelivery.id))
            db.session.commit()
            _wait_for(delivery_id, "retry", worker)
            # The back-off has passed; the retry's task arrives twice, as a redelivery would.
            db.session.execute(update(WebhookDelivery).values(next_attempt_at=None))
            db.session.commit()
            celery = app.extensions["celery"]
            celery.tasks[TASK].delay(delivery_id)
            celery.tasks[TASK].delay(delivery_id)
            _wait_for(delivery_id, "delivered", worker)
            wait_until_idle(celery, redis_url, done={TASK: 3})
            assert [r.answered for r in hook.requests] == [500, 200]
            for got in hook.requests:
                assert independent_signature_ok(
                    secret, got.headers["X-Helpdesk-Signature"], got.body
                )
            attempts = db.session.scalars(select(WebhookAttempt.status_code)).all()
            assert sorted(attempts) == [200, 500]
            db.session.remove()
            db.engine.dispose()
    finally:
        worker.terminate()
        try:
            worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    database.reset()
