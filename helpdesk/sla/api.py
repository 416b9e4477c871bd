"""`/api/v1/sla/...`: calendars, policies, at-risk targets, compliance; a ticket's clocks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from flask import Blueprint, Response, current_app
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from helpdesk.api.core import operation
from helpdesk.api.text import Written
from helpdesk.auth import permissions
from helpdesk.db import utcnow
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.sla import policies, reports, service
from helpdesk.sla.models import CalendarModel, SlaClock, SlaPolicy

bp = Blueprint("sla_api", __name__, url_prefix="/api/v1")


class ExceptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["closure", "opening"]
    starts_at: datetime
    ends_at: datetime
    label: str = Field(default="", max_length=200)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("include a timezone offset, e.g. 2026-12-24T12:00:00+01:00")
        return value


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] = Field(min_length=1, max_length=100)
    timezone: str = "Europe/Paris"
    weekly: dict[str, list[list[str]]] = Field(default_factory=dict)
    always_open: bool = False
    holiday_country: str | None = Field(default=None, max_length=4)
    holiday_subdivision: str | None = Field(default=None, max_length=20)
    is_default: bool = False
    exceptions: list[ExceptionIn] = Field(default_factory=list, max_length=500)


class CalendarOut(BaseModel):
    id: int
    name: str
    timezone: str
    weekly: dict[str, list[list[str]]]
    always_open: bool
    holiday_country: str | None
    holiday_subdivision: str | None
    is_default: bool
    exceptions: list[dict[str, Any]]
    open_now: bool


class CalendarList(BaseModel):
    items: list[CalendarOut]


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] = Field(min_length=1, max_length=100)
    position: int = Field(default=100, ge=0, le=10_000)
    active: bool = True
    calendar_id: int
    conditions: dict[str, list[Any]] = Field(default_factory=dict)
    targets: dict[str, dict[str, int]]
    pause_statuses: list[Literal["pending", "on_hold", "open", "new"]] = Field(
        default=["pending", "on_hold"]
    )
    at_risk_ratio: float = Field(default=0.8, gt=0, lt=1)
    escalations: list[dict[str, Any]] = Field(default_factory=list, max_length=20)


class PolicyOut(BaseModel):
    id: int
    name: str
    position: int
    active: bool
    calendar_id: int
    conditions: dict[str, Any]
    targets: dict[str, Any]
    pause_statuses: list[str]
    at_risk_ratio: float
    escalations: list[dict[str, Any]]


class PolicyList(BaseModel):
    items: list[PolicyOut]


class ClocksOut(BaseModel):
    ticket_id: int
    clocks: list[dict[str, Any]]


class AtRiskQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=500)
    within_s: int = Field(default=3600, ge=0, le=30 * 86400)


class AtRiskOut(BaseModel):
    items: list[dict[str, Any]]


class ComplianceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Literal["day", "week", "month", "group", "priority", "channel", "metric"] = "day"
    start: datetime | None = None
    end: datetime | None = None


def _calendar_out(c: CalendarModel) -> CalendarOut:
    return CalendarOut(
        id=c.id,
        name=c.name,
        timezone=c.timezone,
        weekly=c.weekly or {},
        always_open=c.always_open,
        holiday_country=c.holiday_country,
        holiday_subdivision=c.holiday_subdivision,
        is_default=c.is_default,
        exceptions=[
            {
                "id": e.id,
                "kind": e.kind,
                "starts_at": e.starts_at.isoformat(),
                "ends_at": e.ends_at.isoformat(),
                "label": e.label,
            }
            for e in c.exceptions
        ],
        open_now=service.calendar_of(c).is_open(utcnow()),
    )


def _get_calendar(calendar_id: int) -> CalendarModel:
    c = db.session.get(CalendarModel, calendar_id)
    if c is None:
        raise NotFound(f"no calendar {calendar_id}")
    return c


def _save_calendar(c: CalendarModel, body: CalendarIn) -> CalendarOut:
    service.save_calendar(
        db.session,
        c,
        name=body.name,
        timezone=body.timezone,
        weekly=body.weekly,
        always_open=body.always_open,
        holiday_country=body.holiday_country,
        holiday_subdivision=body.holiday_subdivision,
        is_default=body.is_default,
        exceptions=body.exceptions,
    )
    return _calendar_out(c)


@operation(
    bp, "/sla/calendars", "GET", summary="Business calendars", response=CalendarList, tag="sla"
)
def list_calendars() -> CalendarList:
    rows = db.session.scalars(select(CalendarModel).order_by(CalendarModel.name))
    return CalendarList(items=[_calendar_out(c) for c in rows])


@operation(
    bp,
    "/sla/calendars/<int:calendar_id>",
    "GET",
    summary="One calendar",
    response=CalendarOut,
    tag="sla",
)
def get_calendar(calendar_id: int) -> CalendarOut:
    return _calendar_out(_get_calendar(calendar_id))


@operation(
    bp,
    "/sla/calendars",
    "POST",
    summary="Create a calendar (admin)",
    roles=permissions.ADMINISTER,
    body=CalendarIn,
    response=CalendarOut,
    status=201,
    tag="sla",
)
def create_calendar(body: CalendarIn) -> CalendarOut:
    return _save_calendar(CalendarModel(), body)


@operation(
    bp,
    "/sla/calendars/<int:calendar_id>",
    "PUT",
    summary="Replace a calendar (admin)",
    roles=permissions.ADMINISTER,
    body=CalendarIn,
    response=CalendarOut,
    tag="sla",
)
def replace_calendar(calendar_id: int, body: CalendarIn) -> CalendarOut:
    return _save_calendar(_get_calendar(calendar_id), body)


@operation(
    bp,
    "/sla/calendars/<int:calendar_id>",
    "DELETE",
    summary="Delete a calendar no policy uses (admin)",
    roles=permissions.ADMINISTER,
    status=204,
    tag="sla",
)
def delete_calendar(calendar_id: int) -> Response:
    policies.delete_calendar(db.session, _get_calendar(calendar_id))
    return Response(status=204)


def _policy_out(p: SlaPolicy) -> PolicyOut:
    return PolicyOut(
        id=p.id,
        name=p.name,
        position=p.position,
        active=p.active,
        calendar_id=p.calendar_id,
        conditions=p.conditions or {},
        targets=p.targets or {},
        pause_statuses=list(p.pause_statuses or []),
        at_risk_ratio=p.at_risk_ratio,
        escalations=list(p.escalations or []),
    )


def _save_policy(p: SlaPolicy, body: PolicyIn) -> PolicyOut:
    return _policy_out(policies.save_policy(db.session, p, **body.model_dump()))


def _get_policy(policy_id: int) -> SlaPolicy:
    p = db.session.get(SlaPolicy, policy_id)
    if p is None:
        raise NotFound(f"no policy {policy_id}")
    return p


@operation(
    bp,
    "/sla/policies",
    "GET",
    summary="SLA policies, in matching order",
    response=PolicyList,
    tag="sla",
)
def list_policies() -> PolicyList:
    rows = db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id))
    return PolicyList(items=[_policy_out(p) for p in rows])


@operation(
    bp, "/sla/policies/<int:policy_id>", "GET", summary="One policy", response=PolicyOut, tag="sla"
)
def get_policy(policy_id: int) -> PolicyOut:
    return _policy_out(_get_policy(policy_id))


@operation(
    bp,
    "/sla/policies",
    "POST",
    summary="Create a policy (admin)",
    roles=permissions.ADMINISTER,
    body=PolicyIn,
    response=PolicyOut,
    status=201,
    tag="sla",
)
def create_policy(body: PolicyIn) -> PolicyOut:
    return _save_policy(SlaPolicy(), body)


@operation(
    bp,
    "/sla/policies/<int:policy_id>",
    "PUT",
    summary="Replace a policy (admin); applies to tickets from their next change",
    roles=permissions.ADMINISTER,
    body=PolicyIn,
    response=PolicyOut,
    tag="sla",
)
def replace_policy(policy_id: int, body: PolicyIn) -> PolicyOut:
    return _save_policy(_get_policy(policy_id), body)


@operation(
    bp,
    "/sla/policies/<int:policy_id>",
    "DELETE",
    summary="Delete a policy (admin)",
    roles=permissions.ADMINISTER,
    status=204,
    tag="sla",
)
def delete_policy(policy_id: int) -> Response:
    policies.delete_policy(db.session, _get_policy(policy_id))
    return Response(status=204)


@operation(
    bp,
    "/tickets/<int:ticket_id>/sla",
    "GET",
    summary="A ticket's SLA clocks (business time remaining, state)",
    response=ClocksOut,
    tag="sla",
)
def ticket_sla(ticket_id: int) -> ClocksOut:
    from helpdesk.tickets import service as tickets

    ticket = tickets.get(db.session, ticket_id)
    return ClocksOut(
        ticket_id=ticket.id, clocks=service.views_for(db.session, [ticket.id])[ticket.id]
    )


@operation(
    bp,
    "/sla/at-risk",
    "GET",
    summary="Running targets at risk or breached, or due within `within_s` (supervisor)",
    roles=permissions.SUPERVISE,
    query=AtRiskQuery,
    response=AtRiskOut,
    tag="sla",
)
def at_risk(query: AtRiskQuery) -> AtRiskOut:
    from helpdesk.tickets.models import Ticket

    now = utcnow()
    horizon = now + timedelta(seconds=query.within_s)
    stmt = (
        select(SlaClock, Ticket)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(
            SlaClock.running_since.is_not(None),
            SlaClock.due_at.is_not(None),
            (SlaClock.at_risk_at <= horizon) | (SlaClock.due_at <= horizon),
        )
        .order_by(SlaClock.due_at)
        .limit(query.limit)
    )
    rows = db.session.execute(stmt).all()
    views = service.views_for(db.session, [t.id for _, t in rows], now)
    items = []
    for c, t in rows:
        view = next(v for v in views[t.id] if (v["metric"], v["cycle"]) == (c.metric, c.cycle))
        items.append(
            {
                "ticket_id": t.id,
                "reference": t.reference,
                "subject": t.subject,
                "priority": t.priority.value,
                "status": t.status.value,
                "assignee_id": t.assignee_id,
                **view,
            }
        )
    return AtRiskOut(items=items)


@operation(
    bp,
    "/sla/compliance",
    "GET",
    summary="Share of targets met, by period, group, priority, channel or metric",
    roles=permissions.SUPERVISE,
    query=ComplianceQuery,
    tag="sla",
)
def compliance(query: ComplianceQuery) -> dict[str, Any]:
    end = query.end or utcnow()
    start = query.start or end - timedelta(days=30)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("invalid period", fields={"start": "include a timezone offset"})
    if end <= start or end - start > timedelta(days=400):
        raise ValidationFailed("invalid period", fields={"end": "after start, within 400 days"})
    return reports.compliance(
        db.session,
        start=start,
        end=end,
        by=query.by,
        timezone=current_app.config["HELPDESK_TIMEZONE"],
    )
