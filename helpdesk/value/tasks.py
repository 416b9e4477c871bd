"""The periodic recompute of every customer's value and segment."""

from __future__ import annotations

from celery import shared_task

from helpdesk.extensions import db
from helpdesk.value import service


@shared_task(name="helpdesk.value.tasks.recompute", ignore_result=True)
def recompute() -> dict[str, int]:
    return service.recompute_all(db.session)
