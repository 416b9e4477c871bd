"""Demo data for the dispatch board: technicians around Paris and visits today and tomorrow,
some already assigned (through the service, so their routes, ETAs, texts and timelines are
real) and some waiting in the unassigned queue."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpdesk.customers.models import CustomerPhone
from helpdesk.db import utcnow
from helpdesk.dispatch import planning, service
from helpdesk.extensions import db
from helpdesk.sla.models import CalendarModel
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import UNRESOLVED

TECHNICIANS = [
    ("Hugo Martin", ["fiber", "router"], 48.8566, 2.3522, "fr"),
    ("Inès Bernard", ["fiber", "tv"], 48.8925, 2.2369, "fr"),
    ("Karim Haddad", ["copper", "router"], 48.8049, 2.4331, "fr"),
    ("Léa Petit", ["fiber", "copper", "router"], 48.9362, 2.3574, "fr"),
    ("Tom Walker", ["tv", "router"], 48.8014, 2.1301, "en"),
    ("Sofia Rossi", ["electrical", "router"], 48.8397, 2.5860, "fr"),
    ("Noah Leroy", ["fiber"], 48.7534, 2.2930, "fr"),
    ("Emma Moreau", ["copper", "tv", "electrical"], 48.9000, 2.4700, "fr"),
]
JOBS = [
    ("Fibre box offline", ["fiber"], 60),
    ("Install the new router", ["router"], 45),
    ("No TV signal", ["tv"], 45),
    ("Line noise on the copper line", ["copper"], 90),
    ("Socket sparks when plugging in", ["electrical"], 60),
    ("Wi-Fi does not reach upstairs", ["router"], 30),
    ("Fibre splice after roadworks", ["fiber"], 120),
    ("Set-top box reboots", ["tv"], 30),
]
STREETS = [
    "rue de la Paix",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Voltaire",
    "rue de la République",
    "avenue Foch",
    "rue Pasteur",
    "place de la Mairie",
]
WINDOWS = [(8, 10), (9, 12), (10, 12), (13, 15), (14, 17), (15, 18)]


def seed(rng: random.Random, *, timezone: str = "Europe/Paris") -> None:
    """Eight technicians and about twenty visits over today and tomorrow."""
    calendar = CalendarModel(
        name="Field service",
        timezone=timezone,
        weekly={d: [["08:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    db.session.add(calendar)
    db.session.flush()
    for i, (name, skills, lat, lon, lang) in enumerate(TECHNICIANS):
        service.create_technician(
            db.session,
            name=name,
            phone=f"+3375600010{i}",
            home_lat=lat,
            home_lon=lon,
            skills=skills,
            language=lang,
            calendar_id=calendar.id,
            max_jobs_per_day=5,
            commit=False,
        )
    db.session.commit()
    # Visits for open tickets of customers with a French number, so that their texts read well.
    open_tickets = list(
        db.session.scalars(
            select(Ticket)
            .join(CustomerPhone, CustomerPhone.customer_id == Ticket.requester_id)
            .where(Ticket.status.in_(list(UNRESOLVED)), CustomerPhone.e164.like("+33%"))
            .order_by(Ticket.id)
            .limit(200)
        ).unique()
    )
    rng.shuffle(open_tickets)
    zone = ZoneInfo(timezone)
    today = utcnow().astimezone(zone).date()
    settings = service.current_settings()
    for offset, count, assigned in ((0, 10, 6), (1, 10, 5)):
        day: date = today + timedelta(days=offset)
        for n in range(count):
            if not open_tickets:
                return
            _visit(rng, open_tickets.pop(), day, zone, assign=n < assigned, settings=settings)


def _visit(
    rng: random.Random,
    ticket: Ticket,
    day: date,
    zone: ZoneInfo,
    *,
    assign: bool,
    settings: service.Settings,
) -> None:
    summary, skills, minutes = rng.choice(JOBS)
    start_h, end_h = rng.choice(WINDOWS)
    wo = service.create_work_order(
        db.session,
        actor=None,
        ticket_id=ticket.id,
        summary=summary,
        address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        lat=round(48.86 + rng.uniform(-0.14, 0.12), 5),
        lon=round(2.35 + rng.uniform(-0.25, 0.25), 5),
        required_skills=skills,
        duration_min=minutes,
        window_start=datetime.combine(day, time(start_h), zone),
        window_end=datetime.combine(day, time(end_h), zone),
        priority=ticket.priority.value,
        source="console",
        settings=settings,
    )
    if not assign:
        return
    found = planning.suggest(db.session, wo, settings=settings, limit=1)
    if found.suggestions:
        service.assign(
            db.session,
            wo,
            technician_id=found.suggestions[0].technician_id,
            actor=None,
            source="auto",
            settings=settings,
        )
