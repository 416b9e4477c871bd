"""Thin Celery tasks around the ticket service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from helpdesk.extensions import db
from helpdesk.tickets import service


@shared_task(name="helpdesk.tickets.tasks.auto_close_solved")
def auto_close_solved() -> int:
    days = int(current_app.config.get("HELPDESK_AUTO_CLOSE_DAYS", 4))
    return service.auto_close_solved(db.session, older_than=timedelta(days=days))
