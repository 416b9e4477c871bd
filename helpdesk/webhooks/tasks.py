"""Thin tasks: post one delivery; send what is due (retries, lost tasks) every few seconds."""

from __future__ import annotations

from celery import shared_task

from helpdesk.extensions import db
from helpdesk.webhooks import outbox


@shared_task(name="helpdesk.webhooks.tasks.deliver")
def deliver(delivery_id: int) -> str:
    return outbox.deliver(db.session, delivery_id)


@shared_task(name="helpdesk.webhooks.tasks.recover")
def recover() -> int:
    return outbox.recover(db.session)
