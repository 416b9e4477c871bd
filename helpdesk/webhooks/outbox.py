"""The outbox of webhook deliveries: written with the change, posted after commit, retried.

`emit` writes one delivery row per subscription in the caller's transaction: a change that
commits has its deliveries, a change rolled back has none, and a worker that dies loses nothing
(the periodic `recover` finds what is due). A delivery is claimed (compare-and-set on its status)
before it is posted, so a duplicated task posts nothing twice; the log keeps every attempt.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, select, update

from helpdesk import caches
from helpdesk.audit import service as audit
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.events import on_commit, publish
from helpdesk.webhooks import addresses, config
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from helpdesk.webhooks.policy import EVENT_TYPES, succeeded
from helpdesk.webhooks.signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, header
from helpdesk.webhooks.subscriptions import deactivate
from helpdesk.webhooks.transport import Answer

log = logging.getLogger(__name__)
TASK = "helpdesk.webhooks.tasks.deliver"
ADMIN_ROOMS = ("role:admin",)


def emit(session: DbSession, event_type: str, payload: dict[str, Any]) -> str | None:
    """Queue `event_type` for every active subscription to it, in the caller's transaction.

    Returns the event id (the same for every subscription), or None when nobody subscribes.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    subs = [sub_id for sub_id, types in _active(session) if event_type in types]
    if not subs:
        return None
    event_id = "evt_" + uuid.uuid4().hex
    now = utcnow()
    rows = [
        WebhookDelivery(
            subscription_id=sub,
            event_id=event_id,
            event_type=event_type,
            payload=dict(payload),
            status="queued",
            created_at=now,
        )
        for sub in subs
    ]
    session.add_all(rows)
    session.flush()
    for row in rows:
        send_after_commit(session, row.id)
    return event_id


# Every ticket change asks who subscribes to it; the answer changes when an admin edits a
# subscription: cached per process, cleared on that commit (helpdesk/caches.py).
caches.watch("webhook_subscriptions", WebhookSubscription, ttl_s=60.0)


def _active(session: DbSession) -> tuple[tuple[int, frozenset[str]], ...]:
    def load() -> tuple[tuple[int, frozenset[str]], ...]:
        rows = session.execute(
            select(WebhookSubscription.id, WebhookSubscription.event_types).where(
                WebhookSubscription.active.is_(True)
            )
        )
        return tuple((sub_id, frozenset(types or ())) for sub_id, types in rows)

    return caches.cached("webhook_subscriptions", "active", load)


def send_after_commit(session: DbSession, delivery_id: int) -> None:
    if has_app_context() and current_app.extensions.get("celery") is not None:
        celery = current_app.extensions["celery"]
        on_commit(session, lambda: celery.tasks[TASK].delay(delivery_id))


def body_of(row: WebhookDelivery) -> bytes:
    """The request body: the same bytes at every attempt of a delivery."""
    envelope = {
        "id": row.event_id,
        "type": row.event_type,
        "created_at": row.created_at.isoformat(),
        "data": row.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def _claim(session: DbSession, delivery_id: int, now: datetime) -> bool:
    claimed = rowcount(
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status.in_(("queued", "retry")),
                WebhookDelivery.next_attempt_at.is_(None)
                | (WebhookDelivery.next_attempt_at <= now),
            )
            .values(status="sending", attempts=WebhookDelivery.attempts + 1, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    session.commit()  # the claim is visible before the receiver is called
    return claimed == 1


def deliver(session: DbSession, delivery_id: int, *, now: datetime | None = None) -> str:
    """Post one delivery if it is due; returns its status afterwards."""
    now = now or utcnow()
    claimed = _claim(session, delivery_id, now)
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        return "missing"
    if not claimed:
        return row.status
    sub = session.get(WebhookSubscription, row.subscription_id)
    if sub is None or not sub.active:
        row.status, row.last_error = "cancelled", "the subscription was disabled"
        session.commit()
        return row.status
    attempt = _request(sub, row, now)
    # No transaction stays open while the receiver takes its time (up to the timeout).
    session.commit()
    answer = attempt()
    session.add(
        WebhookAttempt(
            delivery_id=row.id,
            subscription_id=sub.id,
            attempt=row.attempts,
            at=now,
            status_code=answer.status_code,
            duration_ms=answer.duration_ms,
            error=answer.error,
            succeeded=succeeded(answer.status_code),
        )
    )
    row.last_status_code, row.last_error = answer.status_code, answer.error[:300]
    if succeeded(answer.status_code):
        row.status, row.delivered_at = "delivered", now
        sub.consecutive_failures, sub.failing_since = 0, None
    else:
        _failed(session, sub, row, now)
    session.commit()
    return row.status


def _request(sub: WebhookSubscription, row: WebhookDelivery, now: datetime) -> Callable[[], Answer]:
    """The attempt, ready to run once the database is let go: everything it needs is read now."""
    settings = config.current()
    try:
        target = addresses.check(sub.url, allow_private=settings.allow_private)
    except addresses.RefusedUrl as exc:
        refusal = Answer(None, 0, f"refused: {exc}")
        return lambda: refusal
    body = body_of(row)
    headers = {
        SIGNATURE_HEADER: header(sub.secret, int(now.timestamp()), body),
        EVENT_ID_HEADER: row.event_id,
        EVENT_TYPE_HEADER: row.event_type,
    }
    return lambda: settings.sender.post(target, body, headers)


def _failed(
    session: DbSession, sub: WebhookSubscription, row: WebhookDelivery, now: datetime
) -> None:
    policy = config.current().policy
    if policy.gives_up(row.attempts):
        row.status = "failed"
    else:
        row.status, row.next_attempt_at = "retry", now + policy.delay(row.attempts)
    # Counted in SQL: two workers failing at once for one subscription both count.
    session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == sub.id)
        .values(
            consecutive_failures=WebhookSubscription.consecutive_failures + 1,
            failing_since=func.coalesce(WebhookSubscription.failing_since, now),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(sub, ["consecutive_failures", "failing_since"])
    if policy.disables(sub.consecutive_failures, sub.failing_since or now, now):
        disable_for_failures(session, sub, now)


def disable_for_failures(session: DbSession, sub: WebhookSubscription, now: datetime) -> None:
    """Stop a subscription that keeps failing, and tell the administrators: an entry in the
    audit log (which they watch for configuration changes) and a live notice to their consoles.
    """
    since = sub.failing_since or now
    reason = f"{sub.consecutive_failures} failed attempts in a row since {since.isoformat()}"
    deactivate(session, sub, reason=reason, now=now)
    sub.failed_out = True
    audit.record(
        session=session,
        action="webhook.disabled",
        actor=None,
        target_type="webhook",
        target_id=sub.id,
        details={"url": sub.url, "reason": reason},
        channel="system",
        commit=False,
    )
    publish(
        session,
        "webhook.disabled",
        ADMIN_ROOMS,
        {"subscription_id": sub.id, "url": sub.url, "reason": reason},
    )
    log.warning("webhook subscription %s disabled: %s", sub.id, reason)


def recover(
    session: DbSession, *, now: datetime | None = None, stuck_after: timedelta | None = None
) -> int:
    """Send what is due: retries whose time came, rows whose task was lost, and rows a dead
    worker left `sending` (posted again: receivers deduplicate by the event id header)."""
    now = now or utcnow()
    stuck = now - (stuck_after or timedelta(minutes=2))
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == "sending", WebhookDelivery.claimed_at <= stuck)
        .values(status="retry", next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    due = list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                (
                    (WebhookDelivery.status == "retry")
                    & (
                        WebhookDelivery.next_attempt_at.is_(None)
                        | (WebhookDelivery.next_attempt_at <= now)
                    )
                )
                | ((WebhookDelivery.status == "queued") & (WebhookDelivery.created_at <= stuck))
            )
            .order_by(WebhookDelivery.id)
            .limit(500)
        )
    )
    session.commit()
    celery = current_app.extensions.get("celery") if has_app_context() else None
    for delivery_id in due:
        if celery is not None:
            celery.tasks[TASK].delay(delivery_id)
        else:
            deliver(session, delivery_id, now=now)
    return len(due)
