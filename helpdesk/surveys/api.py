"""`/api/v1/surveys`: the satisfaction surveys sent and their answers, for staff."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from helpdesk.api.core import operation
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.surveys import service
from helpdesk.surveys.models import Survey

bp = Blueprint("surveys_api", __name__, url_prefix="/api/v1")


class SurveyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    ticket_id: int | None = None
    customer_id: int | None = None
    agent_id: int | None = None
    start: AwareDatetime | None = Field(
        default=None, alias="from", description="Sent at or after (ISO 8601 with an offset)."
    )
    end: AwareDatetime | None = Field(
        default=None, alias="to", description="Sent before (ISO 8601 with an offset)."
    )
    answered: bool | None = Field(default=None, description="Only answered (or unanswered) ones.")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


class SurveyOut(BaseModel):
    id: int
    customer_id: int
    ticket_id: int | None
    call_id: int | None
    agent_id: int | None = Field(description="Whose work was rated: the assignee, the agent.")
    queue: str | None = Field(description="The call queue of a call's survey.")
    trigger: str = Field(description="`ticket` (solved) or `call` (answered and ended).")
    channel: str = Field(description="`sms` or `email`.")
    language: str
    state: str = Field(description="`open`, `answered` or `expired`.")
    sent_at: datetime
    expires_at: datetime
    score: int | None = Field(description="1 (not at all satisfied) to 5 (very satisfied).")
    comment: str = Field(description="The customer's words, as written; empty when none.")
    answered_at: datetime | None
    answered_by: str | None = Field(description="`link` (the e-mail's page) or `sms`.")


class SurveyList(BaseModel):
    items: list[SurveyOut]
    next_cursor: str | None


def survey_out(s: Survey) -> SurveyOut:
    return SurveyOut(
        id=s.id,
        customer_id=s.customer_id,
        ticket_id=s.ticket_id,
        call_id=s.call_id,
        agent_id=s.agent_id,
        queue=s.queue,
        trigger=s.trigger,
        channel=s.channel,
        language=s.language,
        state=service.state(s),
        sent_at=s.sent_at,
        expires_at=s.expires_at,
        score=s.score,
        comment=s.comment,
        answered_at=s.answered_at,
        answered_by=s.answered_by,
    )


@operation(
    bp,
    "/surveys",
    "GET",
    summary="Satisfaction surveys sent, newest first, with their answers",
    query=SurveyQuery,
    response=SurveyList,
    tag="surveys",
)
def list_surveys(query: SurveyQuery) -> SurveyList:
    if query.start and query.end and query.end <= query.start:
        raise ValidationFailed("empty period", fields={"to": "must be after from"})
    flt = service.SurveyFilter(
        ticket_id=query.ticket_id,
        customer_id=query.customer_id,
        agent_id=query.agent_id,
        start=query.start,
        end=query.end,
        answered=query.answered,
    )
    # A malformed cursor raises BadCursor, which the error handlers answer with a 422.
    rows, next_cursor = service.list_surveys(
        db.session, flt, limit=query.limit, cursor=query.cursor
    )
    return SurveyList(items=[survey_out(s) for s in rows], next_cursor=next_cursor)
