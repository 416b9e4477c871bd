"""Thin periodic task of SMS and e-mail campaigns: a batch, then the follow-up of the outboxes."""

from __future__ import annotations

from celery import shared_task

from helpdesk.campaigns import sending
from helpdesk.db import utcnow
from helpdesk.extensions import db


@shared_task(name="helpdesk.campaigns.tasks.send", ignore_result=True)
def send() -> int:
    queued = sending.send_due(db.session, now=utcnow())
    sending.reconcile(db.session)
    return queued
