"""The dispatch console: the board (unassigned visits, each technician's day, a plot of jobs and
technicians by coordinates), a work order's page with its suggestions, "create a visit" from a
ticket, and the technician's mobile job page reached by a signed link (no login)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from agents_ui import formatting
from agents_ui.account import me
from agents_ui.blueprint import bp, role_required
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.auth import permissions
from helpdesk.customers.models import Customer
from helpdesk.db import utcnow
from helpdesk.dispatch import autodispatch, notify, planning, service
from helpdesk.dispatch.geocoding import current_geocoder
from helpdesk.dispatch.models import Technician, WorkOrder
from helpdesk.dispatch.workflow import WorkOrderStatus
from helpdesk.errors import APIError
from helpdesk.extensions import db

S = WorkOrderStatus
STATUS_LABELS: dict[str, Any] = {
    "unscheduled": _l("To schedule"),
    "scheduled": _l("Scheduled"),
    "en_route": _l("On the way"),
    "on_site": _l("On site"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
TECH_STATUS_LABELS: dict[str, Any] = {
    "available": _l("Available"),
    "en_route": _l("On the way"),
    "on_site": _l("On site"),
}
EXCLUSION_LABELS: dict[str, Any] = {
    "inactive": _l("inactive"),
    "missing_skills": _l("missing skills"),
    "off_shift": _l("not on shift in the window"),
    "full": _l("day already full"),
    "no_room": _l("no free slot in the window"),
}
VISIT_ACTIONS: dict[str, Any] = {
    "created": _l("requested"),
    "assigned": _l("assigned"),
    "unassigned": _l("unassigned"),
    "status": _l("status change"),
    "completed": _l("completed"),
    "cancelled": _l("cancelled"),
    "survey": _l("survey answer"),
}
VISIT_SOURCES: dict[str, Any] = {
    "console": _l("console"),
    "api": _l("API"),
    "sms": _l("SMS"),
    "mobile": _l("mobile page"),
    "auto": _l("auto-dispatch"),
}
PRIORITY_CHOICES = ("low", "normal", "high", "urgent")
# The board's timeline spans these local hours.
DAY_FROM_H, DAY_TO_H = 7, 20
PLOT_W, PLOT_H, PLOT_PAD = 600, 420, 24
TIMELINE_W = 780


def can_dispatch() -> bool:
    return bool(current_user.is_authenticated and current_user.has_role(*permissions.DISPATCH))


@bp.context_processor
def _dispatch_helpers() -> dict[str, Any]:
    return {
        "can_dispatch": can_dispatch(),
        "ticket_visits": _ticket_visits,
        "visit_status": lambda s: STATUS_LABELS.get(str(s), str(s)),
        "visit_action": lambda a: VISIT_ACTIONS.get(str(a), str(a)),
        "visit_source": lambda s: VISIT_SOURCES.get(str(s), str(s)),
    }


def _ticket_visits(ticket_id: int) -> list[WorkOrder]:
    return list(
        db.session.scalars(
            select(WorkOrder).where(WorkOrder.ticket_id == ticket_id).order_by(WorkOrder.id)
        )
    )


def _tz() -> str:
    return str(current_app.config["HELPDESK_TIMEZONE"])


def _today() -> str:
    return service.local_day(utcnow(), _tz())


def _chosen_day() -> str:
    raw = request.args.get("day", "")
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        return _today()


# -- the board -------------------------------------------------------------------------------


@dataclass
class Bar:
    wo: WorkOrder
    x: float
    width: float
    late: bool


@dataclass
class Row:
    technician: Technician
    shift: list[tuple[float, float]]
    bars: list[Bar]
    load: str


def _x(at: datetime, day: str) -> float:
    start = datetime.combine(date.fromisoformat(day), time(DAY_FROM_H), ZoneInfo(_tz()))
    span = (DAY_TO_H - DAY_FROM_H) * 3600
    seconds = (at - start).total_seconds()
    return round(max(0.0, min(1.0, seconds / span)) * TIMELINE_W, 1)


def _rows(day: str) -> list[Row]:
    rows = []
    for p in planning.board_days(db.session, day=day, settings=service.current_settings()):
        bars = []
        for wo in p.jobs:
            start = wo.eta_at or wo.window_start
            x = _x(start, day)
            end = _x(start + timedelta(minutes=wo.duration_min), day)
            bars.append(Bar(wo, x, max(4.0, end - x), wo.late_s > 0))
        active = [w for w in p.jobs if w.status is not S.COMPLETED]
        rows.append(
            Row(
                technician=p.technician,
                shift=[(_x(s, day), _x(e, day) - _x(s, day)) for s, e in p.shift],
                bars=bars,
                load=f"{len(active)}/{p.technician.max_jobs_per_day}",
            )
        )
    return rows


@dataclass
class Dot:
    x: float
    y: float
    label: str
    kind: str  # job-unscheduled | job-scheduled | ... | technician
    ref: int


def _plot(unassigned: list[WorkOrder], rows: list[Row]) -> list[Dot]:
    """Jobs and technicians projected on a local equirectangular plane: no map tiles needed."""
    import math

    points: list[tuple[float, float, str, str, int]] = []
    for wo in unassigned:
        points.append((wo.lat, wo.lon, wo.reference, "job-unscheduled", wo.id))
    for r in rows:
        for b in r.bars:
            points.append((b.wo.lat, b.wo.lon, b.wo.reference, f"job-{b.wo.status.value}", b.wo.id))
        t = r.technician
        lat = t.last_lat if t.last_lat is not None else t.home_lat
        lon = t.last_lon if t.last_lon is not None else t.home_lon
        points.append((lat, lon, t.name, "technician", t.id))
    if not points:
        return []
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    mid = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * mid, 1e-4)
    span_y = max(max(lats) - min(lats), 1e-4)
    scale = min((PLOT_W - 2 * PLOT_PAD) / span_x, (PLOT_H - 2 * PLOT_PAD) / span_y)
    out = []
    for lat, lon, label, kind, ref in points:
        x = PLOT_PAD + (lon - min(lons)) * mid * scale
        y = PLOT_H - PLOT_PAD - (lat - min(lats)) * scale
        out.append(Dot(round(x, 1), round(y, 1), label, kind, ref))
    return out


@bp.get("/dispatch")
@role_required(*permissions.DISPATCH)
def dispatch_board() -> ResponseReturnValue:
    day = _chosen_day()
    settings = service.current_settings()
    unassigned = [
        w for w in planning.unassigned_queue(db.session, settings=settings) if w.day == day
    ]
    rows = _rows(day)
    customers = _customers([w.customer_id for w in unassigned])
    d = date.fromisoformat(day)
    hours = [
        (h, round((h - DAY_FROM_H) / (DAY_TO_H - DAY_FROM_H) * TIMELINE_W, 1))
        for h in range(DAY_FROM_H, DAY_TO_H + 1, 2)
    ]
    return render_template(
        "dispatch/board.html",
        day=day,
        previous_day=(d - timedelta(days=1)).isoformat(),
        next_day=(d + timedelta(days=1)).isoformat(),
        today=_today(),
        unassigned=unassigned,
        other_days=[
            w for w in planning.unassigned_queue(db.session, settings=settings) if w.day != day
        ][:20],
        customers=customers,
        rows=rows,
        dots=_plot(unassigned, rows),
        hours=hours,
        timeline_w=TIMELINE_W,
        plot_w=PLOT_W,
        plot_h=PLOT_H,
        status_labels=STATUS_LABELS,
        tech_status_labels=TECH_STATUS_LABELS,
    )


def _customers(ids: list[int]) -> dict[int, Customer]:
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))}


@bp.post("/dispatch/auto")
@role_required(*permissions.DISPATCH)
def dispatch_auto() -> ResponseReturnValue:
    results = autodispatch.auto_dispatch(
        db.session, actor=me(), settings=service.current_settings()
    )
    audit_details(planning.dispatch_counts(results))
    placed = sum(1 for r in results if r["technician_id"])
    if not results:
        flash(_("No visit is waiting to be scheduled."), "info")
    else:
        flash(
            ngettext(
                "%(placed)s of %(num)d visit assigned.",
                "%(placed)s of %(num)d visits assigned.",
                len(results),
                placed=placed,
            ),
            "success" if placed else "info",
        )
    return redirect(url_for("console.dispatch_board", day=request.form.get("day") or None))


# -- one work order --------------------------------------------------------------------------


@bp.get("/dispatch/work-orders/<int:work_order_id>")
@role_required(*permissions.DISPATCH)
def dispatch_work_order(work_order_id: int) -> ResponseReturnValue:
    return _work_order_page(service.get_work_order(db.session, work_order_id))


def _work_order_page(wo: WorkOrder, status: int = 200) -> ResponseReturnValue:
    settings = service.current_settings()
    ranking = (
        planning.suggest(db.session, wo, settings=settings)
        if wo.status in (S.UNSCHEDULED, S.SCHEDULED)
        else None
    )
    customer = db.session.get(Customer, wo.customer_id)
    techs = list(
        db.session.scalars(select(Technician).where(Technician.active).order_by(Technician.name))
    )
    return (
        render_template(
            "dispatch/work_order.html",
            wo=wo,
            customer=customer,
            ranking=ranking,
            history=service.events_of(db.session, wo),
            technicians=techs,
            status_labels=STATUS_LABELS,
            exclusion_labels=EXCLUSION_LABELS,
        ),
        status,
    )


def _back(wo: WorkOrder) -> ResponseReturnValue:
    target = request.form.get("next")
    if target == "board":
        return redirect(url_for("console.dispatch_board", day=wo.day))
    return redirect(url_for("console.dispatch_work_order", work_order_id=wo.id))


@bp.post("/dispatch/work-orders/<int:work_order_id>/assign")
@role_required(*permissions.DISPATCH)
def dispatch_assign(work_order_id: int) -> ResponseReturnValue:
    wo = service.get_work_order(db.session, work_order_id)
    wants_json = request.accept_mimetypes.best == "application/json"  # the board's drag and drop
    raw = request.form.get("technician_id", "")
    if not raw.isdigit():
        if wants_json:
            return {
                "error": {"code": "validation_error", "message": _("Choose a technician.")}
            }, 422
        flash(_("Choose a technician."), "error")
        return _back(wo)
    try:
        service.assign(db.session, wo, technician_id=int(raw), actor=me())
    except APIError as exc:
        db.session.rollback()
        why = exc.message + (f" ({'; '.join(exc.fields.values())})" if exc.fields else "")
        message = _("Not assigned: %(why)s", why=why)
        if wants_json:
            return {"error": {"code": exc.code, "message": message}}, exc.status
        flash(message, "error")
        return _back(wo)
    flash(
        _(
            "%(ref)s assigned to %(name)s.",
            ref=wo.reference,
            name=wo.technician.name if wo.technician else "",
        ),
        "success",
    )
    if wants_json:
        return {"ok": True, "work_order_id": wo.id}
    return _back(wo)


@bp.post("/dispatch/work-orders/<int:work_order_id>/status")
@role_required(*permissions.DISPATCH)
def dispatch_status(work_order_id: int) -> ResponseReturnValue:
    wo = service.get_work_order(db.session, work_order_id)
    action = request.form.get("action", "")
    try:
        if action == "unassign":
            service.unassign(db.session, wo, actor=me())
        elif action == "complete":
            service.complete(
                db.session,
                wo,
                actor=me(),
                notes=request.form.get("notes", ""),
                parts_used=_parts(request.form.get("parts_used", "")),
                acknowledged_by=request.form.get("acknowledged_by", ""),
            )
        elif action in ("en_route", "on_site", "cancelled", "scheduled"):
            service.set_status(
                db.session, wo, status=S(action), actor=me(), note=request.form.get("note", "")
            )
        else:
            abort(400)
    except APIError as exc:
        db.session.rollback()
        flash(_("Not done: %(why)s", why=exc.message), "error")
        return _back(wo)
    flash(
        _("%(ref)s is now “%(status)s”.", ref=wo.reference, status=STATUS_LABELS[wo.status]),
        "success",
    )
    return _back(wo)


def _parts(raw: str) -> list[str]:
    return [p.strip() for p in raw.replace("\n", ",").split(",") if p.strip()][:100]


# -- create a visit from a ticket ------------------------------------------------------------


@bp.route("/tickets/<int:ticket_id>/visit", methods=["GET", "POST"])
@login_required
def ticket_new_visit(ticket_id: int) -> ResponseReturnValue:
    from helpdesk.tickets import service as tickets

    ticket = tickets.get(db.session, ticket_id)
    customer = db.session.get(Customer, ticket.requester_id)
    form = request.form if request.method == "POST" else {}
    errors: dict[str, str] = {}
    tomorrow = (date.fromisoformat(_today()) + timedelta(days=1)).isoformat()
    values = {
        "summary": form.get("summary", ticket.subject),
        "description": form.get("description", ""),
        "address": form.get("address", ""),
        "lat": form.get("lat", ""),
        "lon": form.get("lon", ""),
        "skills": form.get("skills", ""),
        "duration_min": form.get("duration_min", "60"),
        "day": form.get("day", tomorrow),
        "start": form.get("start", "09:00"),
        "end": form.get("end", "12:00"),
        "priority": form.get("priority", ticket.priority.value),
    }
    if request.method == "POST":
        parsed = _parse_visit(values, errors)
        if parsed is not None:
            try:
                wo = service.create_work_order(
                    db.session,
                    actor=me(),
                    ticket_id=ticket.id,
                    geocoder=current_geocoder(),
                    **parsed,
                )
            except APIError as exc:
                db.session.rollback()
                errors.update(exc.fields or {"summary": exc.message})
            else:
                flash(_("Visit %(ref)s created.", ref=wo.reference), "success")
                if can_dispatch():
                    return redirect(url_for("console.dispatch_work_order", work_order_id=wo.id))
                return redirect(url_for("console.ticket", ticket_id=ticket.id))
    return (
        render_template(
            "dispatch/new_visit.html",
            ticket=ticket,
            customer=customer,
            values=values,
            errors=errors,
            priorities=PRIORITY_CHOICES,
        ),
        422 if errors else 200,
    )


def _parse_visit(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any] | None:
    zone = ZoneInfo(_tz())
    out: dict[str, Any] = {
        "summary": values["summary"].strip(),
        "description": values["description"],
        "address": values["address"].strip(),
        "required_skills": [s for s in values["skills"].replace(";", ",").split(",") if s.strip()],
        "priority": values["priority"],
    }
    if not out["summary"]:
        errors["summary"] = _("Say what the visit is for.")
    if not out["address"]:
        errors["address"] = _("Enter the site's address.")
    for key in ("lat", "lon"):
        raw = values[key].strip().replace(",", ".")
        if not raw:
            out[key] = None
            continue
        try:
            out[key] = float(raw)
        except ValueError:
            errors[key] = _("A number in decimal degrees, e.g. 48.8566.")
    try:
        out["duration_min"] = int(values["duration_min"])
    except ValueError:
        errors["duration_min"] = _("A number of minutes.")
    try:
        d = date.fromisoformat(values["day"])
        out["window_start"] = datetime.combine(d, time.fromisoformat(values["start"]), zone)
        out["window_end"] = datetime.combine(d, time.fromisoformat(values["end"]), zone)
    except ValueError:
        errors["window_start"] = _("Enter a date and the start and end of the window.")
    return None if errors else out


# -- the technician's mobile page ------------------------------------------------------------


def _job_from_token(token: str) -> tuple[WorkOrder, Technician]:
    found = notify.read_job_token(token, service.current_settings())
    if found is None:
        abort(404)
    wo = db.session.get(WorkOrder, found[0])
    tech = db.session.get(Technician, found[1])
    # A link stops working once the job is given to someone else, and once the customer's
    # personal data is erased (the page would show what is left of their visit).
    if wo is None or tech is None or wo.technician_id != tech.id:
        abort(404)
    customer = db.session.get(Customer, wo.customer_id)
    if customer is None or customer.erased_at is not None:
        abort(404)
    return wo, tech


@bp.route("/m/jobs/<token>", methods=["GET", "POST"])
def technician_job(token: str) -> ResponseReturnValue:
    wo, tech = _job_from_token(token)
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "complete":
                service.complete(
                    db.session,
                    wo,
                    technician=tech,
                    source="mobile",
                    notes=request.form.get("notes", ""),
                    parts_used=_parts(request.form.get("parts_used", "")),
                    acknowledged_by=request.form.get("acknowledged_by", ""),
                )
            elif action in ("en_route", "on_site"):
                service.set_status(
                    db.session, wo, status=S(action), technician=tech, source="mobile"
                )
            else:
                abort(400)
        except service.NotToday:
            db.session.rollback()
            flash(
                _(
                    "This job is for %(day)s: you can set off on that day only.",
                    day=formatting.day(wo.window_start),
                ),
                "error",
            )
        except APIError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("Saved: %(status)s.", status=STATUS_LABELS[wo.status]), "success")
        return redirect(url_for("console.technician_job", token=token))
    customer = db.session.get(Customer, wo.customer_id)
    settings = service.current_settings()
    page = render_template(
        "dispatch/mobile_job.html",
        wo=wo,
        tech=tech,
        customer=customer,
        phone=customer.phones[0].e164 if customer and customer.phones else "",
        token=token,
        status_labels=STATUS_LABELS,
        # "On my way" is for the visit's own day: it texts the customer an arrival time.
        on_the_day=wo.day == service.local_day(utcnow(), settings.timezone),
    )
    response = current_app.make_response(page)
    # The customer's name, number and address: never kept by a cache on the technician's phone.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the key: never pass it on
    return response


# -- technicians -----------------------------------------------------------------------------


@bp.get("/dispatch/technicians")
@role_required(*permissions.DISPATCH)
def dispatch_technicians() -> ResponseReturnValue:
    from helpdesk.sla.models import CalendarModel

    techs = list(db.session.scalars(select(Technician).order_by(Technician.name)))
    calendars = {c.id: c.name for c in db.session.scalars(select(CalendarModel))}
    return render_template(
        "dispatch/technicians.html",
        technicians=techs,
        calendars=calendars,
        tech_status_labels=TECH_STATUS_LABELS,
    )


@bp.route("/dispatch/technicians/new", methods=["GET", "POST"], endpoint="dispatch_technician_new")
@bp.route("/dispatch/technicians/<int:technician_id>", methods=["GET", "POST"])
@role_required(*permissions.DISPATCH)
def dispatch_technician(technician_id: int | None = None) -> ResponseReturnValue:
    from helpdesk.sla.models import CalendarModel

    tech = service.get_technician(db.session, technician_id) if technician_id else None
    form = request.form if request.method == "POST" else {}
    values = {
        "name": form.get("name", tech.name if tech else ""),
        "phone": form.get("phone", tech.phone if tech else ""),
        "language": form.get("language", tech.language if tech else "fr"),
        "skills": form.get("skills", ", ".join(tech.skills) if tech else ""),
        "home_lat": form.get("home_lat", str(tech.home_lat) if tech else ""),
        "home_lon": form.get("home_lon", str(tech.home_lon) if tech else ""),
        "calendar_id": form.get(
            "calendar_id", str(tech.calendar_id) if tech and tech.calendar_id else ""
        ),
        "max_jobs_per_day": form.get(
            "max_jobs_per_day", str(tech.max_jobs_per_day) if tech else "6"
        ),
        "active": "on"
        if (form.get("active") if request.method == "POST" else (tech is None or tech.active))
        else "",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        parsed = _parse_technician(values, errors)
        if parsed is not None:
            region = current_app.config["HELPDESK_DEFAULT_REGION"]
            try:
                if tech is None:
                    tech = service.create_technician(db.session, region=region, **parsed)
                else:
                    service.update_technician(db.session, tech, region=region, **parsed)
            except APIError as exc:
                db.session.rollback()
                errors.update(exc.fields or {"name": exc.message})
            else:
                audit_target(tech.id)
                flash(_("Technician %(name)s saved.", name=tech.name), "success")
                return redirect(url_for("console.dispatch_technicians"))
    calendars = list(db.session.scalars(select(CalendarModel).order_by(CalendarModel.name)))
    return (
        render_template(
            "dispatch/technician_form.html",
            tech=tech,
            values=values,
            errors=errors,
            calendars=calendars,
        ),
        422 if errors else 200,
    )


def _parse_technician(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any] | None:
    out: dict[str, Any] = {
        "name": values["name"].strip(),
        "phone": values["phone"].strip(),
        "language": values["language"] if values["language"] in ("fr", "en") else "fr",
        "skills": [s for s in values["skills"].replace(";", ",").split(",") if s.strip()],
        "active": bool(values["active"]),
        "calendar_id": int(values["calendar_id"]) if values["calendar_id"].isdigit() else None,
    }
    if not out["name"]:
        errors["name"] = _("Enter the technician's name.")
    for key in ("home_lat", "home_lon"):
        try:
            out[key] = float(values[key].strip().replace(",", "."))
        except ValueError:
            errors[key] = _("A number in decimal degrees, e.g. 48.8566.")
    try:
        out["max_jobs_per_day"] = int(values["max_jobs_per_day"])
        if not 1 <= out["max_jobs_per_day"] <= 30:
            raise ValueError
    except ValueError:
        errors["max_jobs_per_day"] = _("A number from 1 to 30.")
    return None if errors else out
