"""Subscriptions: created, changed, deleted and listed by administrators (API and console)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from helpdesk.auth.models import User
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.pagination import decode_cursor, encode_cursor
from helpdesk.webhooks import addresses, config
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from helpdesk.webhooks.policy import EVENT_TYPES
from helpdesk.webhooks.signing import new_secret

PENDING = ("queued", "retry", "sending")


def checked_url(url: str) -> str:
    """The URL as stored, or `ValidationFailed` naming the `url` field."""
    try:
        addresses.check(url, allow_private=config.current().allow_private)
    except addresses.RefusedUrl as exc:
        raise ValidationFailed("invalid url", fields={"url": str(exc)}) from exc
    return url.strip()


def checked_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        reason = f"unknown: {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
        raise ValidationFailed("unknown event types", fields={"event_types": reason})
    if not chosen:
        raise ValidationFailed("no event type", fields={"event_types": "choose at least one"})
    return chosen


def create(
    session: DbSession,
    *,
    actor: User | None,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    active: bool = True,
) -> WebhookSubscription:
    """A new subscription with a new secret (`.secret`: shown to its creator once)."""
    now = utcnow()
    sub = WebhookSubscription(
        url=checked_url(url),
        event_types=checked_types(event_types),
        description=description.strip(),
        secret=new_secret(),
        active=active,
        disabled_reason="" if active else "disabled by an administrator",
        disabled_at=None if active else now,
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
    )
    session.add(sub)
    session.commit()
    return sub


def update_subscription(
    session: DbSession,
    sub: WebhookSubscription,
    *,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given. Enabling again starts the failure count afresh; disabling cancels
    the deliveries still waiting, so that enabling later does not release a backlog of stale
    events."""
    if url is not None:
        sub.url = checked_url(url)
    if event_types is not None:
        sub.event_types = checked_types(event_types)
    if description is not None:
        sub.description = description.strip()
    now = utcnow()
    sub.failed_out = False  # an administrator has looked at it
    if active is True and not sub.active:
        sub.active, sub.disabled_reason, sub.disabled_at = True, "", None
        sub.consecutive_failures, sub.failing_since = 0, None
    elif active is False and sub.active:
        deactivate(session, sub, reason="disabled by an administrator", now=now)
    sub.updated_at = now
    session.commit()
    return sub


def deactivate(session: DbSession, sub: WebhookSubscription, *, reason: str, now: datetime) -> None:
    """Stop sending to `sub` (no commit: the caller's transaction holds the change)."""
    sub.active, sub.disabled_reason, sub.disabled_at = False, reason[:300], now
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == sub.id,
            WebhookDelivery.status.in_(("queued", "retry")),
        )
        .values(status="cancelled", last_error="the subscription was disabled")
        .execution_options(synchronize_session=False)
    )


def rotate_secret(session: DbSession, sub: WebhookSubscription) -> WebhookSubscription:
    """A new secret, effective for the next attempt (the old one stops signing at once)."""
    sub.secret = new_secret()
    sub.updated_at = utcnow()
    session.commit()
    return sub


def delete(session: DbSession, sub: WebhookSubscription) -> None:
    session.delete(sub)
    session.commit()


def get(session: DbSession, subscription_id: int) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFound("no such webhook subscription")
    return sub


def failed_out_count(session: DbSession) -> int:
    """Subscriptions disabled by their failures that no administrator has looked at yet."""
    found = session.scalar(select(func.count()).where(WebhookSubscription.failed_out.is_(True)))
    return int(found or 0)


def list_all(session: DbSession) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


@dataclass
class AttemptPage:
    items: list[tuple[WebhookAttempt, WebhookDelivery]]
    next_cursor: str | None


def attempts(
    session: DbSession, sub: WebhookSubscription, *, limit: int = 50, cursor: str | None = None
) -> AttemptPage:
    """The delivery log of `sub`, newest first, each attempt with its delivery."""
    stmt = (
        select(WebhookAttempt, WebhookDelivery)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(WebhookAttempt.subscription_id == sub.id)
    )
    if cursor:
        (last_id,) = decode_cursor(cursor, (int,))
        stmt = stmt.where(WebhookAttempt.id < last_id)
    rows = list(session.execute(stmt.order_by(WebhookAttempt.id.desc()).limit(limit + 1)))
    items = [(a, d) for a, d in rows[:limit]]
    more = len(rows) > limit
    return AttemptPage(items, encode_cursor(items[-1][0].id) if more and items else None)
