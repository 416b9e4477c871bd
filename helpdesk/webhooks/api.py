"""`/api/v1/webhooks`: subscriptions (admin), their secret (shown once) and delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.auth import permissions
from helpdesk.extensions import db
from helpdesk.webhooks import addresses
from helpdesk.webhooks import subscriptions as service
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

bp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1")

EventType = Literal[
    "ticket.created", "ticket.updated", "call.ended", "sms.received", "survey.answered"
]


def _url_form(value: str) -> str:
    """The URL's form, checked with the other fields; its address is checked by the service
    (which knows whether private addresses are allowed)."""
    try:
        addresses.parse(value)
    except addresses.RefusedUrl as exc:
        raise ValueError(str(exc)) from exc
    return value.strip()


Url = Annotated[str, AfterValidator(_url_form)]
_URL = Field(
    min_length=1,
    max_length=2000,
    description="http(s) URL; loopback and private addresses are refused unless the server "
    "allows them (WEBHOOKS_ALLOW_PRIVATE)",
)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url = _URL
    event_types: list[EventType] = Field(min_length=1, max_length=10)
    description: str = Field(default="", max_length=200)
    active: bool = True


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=10)
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = Field(
        default=None, description="true enables again (the failure count starts afresh)"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    active: bool
    disabled_reason: str = Field(description="empty while active")
    disabled_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    secret: str = Field(
        description="signs every delivery (X-Helpdesk-Signature); shown in this answer only"
    )


class WebhookList(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    id: int
    at: datetime
    delivery_id: int
    event_id: str
    event_type: str
    attempt: int
    succeeded: bool
    status_code: int | None = Field(description="null when no answer came (timeout, refused)")
    duration_ms: int
    error: str
    delivery_status: str = Field(
        description="queued, sending, retry, delivered, failed or cancelled"
    )


class AttemptList(BaseModel):
    items: list[AttemptOut]
    next_cursor: str | None


class AttemptQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


def webhook_out(sub: WebhookSubscription) -> WebhookOut:
    return WebhookOut(
        id=sub.id,
        url=sub.url,
        description=sub.description,
        event_types=list(sub.event_types or []),
        active=sub.active,
        disabled_reason=sub.disabled_reason,
        disabled_at=sub.disabled_at,
        consecutive_failures=sub.consecutive_failures or 0,
        failing_since=sub.failing_since,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
    )


def attempt_out(attempt: WebhookAttempt, delivery: WebhookDelivery) -> AttemptOut:
    return AttemptOut(
        id=attempt.id,
        at=attempt.at,
        delivery_id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        attempt=attempt.attempt,
        succeeded=attempt.succeeded,
        status_code=attempt.status_code,
        duration_ms=attempt.duration_ms,
        error=attempt.error,
        delivery_status=delivery.status,
    )


def _with_secret(sub: WebhookSubscription) -> WebhookWithSecret:
    return WebhookWithSecret(**webhook_out(sub).model_dump(), secret=sub.secret)


ADMIN = permissions.ADMINISTER
_ONE = "/webhooks/<int:webhook_id>"


@operation(
    bp,
    "/webhooks",
    "GET",
    summary="Webhook subscriptions",
    response=WebhookList,
    roles=ADMIN,
    tag="webhooks",
)
def list_webhooks() -> WebhookList:
    return WebhookList(items=[webhook_out(s) for s in service.list_all(db.session)])


@operation(
    bp,
    "/webhooks",
    "POST",
    summary="Subscribe a URL to event types; the answer carries the signing secret, once",
    body=WebhookIn,
    response=WebhookWithSecret,
    status=201,
    roles=ADMIN,
    tag="webhooks",
)
def create_webhook(body: WebhookIn) -> WebhookWithSecret:
    sub = service.create(
        db.session,
        actor=current_api_user(),
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        active=body.active,
    )
    return _with_secret(sub)


@operation(
    bp,
    _ONE,
    "GET",
    summary="One webhook subscription",
    response=WebhookOut,
    roles=ADMIN,
    tag="webhooks",
)
def get_webhook(webhook_id: int) -> WebhookOut:
    return webhook_out(service.get(db.session, webhook_id))


@operation(
    bp,
    _ONE,
    "PATCH",
    summary="Change a subscription; enable or disable it",
    body=WebhookPatch,
    response=WebhookOut,
    roles=ADMIN,
    tag="webhooks",
)
def update_webhook(webhook_id: int, body: WebhookPatch) -> WebhookOut:
    sub = service.get(db.session, webhook_id)
    service.update_subscription(
        db.session,
        sub,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        active=body.active,
    )
    return webhook_out(sub)


@operation(
    bp,
    _ONE,
    "DELETE",
    summary="Delete a subscription and its log",
    status=204,
    roles=ADMIN,
    tag="webhooks",
)
def delete_webhook(webhook_id: int) -> Response:
    service.delete(db.session, service.get(db.session, webhook_id))
    return Response(status=204)


@operation(
    bp,
    _ONE + "/secret",
    "POST",
    summary="A new signing secret (the old one stops at once); shown in this answer only",
    response=WebhookWithSecret,
    roles=ADMIN,
    tag="webhooks",
)
def rotate_webhook_secret(webhook_id: int) -> WebhookWithSecret:
    return _with_secret(service.rotate_secret(db.session, service.get(db.session, webhook_id)))


@operation(
    bp,
    _ONE + "/deliveries",
    "GET",
    summary="The delivery log: every attempt, newest first",
    query=AttemptQuery,
    response=AttemptList,
    roles=ADMIN,
    tag="webhooks",
)
def list_webhook_deliveries(webhook_id: int, query: AttemptQuery) -> AttemptList:
    sub = service.get(db.session, webhook_id)
    # A malformed cursor raises BadCursor, which the error handlers answer with a 422.
    page = service.attempts(db.session, sub, limit=query.limit, cursor=query.cursor)
    return AttemptList(
        items=[attempt_out(a, d) for a, d in page.items], next_cursor=page.next_cursor
    )
