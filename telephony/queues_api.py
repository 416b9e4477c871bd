"""`/api/v1/queues`: the call queues, how many callers wait in each, and their settings.

Parsing and serialising only: `telephony.queues.save_queue` checks and writes."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from helpdesk.api.core import operation
from helpdesk.auth import permissions
from helpdesk.errors import NotFound
from helpdesk.extensions import db
from telephony import ivr, ivr_queues, queue_rules, queues
from telephony.models import CallQueue

bp = Blueprint("telephony_queues_api", __name__, url_prefix="/api/v1")


class AfterHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["voicemail", "queue"]
    queue: str | None = Field(default=None, min_length=1, max_length=50)


class QueueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9_-]+$")
    label_en: str = Field(default="", max_length=100)
    label_fr: str = Field(default="", max_length=100)
    skills: dict[str, int] = Field(default_factory=dict)
    language: Literal["fr", "en"] | None = None
    strategy: Literal["longest_idle", "fewest_calls", "round_robin"] = "longest_idle"
    steps: list[dict[str, Any]] = Field(default_factory=list, max_length=queue_rules.MAX_STEPS)
    ring_timeout_s: int = Field(
        default=20, ge=queue_rules.RING_TIMEOUT_S[0], le=queue_rules.RING_TIMEOUT_S[1]
    )
    wrap_up_s: int = Field(default=30, ge=queue_rules.WRAP_UP_S[0], le=queue_rules.WRAP_UP_S[1])
    callback_after_s: int = Field(
        default=60, ge=queue_rules.CALLBACK_AFTER_S[0], le=queue_rules.CALLBACK_AFTER_S[1]
    )
    # Added to each entering caller's place in line (their value, VIP tag, SLA at risk).
    priority: int = Field(default=0, ge=queue_rules.PRIORITY[0], le=queue_rules.PRIORITY[1])
    active: bool = True
    # Opening hours: the queue's calendar (`/sla/calendars`; the default one when null) and
    # where its callers go while it is closed (voicemail when null).
    calendar_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    after_hours: AfterHours | None = None


class QueueOut(QueueIn):
    id: int
    waiting: int


class QueueList(BaseModel):
    items: list[QueueOut]


def _queue_out(q: CallQueue, waiting: dict[int, int]) -> QueueOut:
    return QueueOut(
        id=q.id,
        name=q.name,
        label_en=q.label_en,
        label_fr=q.label_fr,
        skills=dict(q.skills or {}),
        language=q.language,  # type: ignore[arg-type]
        strategy=q.strategy,  # type: ignore[arg-type]
        steps=list(q.steps or []),
        ring_timeout_s=q.ring_timeout_s,
        wrap_up_s=q.wrap_up_s,
        callback_after_s=q.callback_after_s,
        priority=q.priority or 0,
        active=q.active,
        calendar_id=q.calendar_id,
        after_hours=AfterHours.model_validate(q.after_hours) if q.after_hours else None,
        waiting=waiting.get(q.id, 0),
    )


@operation(
    bp,
    "/queues",
    "GET",
    summary="Call queues and how many callers wait in each",
    response=QueueList,
    tag="calls",
)
def list_queues() -> QueueList:
    waiting = queues.waiting_by_queue(db.session)
    rows = db.session.scalars(select(CallQueue).order_by(CallQueue.name))
    return QueueList(items=[_queue_out(q, waiting) for q in rows])


def _save_queue(q: CallQueue, body: QueueIn) -> QueueOut:
    fields = body.model_dump()
    if body.after_hours is not None:
        fields["after_hours"] = body.after_hours.model_dump(exclude_none=True)
    menu = ivr_queues.menu_queues(ivr.load(current_app.instance_path))
    return _queue_out(queues.save_queue(db.session, q, **fields, menu=menu), {})


@operation(
    bp,
    "/queues",
    "POST",
    summary="Create a queue (admin)",
    roles=permissions.ADMINISTER,
    body=QueueIn,
    response=QueueOut,
    status=201,
    tag="calls",
)
def create_queue(body: QueueIn) -> QueueOut:
    return _save_queue(CallQueue(), body)


@operation(
    bp,
    "/queues/<int:queue_id>",
    "PUT",
    summary="Replace a queue (admin)",
    roles=permissions.ADMINISTER,
    body=QueueIn,
    response=QueueOut,
    tag="calls",
)
def replace_queue(queue_id: int, body: QueueIn) -> QueueOut:
    q = db.session.get(CallQueue, queue_id)
    if q is None:
        raise NotFound(f"no queue {queue_id}")
    return _save_queue(q, body)
