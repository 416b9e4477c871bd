"""`/api/v1/customers/<id>/timeline`: a customer's history, newest first, by cursor.

A customer resource, so it lives with the customers: the timeline itself is below them (every
feature appends to it) and imports none of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import operation
from helpdesk.customers import service as customers
from helpdesk.extensions import db
from helpdesk.timeline import service
from helpdesk.timeline.models import TimelineEntry

bp = Blueprint("timeline_api", __name__, url_prefix="/api/v1")


class TimelineQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
    kind: list[str] | None = None


class EntryOut(BaseModel):
    id: int
    kind: str
    occurred_at: datetime
    summary: str
    ticket_id: int | None
    subject_type: str
    subject_id: int | None
    data: dict[str, Any]


class TimelineOut(BaseModel):
    customer_id: int
    items: list[EntryOut]
    next_cursor: str | None


def entry_out(e: TimelineEntry) -> EntryOut:
    return EntryOut(
        id=e.id,
        kind=e.kind,
        occurred_at=e.occurred_at,
        summary=e.summary,
        ticket_id=e.ticket_id,
        subject_type=e.subject_type,
        subject_id=e.subject_id,
        data=e.data or {},
    )


@operation(
    bp,
    "/customers/<int:customer_id>/timeline",
    "GET",
    summary="Everything that happened with a customer, newest first",
    query=TimelineQuery,
    response=TimelineOut,
    tag="customers",
)
def customer_timeline(customer_id: int, query: TimelineQuery) -> TimelineOut:
    customer = customers.get(db.session, customer_id)
    rows, next_cursor = service.page(
        db.session,
        customer_id=customer.id,
        cursor=query.cursor,
        limit=query.limit,
        kinds=query.kind,
    )
    return TimelineOut(
        customer_id=customer.id, items=[entry_out(e) for e in rows], next_cursor=next_cursor
    )
