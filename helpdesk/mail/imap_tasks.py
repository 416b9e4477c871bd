"""The mailbox read on a timer, for the embedded deployment: `make run` has no `mail` process
running `helpdesk mail watch`, so its in-process scheduler calls this every `MAIL_IMAP_POLL_S`
seconds when `MAIL_IMAP_URL` is set. Scaled out, the Procfile's `mail` process reads the mailbox
with IDLE instead, and nothing schedules this task."""

from __future__ import annotations

from celery import shared_task

from helpdesk.config import Settings
from helpdesk.extensions import db

POLL_TASK = "helpdesk.mail.poll_mailbox"


@shared_task(name=POLL_TASK)
def poll_mailbox() -> int:
    """Take in what is new in the mailbox once; the number of messages taken."""
    from flask import current_app

    from helpdesk.mail.imap import reader_for_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["HELPDESK_SETTINGS"].MAIL_IMAP_URL:
        return 0
    reader = reader_for_app(app, db.session)
    try:
        return len(reader.take_new())
    finally:
        reader.close()


def embedded_jobs(settings: Settings) -> dict[str, dict[str, object]]:
    """The in-process scheduler's mailbox job, when there is a mailbox to read."""
    if not settings.MAIL_IMAP_URL:
        return {}
    return {"mail-poll": {"task": POLL_TASK, "schedule": float(settings.MAIL_IMAP_POLL_S)}}
