"""Administrators' pages for service levels: business calendars and policies.

Saving goes through the SLA API's own input models and the service functions the API saves with
(`helpdesk.sla.service.save_calendar`, `helpdesk.sla.policies.save_policy`), so a calendar or
policy saved here is exactly what the API would have saved, with the same re-planning of running
clocks. A refusal comes back as the form with the reasons next to the fields and a 4xx status,
never a 500.
"""

from __future__ import annotations

from typing import Any

from babel.dates import get_day_names
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from pydantic import ValidationError

from agents_ui import labels, sla_display
from agents_ui.blueprint import bp, role_required
from agents_ui.queries import all_groups, calendars, policies
from agents_ui.sla_display import duration
from agents_ui.sla_forms import WEEKDAYS, CalendarForm, PolicyForm
from helpdesk.audit.recorder import audit_target
from helpdesk.auth import permissions
from helpdesk.errors import APIError, NotFound
from helpdesk.extensions import db
from helpdesk.sla import api as sla_api
from helpdesk.sla import policies as policy_writes
from helpdesk.sla import service as sla_service
from helpdesk.sla.calendar import TimeRange
from helpdesk.sla.models import CalendarModel, SlaPolicy
from helpdesk.sla.rules import PRIORITIES


def _calendar(calendar_id: int) -> CalendarModel:
    found = db.session.get(CalendarModel, calendar_id)
    if found is None:
        raise NotFound(f"no calendar {calendar_id}")
    return found


def _policy(policy_id: int) -> SlaPolicy:
    found = db.session.get(SlaPolicy, policy_id)
    if found is None:
        raise NotFound(f"no policy {policy_id}")
    return found


def _day_names() -> list[str]:
    """Monday first, in the agent's language."""
    names = get_day_names("wide", locale=get_locale())
    return [str(names[i]) for i in range(7)]


def _pydantic_fields(exc: ValidationError) -> dict[str, str]:
    return {".".join(str(p) for p in err["loc"]): err["msg"] for err in exc.errors()}


# -- calendars -------------------------------------------------------------------------------


def _hours_summary(calendar: CalendarModel) -> list[tuple[str, str]]:
    """(weekday, "08:00-12:30, 13:30-19:00") for the days that open, overnight ranges marked."""
    names = _day_names()
    out = []
    for index, day in enumerate(WEEKDAYS):
        ranges = []
        for start, end in (calendar.weekly or {}).get(day, []):
            text = f"{start}\N{EN DASH}{end}"
            if TimeRange.parse(start, end).overnight:
                text += " " + _("(overnight)")
            ranges.append(text)
        if ranges:
            out.append((names[index], ", ".join(ranges)))
    return out


@bp.get("/sla/calendars")
@role_required(*permissions.ADMINISTER)
def sla_calendars() -> ResponseReturnValue:
    now = sla_display.now()
    rows = [
        {
            "calendar": c,
            "open_now": sla_service.calendar_of(c).is_open(now),
            "hours": _hours_summary(c),
        }
        for c in calendars(db.session)
    ]
    return render_template("sla/calendars.html", rows=rows)


def _calendar_page(
    form: CalendarForm, calendar: CalendarModel | None, status: int = 200
) -> ResponseReturnValue:
    names = _day_names()
    open_now = (
        sla_service.calendar_of(calendar).is_open(sla_display.now())
        if calendar is not None and calendar.id
        else None
    )
    return render_template(
        "sla/calendar_form.html",
        form=form,
        calendar=calendar,
        days=list(zip(WEEKDAYS, names, strict=True)),
        open_now=open_now,
    ), status


def _save_calendar(form: CalendarForm, calendar: CalendarModel) -> ResponseReturnValue | None:
    """Save and return None, or return the form page with the reasons."""
    shown = calendar if calendar.id else None
    if not form.validate_on_submit():
        return _calendar_page(form, shown, 422)
    try:
        body = sla_api.CalendarIn(**form.body())
        sla_service.save_calendar(
            db.session,
            calendar,
            **body.model_dump(exclude={"exceptions"}),
            exceptions=body.exceptions,
        )
    except ValidationError as exc:
        problems = form.add_service_errors(_pydantic_fields(exc))
        status = 422
    except APIError as exc:
        db.session.rollback()
        problems = form.add_service_errors(exc.fields or {})
        status = exc.status
    else:
        return None
    for problem in problems:
        flash(problem, "error")
    return _calendar_page(form, shown, status)


@bp.route("/sla/calendars/new", methods=["GET", "POST"])
@role_required(*permissions.ADMINISTER)
def sla_calendar_new() -> ResponseReturnValue:
    if not _posted():
        # Weekdays nine to six, a common start that is quicker to adjust than to type.
        office = {day: [{"start": "09:00", "end": "18:00"}] for day in WEEKDAYS[:5]}
        return _calendar_page(CalendarForm(formdata=None, data=office), None)
    form = CalendarForm()
    calendar = CalendarModel()
    refused = _save_calendar(form, calendar)
    if refused is not None:
        return refused
    audit_target(calendar.id)
    flash(_("Calendar “%(name)s” created.", name=calendar.name), "success")
    return redirect(url_for("console.sla_calendars"))


@bp.route("/sla/calendars/<int:calendar_id>", methods=["GET", "POST"])
@role_required(*permissions.ADMINISTER)
def sla_calendar(calendar_id: int) -> ResponseReturnValue:
    calendar = _calendar(calendar_id)
    if not _posted():
        return _calendar_page(CalendarForm.for_calendar(calendar), calendar)
    form = CalendarForm()
    refused = _save_calendar(form, calendar)
    if refused is not None:
        return refused
    flash(_("Calendar “%(name)s” saved.", name=calendar.name), "success")
    return redirect(url_for("console.sla_calendars"))


def _posted() -> bool:
    return request.method == "POST"


# -- policies --------------------------------------------------------------------------------


def _menus() -> dict[str, list[tuple[str, str]]]:
    return {
        "calendars": [(str(c.id), c.name) for c in calendars(db.session)],
        "groups": [(str(g.id), g.name) for g in all_groups(db.session)],
    }


def _conditions_summary(policy: SlaPolicy, groups: dict[int, str]) -> list[str]:
    conditions = policy.conditions or {}
    out = []
    if conditions.get("channel"):
        names = ", ".join(labels.label(labels.CHANNEL, c) for c in conditions["channel"])
        out.append(_("Channel: %(names)s", names=names))
    if conditions.get("priority"):
        names = ", ".join(labels.label(labels.PRIORITY, p) for p in conditions["priority"])
        out.append(_("Priority: %(names)s", names=names))
    if conditions.get("group_id"):
        names = ", ".join(groups.get(g, f"#{g}") for g in conditions["group_id"])
        out.append(_("Group: %(names)s", names=names))
    if conditions.get("customer_tags"):
        out.append(_("Customer tagged: %(tags)s", tags=", ".join(conditions["customer_tags"])))
    return out


def _targets_summary(policy: SlaPolicy) -> list[dict[str, Any]]:
    targets = policy.targets or {}
    return [
        {
            "priority": p,
            "values": {m: duration(s) for m, s in (targets.get(p) or {}).items()},
        }
        for p in reversed(PRIORITIES)
        if p in targets
    ]


@bp.get("/sla/policies")
@role_required(*permissions.ADMINISTER)
def sla_policies() -> ResponseReturnValue:
    groups = {g.id: g.name for g in all_groups(db.session)}
    rows = [
        {
            "policy": p,
            "conditions": _conditions_summary(p, groups),
            "targets": _targets_summary(p),
        }
        for p in policies(db.session)
    ]
    return render_template(
        "sla/policies.html", rows=rows, has_calendars=bool(calendars(db.session))
    )


def _policy_page(
    form: PolicyForm, policy: SlaPolicy | None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "sla/policy_form.html",
        form=form,
        policy=policy,
        priorities=list(reversed(PRIORITIES)),
        metrics=("first_response", "next_response", "resolution"),
    ), status


def _save_policy(form: PolicyForm, policy: SlaPolicy) -> ResponseReturnValue | None:
    if not form.validate_on_submit():
        return _policy_page(form, policy if policy.id else None, 422)
    try:
        body = sla_api.PolicyIn(**form.body())
        policy_writes.save_policy(db.session, policy, **body.model_dump())
    except ValidationError as exc:
        problems = form.add_service_errors(_pydantic_fields(exc))
        status = 422
    except APIError as exc:
        db.session.rollback()
        problems = form.add_service_errors(exc.fields or {})
        status = exc.status
    else:
        return None
    for problem in problems:
        flash(problem, "error")
    return _policy_page(form, policy if policy.id else None, status)


@bp.route("/sla/policies/new", methods=["GET", "POST"])
@role_required(*permissions.ADMINISTER)
def sla_policy_new() -> ResponseReturnValue:
    form = PolicyForm(**_menus())
    if not _posted():
        return _policy_page(form, None)
    policy = SlaPolicy()
    refused = _save_policy(form, policy)
    if refused is not None:
        return refused
    audit_target(policy.id)
    flash(_("Policy “%(name)s” created.", name=policy.name), "success")
    return redirect(url_for("console.sla_policies"))


@bp.route("/sla/policies/<int:policy_id>", methods=["GET", "POST"])
@role_required(*permissions.ADMINISTER)
def sla_policy(policy_id: int) -> ResponseReturnValue:
    policy = _policy(policy_id)
    menus = _menus()
    if not _posted():
        return _policy_page(PolicyForm.for_policy(policy, **menus), policy)
    form = PolicyForm(**menus)
    refused = _save_policy(form, policy)
    if refused is not None:
        return refused
    flash(_("Policy “%(name)s” saved.", name=policy.name), "success")
    return redirect(url_for("console.sla_policies"))
