"""The daily retraining of the customer models (Celery beat, or the embedded scheduler)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from flask import current_app

from helpdesk.analytics import service
from helpdesk.extensions import db
from helpdesk.warehouse import service as warehouse_service


@shared_task(name="helpdesk.analytics.tasks.train", ignore_result=True)
def train() -> dict[str, Any]:
    config = current_app.config
    return service.train_and_score(
        session=db.session,
        warehouse_dir=warehouse_service.directory(current_app),
        monthly_discount=float(config.get("HELPDESK_CLV_MONTHLY_DISCOUNT") or 0.01),
    ).as_dict()
