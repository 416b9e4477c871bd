"""The warehouse export as Celery tasks: the periodic one (beat or the embedded scheduler)
and the one queued by the "Export now" button."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from helpdesk.extensions import db
from helpdesk.warehouse import service


@shared_task(name="helpdesk.warehouse.tasks.periodic_export", ignore_result=True)
def periodic_export() -> dict[str, Any]:
    return service.periodic(db.session)


@shared_task(name="helpdesk.warehouse.tasks.export", ignore_result=True)
def export(full: bool = False) -> dict[str, Any]:
    return service.export_now(db.session, full=full)
