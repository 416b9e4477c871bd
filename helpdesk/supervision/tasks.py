"""Periodic supervision job: longest waits and their alerts, pushed even when no call moves."""

from __future__ import annotations

from celery import shared_task

from helpdesk.extensions import db
from helpdesk.supervision import service


@shared_task(name="helpdesk.supervision.tasks.check_alerts", ignore_result=True)
def check_alerts() -> int:
    return service.check_alerts(db.session)
