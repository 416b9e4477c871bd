"""Thin tasks of the e-mail outbox: send one row, and sweep for retries and rows left behind."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from helpdesk.extensions import db
from helpdesk.mail import outbox


def _reader(app: Any) -> Any:
    """The attachment store's `open(storage_key) -> bytes`, where the store is installed."""
    reader = app.extensions.get("mail_attachment_reader")
    if reader is not None:
        return reader
    try:
        from helpdesk.mail import store  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    return store.attachment_store(app).open


@shared_task(name=outbox.SEND_TASK)
def send(row_id: int) -> str:
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return outbox.send(db.session, row_id, app.extensions["mail_transport"], reader=_reader(app))


@shared_task(name="helpdesk.mail.recover")
def recover() -> int:
    from flask import current_app

    return outbox.recover(db.session, current_app.extensions["mail_transport"])
