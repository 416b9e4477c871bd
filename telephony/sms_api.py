"""`/api/v1/sms`: conversations, agent replies, segment counts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from telephony import sms
from telephony.models import SmsMessage
from telephony.sms_text import segments

bp = Blueprint("sms_api", __name__, url_prefix="/api/v1")


class SmsOut(BaseModel):
    id: int
    direction: str
    kind: str
    from_number: str
    to_number: str
    customer_id: int | None
    ticket_id: int | None
    body: str
    media_urls: list[str]
    segments: int
    encoding: str
    status: str
    error: str
    created_at: datetime
    sent_at: datetime | None
    flooded: bool


class SmsList(BaseModel):
    items: list[SmsOut]


class SmsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: int | None = None
    customer_id: int | None = None
    limit: int = Field(default=50, ge=1, le=200)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: int
    body: Annotated[str, Written] = Field(min_length=1, max_length=1600)


class SegmentsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(default="", max_length=1600)


class SegmentsOut(BaseModel):
    encoding: str
    segments: int
    characters: int


def sms_out(m: SmsMessage) -> SmsOut:
    return SmsOut(
        id=m.id,
        direction=m.direction,
        kind=m.kind,
        from_number=m.from_number,
        to_number=m.to_number,
        customer_id=m.customer_id,
        ticket_id=m.ticket_id,
        body=m.body,
        media_urls=list(m.media_urls or []),
        segments=m.segments,
        encoding=m.encoding,
        status=m.status,
        error=m.error,
        created_at=m.created_at,
        sent_at=m.sent_at,
        flooded=m.flooded,
    )


@operation(
    bp,
    "/sms",
    "GET",
    summary="Texts of a conversation or a customer, newest first",
    query=SmsQuery,
    response=SmsList,
    tag="sms",
)
def list_sms(query: SmsQuery) -> SmsList:
    if query.ticket_id is None and query.customer_id is None:
        raise ValidationFailed("say whose texts", fields={"ticket_id": "or customer_id"})
    stmt = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(query.limit)
    if query.ticket_id is not None:
        stmt = stmt.where(SmsMessage.ticket_id == query.ticket_id)
    if query.customer_id is not None:
        stmt = stmt.where(SmsMessage.customer_id == query.customer_id)
    return SmsList(items=[sms_out(m) for m in db.session.scalars(stmt)])


@operation(
    bp,
    "/sms",
    "POST",
    summary="Reply by text in a conversation (sent once, through the outbox)",
    body=ReplyIn,
    response=SmsOut,
    status=201,
    tag="sms",
    errors={404: "no such ticket"},
)
def send_reply(body: ReplyIn) -> SmsOut:
    row = sms.reply(db.session, ticket_id=body.ticket_id, body=body.body, author=current_api_user())
    return sms_out(row)


@operation(
    bp,
    "/sms/segments",
    "GET",
    summary="How many SMS segments a text costs (GSM-7 or UCS-2)",
    query=SegmentsQuery,
    response=SegmentsOut,
    tag="sms",
)
def count_segments(query: SegmentsQuery) -> SegmentsOut:
    seg = segments(query.body)
    return SegmentsOut(encoding=seg.encoding, segments=seg.count, characters=seg.characters)
