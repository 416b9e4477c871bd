"""Celery bound to the app factory, after Flask's "Background Tasks with Celery" pattern.

Without `REDIS_URL` tasks run eagerly in the calling process and the periodic jobs run on a
scheduler thread (`helpdesk.scheduler`), so the embedded deployment needs no broker. With it, tasks
go to Celery workers and one beat process schedules the periodic jobs.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask

from helpdesk.logs import current_request_id, request_id_context

# Periodic jobs, shared by Celery beat (scaled out) and the in-process scheduler (embedded).
PERIODIC: dict[str, dict[str, Any]] = {
    "sla-breach-scan": {
        "task": "helpdesk.sla.tasks.scan_breaches",
        "schedule": 30.0,
    },
    # Ring timeouts and wrap-up timers, and a sweep that pairs any call left waiting.
    "telephony-expire": {
        "task": "telephony.tasks.expire",
        "schedule": 2.0,
    },
    # Outbox: retries that fell due, and rows a dead worker left half-sent.
    "sms-recover": {
        "task": "telephony.tasks.recover_sms",
        "schedule": 30.0,
    },
    # E-mail outbox: retries that fell due, and messages a dead worker left half-sent.
    "mail-recover": {
        "task": "helpdesk.mail.recover",
        "schedule": 30.0,
    },
    # Longest waits grow with no event: push them (and their alerts) to the wallboard.
    "wallboard-alerts": {
        "task": "helpdesk.supervision.tasks.check_alerts",
        "schedule": 5.0,
    },
    # Webhook deliveries whose retry fell due, or whose task was lost.
    "webhooks-recover": {
        "task": "helpdesk.webhooks.tasks.recover",
        "schedule": 10.0,
    },
    "customer-value-recompute": {
        "task": "helpdesk.value.tasks.recompute",
        "schedule": 3600.0,
    },
    # The analytics warehouse: checks often, exports once WAREHOUSE_EXPORT_S has passed.
    "warehouse-export": {
        "task": "helpdesk.warehouse.tasks.periodic_export",
        "schedule": 300.0,
    },
    # Customer lifetime value and churn risk retrained on the warehouse (docs/customer-models.md).
    "customer-models-train": {
        "task": "helpdesk.analytics.tasks.train",
        "schedule": 86400.0,
    },
    "auto-close-solved-tickets": {
        "task": "helpdesk.tickets.tasks.auto_close_solved",
        "schedule": 3600.0,
    },
    # Today's day routes re-planned, so that ETAs follow jobs running long or late starts.
    "dispatch-refresh-routes": {
        "task": "helpdesk.dispatch.tasks.refresh_routes",
        "schedule": 300.0,
    },
    # Call recordings past their queue's retention, or of an erased customer, deleted at the source.
    "recordings-purge": {
        "task": "telephony.tasks.purge_recordings",
        "schedule": 3600.0,
    },
    # Campaigns: a call for every free agent who joined one (inbound calls first)...
    "campaign-dial": {
        "task": "telephony.campaign_tasks.dial",
        "schedule": 5.0,
    },
    # ...and the SMS and e-mail campaigns' next batch, with what their outboxes made of the last.
    "campaign-send": {
        "task": "helpdesk.campaigns.tasks.send",
        "schedule": 60.0,
    },
}


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            # The request id of the webhook or page that queued the task (see helpdesk.logs);
            # eager tasks run in the caller's thread and already have it.
            headers = self.request.get("headers") or {}
            rid = (
                self.request.get("request_id") or headers.get("request_id") or current_request_id()
            )
            with request_id_context(rid), app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config.get("REDIS_URL") or ""
    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        # Eager mode still takes a producer from the pool; naming the in-memory broker's host
        # keeps kombu from warning, at every start, that none was supplied.
        broker_url=redis_url or "memory://localhost/",
        task_always_eager=not redis_url,
        task_eager_propagates=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule=PERIODIC,
        # A visibility timeout longer than any countdown we use, so a delayed task is not
        # delivered twice by Redis.
        broker_transport_options={"visibility_timeout": 3 * 3600},
    )
    _carry_request_ids()
    if not redis_url:
        # Tasks run in the caller's thread: a line per task says nothing an operator acts on.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def _carry_request_ids() -> None:
    """Every task message carries the request id it was queued under, as a message header."""
    from celery.signals import before_task_publish

    before_task_publish.connect(_add_request_id, weak=False, dispatch_uid="helpdesk-request-id")


def _add_request_id(headers: dict[str, Any] | None = None, **_kw: Any) -> None:
    rid = current_request_id()
    if headers is not None and rid and "request_id" not in headers:
        headers["request_id"] = rid
