"""Thin tasks: pair waiting calls with free agents, and expire ring and wrap-up timers."""

from __future__ import annotations

from celery import shared_task

from helpdesk.extensions import db
from telephony import service


@shared_task(name="telephony.tasks.dispatch")
def dispatch() -> int:
    return service.dispatch(db.session)


@shared_task(name="telephony.tasks.expire")
def expire() -> dict[str, int]:
    result = service.expire(db.session)
    service.dispatch(db.session)
    return result
