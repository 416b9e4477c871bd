"""`/api/v1/work-orders` and `/api/v1/technicians`: visits, suggestions, assignment, day routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.db import utcnow
from helpdesk.dispatch import autodispatch, planning, service
from helpdesk.dispatch.geocoding import current_geocoder
from helpdesk.dispatch.models import Technician, WorkOrder, WorkOrderEvent
from helpdesk.dispatch.ranking import Exclusion, Suggestion
from helpdesk.dispatch.workflow import WorkOrderStatus
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.pagination import decode_cursor, encode_cursor

bp = Blueprint("dispatch_api", __name__, url_prefix="/api/v1")
Priority = Literal["low", "normal", "high", "urgent"]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("include a timezone offset, e.g. 2026-12-02T14:00:00+01:00")
    return value


# -- technicians ---------------------------------------------------------------------------------


class TechnicianIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=32, description="E.164, e.g. +33612345678")
    language: Literal["fr", "en"] = "fr"
    skills: list[str] = Field(default_factory=list, max_length=50)
    home_lat: float = Field(ge=-90, le=90)
    home_lon: float = Field(ge=-180, le=180)
    calendar_id: int | None = None
    max_jobs_per_day: int = Field(default=6, ge=1, le=30)
    active: bool = True


class TechnicianPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, min_length=3, max_length=32)
    language: Literal["fr", "en"] | None = None
    skills: list[str] | None = Field(default=None, max_length=50)
    home_lat: float | None = Field(default=None, ge=-90, le=90)
    home_lon: float | None = Field(default=None, ge=-180, le=180)
    calendar_id: int | None = None
    max_jobs_per_day: int | None = Field(default=None, ge=1, le=30)
    active: bool | None = None


class TechnicianOut(BaseModel):
    id: int
    name: str
    phone: str
    language: str
    skills: list[str]
    home_lat: float
    home_lon: float
    calendar_id: int | None
    max_jobs_per_day: int
    status: str
    active: bool


class TechnicianList(BaseModel):
    items: list[TechnicianOut]


def technician_out(t: Technician) -> TechnicianOut:
    return TechnicianOut(
        id=t.id,
        name=t.name,
        phone=t.phone,
        language=t.language,
        skills=list(t.skills),
        home_lat=t.home_lat,
        home_lon=t.home_lon,
        calendar_id=t.calendar_id,
        max_jobs_per_day=t.max_jobs_per_day,
        status=t.status,
        active=t.active,
    )


@operation(
    bp, "/technicians", "GET", summary="Technicians", response=TechnicianList, tag="dispatch"
)
def list_technicians() -> TechnicianList:
    rows = db.session.scalars(select(Technician).order_by(Technician.name, Technician.id))
    return TechnicianList(items=[technician_out(t) for t in rows])


@operation(
    bp,
    "/technicians",
    "POST",
    summary="Add a technician (dispatcher)",
    roles=permissions.DISPATCH,
    body=TechnicianIn,
    response=TechnicianOut,
    status=201,
    tag="dispatch",
)
def create_technician(body: TechnicianIn) -> TechnicianOut:
    tech = service.create_technician(
        db.session, region=current_app.config["HELPDESK_DEFAULT_REGION"], **body.model_dump()
    )
    return technician_out(tech)


@operation(
    bp,
    "/technicians/<int:technician_id>",
    "GET",
    summary="One technician",
    response=TechnicianOut,
    tag="dispatch",
)
def get_technician(technician_id: int) -> TechnicianOut:
    return technician_out(service.get_technician(db.session, technician_id))


@operation(
    bp,
    "/technicians/<int:technician_id>",
    "PATCH",
    summary="Change a technician (dispatcher); their planned days are re-planned",
    roles=permissions.DISPATCH,
    body=TechnicianPatch,
    response=TechnicianOut,
    tag="dispatch",
)
def update_technician(technician_id: int, body: TechnicianPatch) -> TechnicianOut:
    tech = service.get_technician(db.session, technician_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "phone", "language", "skills", "home_lat", "home_lon", "active"):
        if key in changes and changes[key] is None:
            raise ValidationFailed("invalid technician", fields={key: "must not be null"})
    service.update_technician(
        db.session, tech, region=current_app.config["HELPDESK_DEFAULT_REGION"], **changes
    )
    return technician_out(tech)


class DayQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date | None = None


class VisitOut(BaseModel):
    work_order_id: int
    reference: str
    status: str
    position: int | None
    eta_at: datetime | None
    window_start: datetime
    window_end: datetime
    late_s: int
    lat: float
    lon: float


class RouteOut(BaseModel):
    technician_id: int
    day: str
    shift: list[list[datetime]]
    visits: list[VisitOut]


@operation(
    bp,
    "/technicians/<int:technician_id>/route",
    "GET",
    summary="A technician's day: jobs in route order with estimated arrival times",
    query=DayQuery,
    response=RouteOut,
    tag="dispatch",
)
def technician_route(technician_id: int, query: DayQuery) -> RouteOut:
    tech = service.get_technician(db.session, technician_id)
    settings = service.current_settings()
    day = (query.day.isoformat() if query.day else None) or service.local_day(
        utcnow(), settings.timezone
    )
    plan = (
        next(
            p
            for p in planning.board_days(db.session, day=day, settings=settings)
            if p.technician.id == tech.id
        )
        if tech.active
        else None
    )
    jobs = plan.jobs if plan else []
    return RouteOut(
        technician_id=tech.id,
        day=day,
        shift=[[s, e] for s, e in (plan.shift if plan else ())],
        visits=[
            VisitOut(
                work_order_id=w.id,
                reference=w.reference,
                status=w.status.value,
                position=w.route_position,
                eta_at=w.eta_at,
                window_start=w.window_start,
                window_end=w.window_end,
                late_s=w.late_s,
                lat=w.lat,
                lon=w.lon,
            )
            for w in jobs
        ],
    )


# -- work orders ---------------------------------------------------------------------------------


class WorkOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: int | None = None
    customer_id: int | None = None
    summary: Annotated[str, Written] = Field(min_length=1, max_length=250)
    description: str = Field(default="", max_length=10_000)
    address: Annotated[str, Written] = Field(min_length=1, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    required_skills: list[str] = Field(default_factory=list, max_length=20)
    duration_min: int = Field(default=60, ge=5, le=720)
    window_start: datetime
    window_end: datetime
    priority: Priority = "normal"

    _check_aware = field_validator("window_start", "window_end")(_aware)


class EventOut(BaseModel):
    at: datetime
    action: str
    from_status: str
    to_status: str
    source: str
    actor_user_id: int | None
    technician_id: int | None
    note: str


class WorkOrderOut(BaseModel):
    id: int
    reference: str
    ticket_id: int | None
    customer_id: int
    summary: str
    description: str
    address: str
    lat: float
    lon: float
    required_skills: list[str]
    duration_min: int
    window_start: datetime
    window_end: datetime
    day: str
    priority: str
    deadline_at: datetime | None
    status: str
    technician_id: int | None
    route_position: int | None
    eta_at: datetime | None
    late_s: int
    en_route_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    completion_notes: str
    parts_used: list[str]
    acknowledged_by: str
    survey_score: int | None
    created_at: datetime
    history: list[EventOut] | None = None


class WorkOrderList(BaseModel):
    items: list[WorkOrderOut]
    next_cursor: str | None


def work_order_out(wo: WorkOrder, events: list[WorkOrderEvent] | None = None) -> WorkOrderOut:
    return WorkOrderOut(
        id=wo.id,
        reference=wo.reference,
        ticket_id=wo.ticket_id,
        customer_id=wo.customer_id,
        summary=wo.summary,
        description=wo.description,
        address=wo.address,
        lat=wo.lat,
        lon=wo.lon,
        required_skills=list(wo.required_skills),
        duration_min=wo.duration_min,
        window_start=wo.window_start,
        window_end=wo.window_end,
        day=wo.day,
        priority=wo.priority,
        deadline_at=wo.deadline_at,
        status=wo.status.value,
        technician_id=wo.technician_id,
        route_position=wo.route_position,
        eta_at=wo.eta_at,
        late_s=wo.late_s,
        en_route_at=wo.en_route_at,
        arrived_at=wo.arrived_at,
        completed_at=wo.completed_at,
        completion_notes=wo.completion_notes,
        parts_used=list(wo.parts_used),
        acknowledged_by=wo.acknowledged_by,
        survey_score=wo.survey_score,
        created_at=wo.created_at,
        history=(
            [
                EventOut(
                    at=e.at,
                    action=e.action,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    source=e.source,
                    actor_user_id=e.actor_user_id,
                    technician_id=e.technician_id,
                    note=e.note,
                )
                for e in events
            ]
            if events is not None
            else None
        ),
    )


class WorkOrderQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: list[WorkOrderStatus] | None = None
    day: date | None = None
    technician_id: int | None = None
    customer_id: int | None = None
    ticket_id: int | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)


@operation(
    bp,
    "/work-orders",
    "GET",
    summary="Work orders, by window (filters: status, day, technician, customer, ticket)",
    query=WorkOrderQuery,
    response=WorkOrderList,
    tag="dispatch",
)
def list_work_orders(query: WorkOrderQuery) -> WorkOrderList:
    stmt = select(WorkOrder)
    if query.status:
        stmt = stmt.where(WorkOrder.status.in_(query.status))
    if query.day:
        stmt = stmt.where(WorkOrder.day == query.day.isoformat())
    for field in ("technician_id", "customer_id", "ticket_id"):
        value = getattr(query, field)
        if value is not None:
            stmt = stmt.where(getattr(WorkOrder, field) == value)
    if query.cursor:
        at, last_id = decode_cursor(query.cursor, (datetime, int))
        stmt = stmt.where(
            (WorkOrder.window_start > at)
            | ((WorkOrder.window_start == at) & (WorkOrder.id > last_id))
        )
    rows = list(
        db.session.scalars(
            stmt.order_by(WorkOrder.window_start, WorkOrder.id).limit(query.limit + 1)
        )
    )
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = encode_cursor(rows[-1].window_start, rows[-1].id)
    return WorkOrderList(items=[work_order_out(w) for w in rows], next_cursor=next_cursor)


@operation(
    bp,
    "/work-orders",
    "POST",
    summary="Create a work order (a visit) for a ticket or a customer",
    body=WorkOrderIn,
    response=WorkOrderOut,
    status=201,
    tag="dispatch",
)
def create_work_order(body: WorkOrderIn) -> WorkOrderOut:
    wo = service.create_work_order(
        db.session,
        actor=current_api_user(),
        source="api",
        geocoder=current_geocoder(),
        **body.model_dump(),
    )
    return work_order_out(wo, service.events_of(db.session, wo))


@operation(
    bp,
    "/work-orders/<int:work_order_id>",
    "GET",
    summary="One work order with its history",
    response=WorkOrderOut,
    tag="dispatch",
)
def get_work_order(work_order_id: int) -> WorkOrderOut:
    wo = service.get_work_order(db.session, work_order_id)
    return work_order_out(wo, service.events_of(db.session, wo))


class SuggestionOut(BaseModel):
    technician_id: int
    name: str
    score: float
    detour_km: float
    distance_km: float
    jobs_today: int
    max_jobs: int
    arrival: datetime
    position: int
    reason: str


class ExclusionOut(BaseModel):
    technician_id: int
    name: str
    code: Literal["inactive", "missing_skills", "off_shift", "full", "no_room"]
    detail: str


class TechnicianSuggestionsOut(BaseModel):
    work_order_id: int
    suggestions: list[SuggestionOut]
    excluded: list[ExclusionOut]


class SuggestionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=10, ge=1, le=100)


def suggestion_out(s: Suggestion) -> SuggestionOut:
    return SuggestionOut(**s.__dict__)


def exclusion_out(e: Exclusion) -> ExclusionOut:
    return ExclusionOut(**e.__dict__)


@operation(
    bp,
    "/work-orders/<int:work_order_id>/suggestions",
    "GET",
    summary="Qualified, on-shift, free technicians for a work order, ranked, each with the reason",
    query=SuggestionsQuery,
    response=TechnicianSuggestionsOut,
    tag="dispatch",
)
def work_order_suggestions(work_order_id: int, query: SuggestionsQuery) -> TechnicianSuggestionsOut:
    wo = service.get_work_order(db.session, work_order_id)
    found = planning.suggest(db.session, wo, settings=service.current_settings(), limit=query.limit)
    return TechnicianSuggestionsOut(
        work_order_id=wo.id,
        suggestions=[suggestion_out(s) for s in found.suggestions],
        excluded=[exclusion_out(e) for e in found.excluded],
    )


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    technician_id: int


@operation(
    bp,
    "/work-orders/<int:work_order_id>/assign",
    "POST",
    summary="Assign a technician (dispatcher): day re-planned, technician and customer texted",
    roles=permissions.DISPATCH,
    body=AssignIn,
    response=WorkOrderOut,
    tag="dispatch",
)
def assign_work_order(work_order_id: int, body: AssignIn) -> WorkOrderOut:
    wo = service.get_work_order(db.session, work_order_id)
    service.assign(
        db.session, wo, technician_id=body.technician_id, actor=current_api_user(), source="api"
    )
    return work_order_out(wo)


@operation(
    bp,
    "/work-orders/<int:work_order_id>/unassign",
    "POST",
    summary="Take a scheduled work order back to the unassigned queue (dispatcher)",
    roles=permissions.DISPATCH,
    response=WorkOrderOut,
    tag="dispatch",
)
def unassign_work_order(work_order_id: int) -> WorkOrderOut:
    wo = service.get_work_order(db.session, work_order_id)
    service.unassign(db.session, wo, actor=current_api_user(), source="api")
    return work_order_out(wo)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["scheduled", "en_route", "on_site", "cancelled"]
    note: str = Field(default="", max_length=500)


@operation(
    bp,
    "/work-orders/<int:work_order_id>/status",
    "POST",
    summary="Move a work order on: on the way, on site, back to scheduled, cancelled (dispatcher)",
    roles=permissions.DISPATCH,
    body=StatusIn,
    response=WorkOrderOut,
    tag="dispatch",
)
def work_order_status(work_order_id: int, body: StatusIn) -> WorkOrderOut:
    wo = service.get_work_order(db.session, work_order_id)
    service.set_status(
        db.session,
        wo,
        status=WorkOrderStatus(body.status),
        actor=current_api_user(),
        source="api",
        note=body.note,
    )
    return work_order_out(wo)


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str = Field(default="", max_length=10_000)
    parts_used: list[str] = Field(default_factory=list, max_length=100)
    acknowledged_by: str = Field(default="", max_length=200)


@operation(
    bp,
    "/work-orders/<int:work_order_id>/complete",
    "POST",
    summary="Complete a visit: notes, parts, acknowledgement; survey sent, ticket updated",
    roles=permissions.DISPATCH,
    body=CompleteIn,
    response=WorkOrderOut,
    tag="dispatch",
)
def complete_work_order(work_order_id: int, body: CompleteIn) -> WorkOrderOut:
    wo = service.get_work_order(db.session, work_order_id)
    service.complete(db.session, wo, actor=current_api_user(), source="api", **body.model_dump())
    return work_order_out(wo)


class AutoDispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=100, ge=1, le=500)


class AutoDispatchOut(BaseModel):
    results: list[dict[str, Any]]


@operation(
    bp,
    "/work-orders/auto-dispatch",
    "POST",
    summary="Assign each unassigned work order, most pressing first, to its best suggestion",
    roles=permissions.DISPATCH,
    body=AutoDispatchIn,
    response=AutoDispatchOut,
    tag="dispatch",
)
def auto_dispatch(body: AutoDispatchIn) -> AutoDispatchOut:
    results = autodispatch.auto_dispatch(
        db.session, actor=current_api_user(), settings=service.current_settings(), limit=body.limit
    )
    audit_details(planning.dispatch_counts(results))
    return AutoDispatchOut(results=results)
