"""Thin tasks: pair waiting calls with free agents, expire ring and wrap-up timers, and ring an
agent into a callback's conference."""

from __future__ import annotations

from celery import shared_task

from helpdesk import coalesce
from helpdesk.extensions import db
from telephony import adapters, offers


def _dispatch_once() -> int:
    """One dispatch at a time across workers; requests made meanwhile fold into it."""

    made = coalesce.current_gate().run(
        "dispatch",
        lambda: offers.dispatch(db.session),
        requeue=lambda: dispatch.delay(),
    )
    return int(made or 0)


@shared_task(name="telephony.tasks.dispatch")
def dispatch() -> int:
    return _dispatch_once()


@shared_task(name="telephony.tasks.expire")
def expire() -> dict[str, int]:
    result = offers.expire(db.session)
    _dispatch_once()
    return result


@shared_task(name="telephony.tasks.add_agent_leg")
def add_agent_leg(call_id: int) -> str | None:

    from telephony import bridging

    return bridging.add_agent_leg(db.session, call_id, adapters.gateway())


@shared_task(name="telephony.tasks.send_sms")
def send_sms(message_id: int) -> str:
    from flask import current_app

    from telephony import sms

    return sms.send(
        db.session,
        message_id,
        adapters.gateway(),
        public_base_url=current_app.config["PUBLIC_BASE_URL"],
    )


@shared_task(name="telephony.tasks.recover_sms")
def recover_sms() -> int:
    from flask import current_app

    from telephony import sms_recovery

    return sms_recovery.recover(
        db.session,
        adapters.gateway(),
        public_base_url=current_app.config["PUBLIC_BASE_URL"],
    )


@shared_task(name="telephony.tasks.purge_recordings")
def purge_recordings() -> int:
    from telephony import adapters, recordings

    return recordings.purge(db.session, recorder=adapters.recorder())
