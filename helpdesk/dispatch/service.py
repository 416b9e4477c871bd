"""Every change to a technician or a work order goes through here: history, the customer's
timeline, the visit's texts and the live event, in the transaction of the change.

Keyword-only arguments after an explicit session, as in every feature. Planning (routes,
suggestions) lives in `planning.py`, the automatic run over the unassigned visits in
`autodispatch.py`, the texts a visit sends in `notify.py`, the settings all of them read in
`settings.py` (`Settings` and `current_settings` are re-exported here for callers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpdesk.auth.models import User
from helpdesk.customers.models import Customer
from helpdesk.customers.phones import try_e164
from helpdesk.db import DbSession, utcnow
from helpdesk.dispatch import notify, planning
from helpdesk.dispatch.geo import Point, valid
from helpdesk.dispatch.geocoding import Geocoder, NullGeocoder
from helpdesk.dispatch.models import Technician, WorkOrder, WorkOrderEvent

# Re-exported: callers take the settings from the service they call.
from helpdesk.dispatch.settings import Settings as Settings
from helpdesk.dispatch.settings import current_settings as current_settings
from helpdesk.dispatch.workflow import (
    FINAL,
    TRANSITIONS,
    InvalidMove,
    WorkOrderStatus,
    check_move,
)
from helpdesk.errors import APIError, Conflict, NotFound, ValidationFailed
from helpdesk.events import publish
from helpdesk.sla.models import CalendarModel
from helpdesk.timeline import service as timeline

S = WorkOrderStatus
PRIORITIES = ("low", "normal", "high", "urgent")
# What happens to the linked ticket when a visit is completed (HELPDESK_DISPATCH_ON_COMPLETION).
COMPLETION_MODES = ("solve", "note", "none")


def rooms(wo: WorkOrder | None = None) -> list[str]:
    out = ["role:dispatcher", "role:supervisor", "role:admin"]
    if wo is not None:
        out.append(f"customer:{wo.customer_id}")
        if wo.ticket_id:
            out.append(f"ticket:{wo.ticket_id}")
    return out


def payload(wo: WorkOrder) -> dict[str, Any]:
    return {
        "work_order_id": wo.id,
        "reference": wo.reference,
        "status": wo.status.value,
        "technician_id": wo.technician_id,
        "eta_at": wo.eta_at.isoformat() if wo.eta_at else None,
        "ticket_id": wo.ticket_id,
        "customer_id": wo.customer_id,
    }


# -- technicians ---------------------------------------------------------------------------------


def _check_technician_fields(
    session: DbSession,
    *,
    phone: str | None,
    lat: float | None,
    lon: float | None,
    calendar_id: int | None,
    region: str,
    technician_id: int | None = None,
) -> str | None:
    errors: dict[str, str] = {}
    e164 = None
    if phone is not None:
        e164 = try_e164(phone, region)
        if e164 is None:
            errors["phone"] = "not a valid phone number (E.164, e.g. +33612345678)"
        else:
            clash = session.scalar(
                select(Technician.id).where(
                    Technician.phone == e164, Technician.id != (technician_id or 0)
                )
            )
            if clash:
                raise Conflict("another technician has this number", fields={"phone": "taken"})
    if lat is not None and lon is not None and not valid(lat, lon):
        errors["home_lat"] = "latitude within -90..90 and longitude within -180..180"
    if calendar_id is not None and session.get(CalendarModel, calendar_id) is None:
        errors["calendar_id"] = "no such calendar"
    if errors:
        raise ValidationFailed("invalid technician", fields=errors)
    return e164


def create_technician(
    session: DbSession,
    *,
    name: str,
    phone: str,
    home_lat: float,
    home_lon: float,
    skills: Sequence[str] = (),
    language: str = "fr",
    calendar_id: int | None = None,
    max_jobs_per_day: int = 6,
    active: bool = True,
    region: str = "FR",
    commit: bool = True,
) -> Technician:
    e164 = _check_technician_fields(
        session, phone=phone, lat=home_lat, lon=home_lon, calendar_id=calendar_id, region=region
    )
    tech = Technician(
        name=name.strip(),
        phone=e164,
        language=language,
        skills=normalise_skills(skills),
        home_lat=home_lat,
        home_lon=home_lon,
        calendar_id=calendar_id,
        max_jobs_per_day=max_jobs_per_day,
        active=active,
        status="available",
    )
    session.add(tech)
    session.flush()
    publish(session, "dispatch.technician", rooms(), {"technician_id": tech.id})
    if commit:
        session.commit()
    return tech


TECHNICIAN_FIELDS = (
    "name",
    "phone",
    "language",
    "skills",
    "home_lat",
    "home_lon",
    "calendar_id",
    "max_jobs_per_day",
    "active",
)


def update_technician(
    session: DbSession, tech: Technician, *, region: str = "FR", **changes: Any
) -> Technician:
    unknown = set(changes) - set(TECHNICIAN_FIELDS)
    if unknown:
        raise ValidationFailed("unknown fields", fields={f: "not updatable" for f in unknown})
    lat = changes.get("home_lat", tech.home_lat)
    lon = changes.get("home_lon", tech.home_lon)
    e164 = _check_technician_fields(
        session,
        phone=changes.get("phone"),
        lat=lat,
        lon=lon,
        calendar_id=changes.get("calendar_id"),
        region=region,
        technician_id=tech.id,
    )
    for field, value in changes.items():
        if field == "phone":
            value = e164
        elif field == "skills":
            value = normalise_skills(value)
        setattr(tech, field, value)
    publish(session, "dispatch.technician", rooms(), {"technician_id": tech.id})
    for day in planning.open_days(session, tech.id):
        planning.replan(session, technician=tech, day=day, settings=current_settings())
    session.commit()
    return tech


def get_technician(session: DbSession, technician_id: int) -> Technician:
    tech = session.get(Technician, technician_id)
    if tech is None:
        raise NotFound(f"no technician {technician_id}")
    return tech


def technician_by_phone(session: DbSession, number: str) -> Technician | None:
    found: Technician | None = session.scalar(
        select(Technician).where(Technician.phone == number, Technician.active)
    )
    return found


def normalise_skills(skills: Sequence[str]) -> list[str]:
    return sorted({s.strip().lower() for s in skills if s.strip()})


# -- work orders ---------------------------------------------------------------------------------


def local_day(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).date().isoformat()


def _deadline(session: DbSession, ticket_id: int | None) -> datetime | None:
    """The ticket's running resolution target, when an SLA policy set one."""
    if ticket_id is None:
        return None
    from helpdesk.sla.models import SlaClock

    due: datetime | None = session.scalar(
        select(SlaClock.due_at)
        .where(
            SlaClock.ticket_id == ticket_id,
            SlaClock.metric == "resolution",
            SlaClock.state.in_(("running", "paused")),
        )
        .order_by(SlaClock.cycle.desc())
        .limit(1)
    )
    return due


def history(
    session: DbSession,
    wo: WorkOrder,
    *,
    action: str,
    source: str,
    actor: User | None = None,
    technician_id: int | None = None,
    old: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> WorkOrderEvent:
    event = WorkOrderEvent(
        work_order_id=wo.id,
        at=at or utcnow(),
        action=action,
        from_status=old,
        to_status=wo.status.value,
        actor_user_id=actor.id if actor else None,
        technician_id=technician_id,
        source=source,
        note=note[:500],
        data=data or {},
    )
    session.add(event)
    return event


def on_timeline(session: DbSession, wo: WorkOrder, summary: str, **data: Any) -> None:
    """The visit's step on the customer's timeline: an English summary, and the facts (`event`,
    the visit's `reference`, its `status`, and what the event needs) each console words the
    entry from in its own language."""
    timeline.append(
        session,
        customer_id=wo.customer_id,
        kind="visit",
        ticket_id=wo.ticket_id,
        subject_type="work_order",
        subject_id=wo.id,
        summary=f"{wo.reference} {summary}",
        data={"status": wo.status.value, "reference": wo.reference, **data},
    )


def create_work_order(
    session: DbSession,
    *,
    actor: User | None,
    summary: str,
    address: str,
    window_start: datetime,
    window_end: datetime,
    customer_id: int | None = None,
    ticket_id: int | None = None,
    description: str = "",
    lat: float | None = None,
    lon: float | None = None,
    required_skills: Sequence[str] = (),
    duration_min: int = 60,
    priority: str = "normal",
    geocoder: Geocoder | None = None,
    source: str = "console",
    settings: Settings | None = None,
    commit: bool = True,
) -> WorkOrder:
    """A visit to make: where, what skills, how long, and the window promised to the customer."""
    from helpdesk.tickets.models import Ticket

    settings = settings or current_settings()
    errors: dict[str, str] = {}
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket_id is not None and ticket is None:
        errors["ticket_id"] = "no such ticket"
    if customer_id is None and ticket is not None:
        customer_id = ticket.requester_id
    if customer_id is None:
        errors.setdefault("customer_id", "a customer (or a ticket) is required")
    elif session.get(Customer, customer_id) is None:
        errors["customer_id"] = "no such customer"
    if lat is None or lon is None:
        found = (geocoder or NullGeocoder()).geocode(address)
        if found is None:
            errors["lat"] = "enter the site's coordinates (no geocoder found this address)"
        else:
            lat, lon = found.lat, found.lon
    elif not valid(lat, lon):
        errors["lat"] = "latitude within -90..90 and longitude within -180..180"
    if window_start.tzinfo is None or window_end.tzinfo is None:
        errors["window_start"] = "include a timezone offset"
    elif window_end <= window_start:
        errors["window_end"] = "must be after window_start"
    if priority not in PRIORITIES:
        errors["priority"] = f"one of {', '.join(PRIORITIES)}"
    if not 5 <= duration_min <= 12 * 60:
        errors["duration_min"] = "between 5 and 720 minutes"
    if errors:
        raise ValidationFailed("invalid work order", fields=errors)
    assert customer_id is not None and lat is not None and lon is not None
    now = utcnow()
    wo = WorkOrder(
        ticket_id=ticket_id,
        customer_id=customer_id,
        summary=summary.strip()[:250],
        description=description,
        address=address.strip()[:300],
        lat=lat,
        lon=lon,
        required_skills=normalise_skills(required_skills),
        duration_min=duration_min,
        window_start=window_start,
        window_end=window_end,
        day=local_day(window_start, settings.timezone),
        priority=priority,
        deadline_at=_deadline(session, ticket_id),
        status=S.UNSCHEDULED,
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
    )
    session.add(wo)
    session.flush()
    history(session, wo, action="created", source=source, actor=actor, at=now)
    on_timeline(session, wo, f"visit requested: {wo.summary}", event="requested", what=wo.summary)
    publish(session, "dispatch.work_order", rooms(wo), payload(wo))
    if commit:
        session.commit()
    return wo


def get_work_order(session: DbSession, work_order_id: int) -> WorkOrder:
    wo = session.get(WorkOrder, work_order_id)
    if wo is None:
        raise NotFound(f"no work order {work_order_id}")
    return wo


def events_of(session: DbSession, wo: WorkOrder) -> list[WorkOrderEvent]:
    return list(
        session.scalars(
            select(WorkOrderEvent)
            .where(WorkOrderEvent.work_order_id == wo.id)
            .order_by(WorkOrderEvent.id)
        )
    )


def move_status(wo: WorkOrder, new: WorkOrderStatus, field: str = "status") -> str:
    """Set the work order's status through the workflow's check (shared with erasure, which
    cancels open visits); returns the old status."""
    old = wo.status
    try:
        check_move(old, new)
    except InvalidMove as exc:
        raise Conflict(str(exc), fields={field: str(exc)}) from exc
    wo.status = new
    wo.updated_at = utcnow()
    return old.value


def assign(
    session: DbSession,
    wo: WorkOrder,
    *,
    technician_id: int,
    actor: User | None,
    source: str = "console",
    settings: Settings | None = None,
    commit: bool = True,
) -> WorkOrder:
    """Give the visit to a technician: their day is re-planned, they and the customer are told."""
    settings = settings or current_settings()
    tech = session.get(Technician, technician_id)
    if tech is None or not tech.active:
        raise ValidationFailed(
            "invalid technician", fields={"technician_id": "no such active technician"}
        )
    missing = set(wo.required_skills) - set(tech.skills)
    if missing:
        raise ValidationFailed(
            "the technician lacks required skills",
            fields={"technician_id": "missing skills: " + ", ".join(sorted(missing))},
        )
    if wo.status not in (S.UNSCHEDULED, S.SCHEDULED):
        raise Conflict(
            f"a {wo.status.value} work order cannot be reassigned",
            fields={"technician_id": "the visit is under way or over"},
        )
    if wo.technician_id == tech.id and wo.status is S.SCHEDULED:
        return wo
    previous = wo.technician
    old = wo.status.value
    wo.technician_id = tech.id
    wo.technician = tech
    if wo.status is S.UNSCHEDULED:
        move_status(wo, S.SCHEDULED, "technician_id")
    wo.updated_at = utcnow()
    session.flush()
    planning.replan(session, technician=tech, day=wo.day, settings=settings)
    if previous is not None and previous.id != tech.id:
        planning.replan(session, technician=previous, day=wo.day, settings=settings)
        notify.technician_unassigned(session, wo, previous, settings)
    history(
        session,
        wo,
        action="assigned",
        source=source,
        actor=actor,
        technician_id=tech.id,
        old=old,
        data={"technician": tech.name, "eta_at": wo.eta_at.isoformat() if wo.eta_at else None},
    )
    on_timeline(
        session,
        wo,
        f"visit scheduled with {tech.name}",
        event="scheduled",
        technician_id=tech.id,
        technician=tech.name,
    )
    notify.assigned(session, wo, tech, settings)
    _ticket_note(
        session,
        wo,
        actor,
        f"Visit {wo.reference} scheduled with {tech.name}, arrival window "
        f"{notify.window_text(wo, settings, 'en')}.",
    )
    publish(session, "dispatch.work_order", rooms(wo), payload(wo))
    if commit:
        session.commit()
    return wo


def unassign(
    session: DbSession, wo: WorkOrder, *, actor: User | None, source: str = "console"
) -> WorkOrder:
    settings = current_settings()
    if wo.status is not S.SCHEDULED:
        raise Conflict(
            f"a {wo.status.value} work order cannot be unassigned",
            fields={"status": "only scheduled visits can be unassigned"},
        )
    tech = wo.technician
    old = move_status(wo, S.UNSCHEDULED)
    wo.technician_id, wo.technician, wo.route_position, wo.eta_at = None, None, None, None
    session.flush()
    if tech is not None:
        planning.replan(session, technician=tech, day=wo.day, settings=settings)
        notify.technician_unassigned(session, wo, tech, settings)
    history(session, wo, action="unassigned", source=source, actor=actor, old=old)
    on_timeline(session, wo, "visit back to be scheduled", event="unscheduled")
    publish(session, "dispatch.work_order", rooms(wo), payload(wo))
    session.commit()
    return wo


class NotToday(APIError):
    """Setting off for a visit booked for another day: its ETA would tell the customer nothing."""

    status = 422
    code = "not_today"

    def __init__(self, wo: WorkOrder) -> None:
        super().__init__(
            f"{wo.reference} is booked for {wo.day}: it can be marked on the way on that day only",
            fields={"status": f"the visit is on {wo.day}, not today"},
        )
        self.day = wo.day


def _check_on_the_day(wo: WorkOrder, now: datetime, settings: Settings) -> None:
    """On the way only on the visit's own day, in the helpdesk's time zone."""
    if wo.day != local_day(now, settings.timezone):
        raise NotToday(wo)


def set_status(
    session: DbSession,
    wo: WorkOrder,
    *,
    status: WorkOrderStatus,
    actor: User | None = None,
    technician: Technician | None = None,
    source: str = "console",
    note: str = "",
    settings: Settings | None = None,
) -> WorkOrder:
    """On the way, on site, cancelled; completion goes through `complete` (it takes a report)."""
    settings = settings or current_settings()
    if status is S.COMPLETED:
        return complete(
            session,
            wo,
            actor=actor,
            technician=technician,
            source=source,
            notes=note,
            settings=settings,
        )
    if status is S.CANCELLED:
        return cancel(session, wo, actor=actor, source=source, note=note)
    tech = wo.technician
    if tech is None:
        raise Conflict("the work order has no technician", fields={"status": "assign it first"})
    now = utcnow()
    if status is S.EN_ROUTE and status in TRANSITIONS[wo.status]:
        _check_on_the_day(wo, now, settings)
    old = move_status(wo, status)
    if status is S.EN_ROUTE:
        wo.en_route_at = now
        tech.status = "en_route"
    elif status is S.ON_SITE:
        wo.arrived_at = now
        wo.eta_at = now
        tech.status = "on_site"
        tech.last_lat, tech.last_lon = wo.lat, wo.lon
    elif status is S.SCHEDULED:
        tech.status = "available"
    session.flush()
    planning.replan(session, technician=tech, day=wo.day, settings=settings, now=now)
    history(
        session,
        wo,
        action="status",
        source=source,
        actor=actor,
        technician_id=technician.id if technician else None,
        old=old,
        note=note,
        at=now,
        data={"eta_at": wo.eta_at.isoformat() if wo.eta_at else None},
    )
    words = {
        S.EN_ROUTE: "technician on the way",
        S.ON_SITE: "technician on site",
        S.SCHEDULED: "back to scheduled",
    }
    eta = (
        f", arriving around {notify.eta_text(wo, settings, 'en')}"
        if (status is S.EN_ROUTE and wo.eta_at)
        else ""
    )
    on_timeline(
        session,
        wo,
        f"{words[status]}{eta}",
        source=source,
        event="back_to_scheduled" if status is S.SCHEDULED else status.value,
        eta_at=wo.eta_at.isoformat() if (status is S.EN_ROUTE and wo.eta_at) else None,
    )
    if status is S.EN_ROUTE:
        notify.on_the_way(session, wo, tech, settings)
    publish(session, "dispatch.work_order", rooms(wo), payload(wo))
    session.commit()
    return wo


def complete(
    session: DbSession,
    wo: WorkOrder,
    *,
    actor: User | None = None,
    technician: Technician | None = None,
    source: str = "console",
    notes: str = "",
    parts_used: Sequence[str] = (),
    acknowledged_by: str = "",
    settings: Settings | None = None,
) -> WorkOrder:
    """The visit is done: report, customer's survey text, the linked ticket per the setting."""
    settings = settings or current_settings()
    now = utcnow()
    if wo.status is S.SCHEDULED:
        raise Conflict(
            "a visit the technician has not set off for cannot be completed",
            fields={"status": "mark it on the way or on site first"},
        )
    old = move_status(wo, S.COMPLETED)
    if wo.arrived_at is None:
        wo.arrived_at = now
    wo.completed_at = now
    wo.completion_notes = notes.strip()
    wo.parts_used = [p.strip() for p in parts_used if p.strip()]
    wo.acknowledged_by = acknowledged_by.strip()[:200]
    tech = wo.technician
    if tech is not None:
        tech.status = "available"
        tech.last_lat, tech.last_lon = wo.lat, wo.lon
    session.flush()
    if tech is not None:
        planning.replan(session, technician=tech, day=wo.day, settings=settings, now=now)
    history(
        session,
        wo,
        action="completed",
        source=source,
        actor=actor,
        technician_id=technician.id if technician else None,
        old=old,
        note=notes,
        at=now,
        data={"parts_used": list(wo.parts_used), "acknowledged_by": wo.acknowledged_by},
    )
    on_timeline(
        session,
        wo,
        "visit completed" + (f": {wo.completion_notes}" if notes else ""),
        event="completed",
        notes=wo.completion_notes if notes else "",
    )
    notify.completed(session, wo, settings)
    wo.survey_sent_at = now
    _complete_ticket(session, wo, actor, settings)
    publish(session, "dispatch.work_order", rooms(wo), payload(wo))
    session.commit()
    return wo


def cancel(
    session: DbSession,
    wo: WorkOrder,
    *,
    actor: User | None,
    source: str = "console",
    note: str = "",
) -> WorkOrder:
    settings = current_settings()
    was_scheduled = wo.status in (S.SCHEDULED, S.EN_ROUTE, S.ON_SITE)
    old = move_status(wo, S.CANCELLED)
    tech = wo.technician
    wo.route_position = None
    wo.eta_at = None
    session.flush()
    if tech is not None:
        if tech.status in ("en_route", "on_site") and old in ("en_route", "on_site"):
            tech.status = "available"
        planning.replan(session, technician=tech, day=wo.day, settings=settings)
        notify.technician_unassigned(session, wo, tech, settings)
    history(session, wo, action="cancelled", source=source, actor=actor, old=old, note=note)
    on_timeline(
        session,
        wo,
        "visit cancelled" + (f": {note}" if note else ""),
        event="cancelled",
        notes=note,
    )
    if was_scheduled:
        notify.cancelled(session, wo, settings)
    publish(session, "dispatch.work_order", rooms(wo), payload(wo))
    session.commit()
    return wo


def record_survey(session: DbSession, wo: WorkOrder, *, score: int) -> WorkOrder:
    now = utcnow()
    wo.survey_score = score
    wo.survey_answered_at = now
    history(session, wo, action="survey", source="sms", note=f"{score}/5", at=now)
    on_timeline(session, wo, f"satisfaction {score}/5", event="survey", score=score)
    publish(session, "dispatch.work_order", rooms(wo), payload(wo))
    return wo


def _ticket_note(session: DbSession, wo: WorkOrder, actor: User | None, body: str) -> None:
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.workflow import Status

    if wo.ticket_id is None:
        return
    ticket = session.get(Ticket, wo.ticket_id)
    if ticket is None or ticket.status is Status.CLOSED:
        return
    tickets.add_comment(session, ticket, body=body, public=False, actor=actor, commit=False)


def _complete_ticket(
    session: DbSession, wo: WorkOrder, actor: User | None, settings: Settings
) -> None:
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.workflow import UNRESOLVED, Status

    if wo.ticket_id is None or settings.on_completion == "none":
        return
    ticket = session.get(Ticket, wo.ticket_id)
    if ticket is None or ticket.status is Status.CLOSED:
        return
    lines = [f"Visit {wo.reference} completed."]
    if wo.completion_notes:
        lines.append(f"Notes: {wo.completion_notes}")
    if wo.parts_used:
        lines.append("Parts used: " + ", ".join(wo.parts_used))
    if wo.acknowledged_by:
        lines.append(f"Acknowledged by: {wo.acknowledged_by}")
    tickets.add_comment(
        session, ticket, body="\n".join(lines), public=False, actor=actor, commit=False
    )
    others_open = session.scalar(
        select(WorkOrder.id)
        .where(
            WorkOrder.ticket_id == ticket.id,
            WorkOrder.id != wo.id,
            WorkOrder.status.not_in(tuple(FINAL)),
        )
        .limit(1)
    )
    if settings.on_completion == "solve" and ticket.status in UNRESOLVED and not others_open:
        tickets.update(
            session,
            ticket,
            actor=actor,
            status=Status.SOLVED,
            note=f"visit {wo.reference} completed",
            commit=False,
        )


def active_visit_for_customer(
    session: DbSession, customer_id: int, *, now: datetime | None = None
) -> WorkOrder | None:
    """The customer's next visit still to happen (what the IVR's "where is my technician" reads)."""
    now = now or utcnow()
    settings = current_settings()
    today = local_day(now, settings.timezone)
    found: WorkOrder | None = session.scalar(
        select(WorkOrder)
        .where(
            WorkOrder.customer_id == customer_id,
            WorkOrder.status.in_((S.SCHEDULED, S.EN_ROUTE, S.ON_SITE)),
            WorkOrder.day >= today,
        )
        .order_by(WorkOrder.window_start, WorkOrder.id)
        .limit(1)
    )
    return found


def point_of(wo: WorkOrder) -> Point:
    return Point(wo.lat, wo.lon)
