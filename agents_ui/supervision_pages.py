"""Supervisors' pages: the wallboard (live), call reports, staffing (Erlang C) and customer
value. Figures come from `helpdesk.supervision` and `helpdesk.value`; this module reads the
forms, words the results in the reader's language and hands charts their data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from agents_ui import formatting, labels, value_labels
from agents_ui.account import me
from agents_ui.blueprint import bp, role_required
from agents_ui.customer_model_pages import model_summary
from agents_ui.sla_report import percent
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.auth.models import User
from helpdesk.db import utcnow
from helpdesk.errors import APIError
from helpdesk.extensions import db
from helpdesk.reporting.erlang import agents_needed
from helpdesk.supervision import live
from helpdesk.supervision import service as supervision
from helpdesk.supervision.api import report_csv
from helpdesk.supervision.monitoring import current_monitor
from helpdesk.supervision.reports import ReportSpec, call_report
from helpdesk.value import service as value_service
from telephony.monitoring import UnavailableMonitor


def _(text: str, **values: Any) -> str:
    """gettext, typed: the console's strings are always text."""
    return str(gettext(text, **values))


WAITING_SHOWN = 50
MAX_REPORT_DAYS = 400
REPORT_GROUPINGS: dict[str, Any] = {
    "interval": _l("15-minute interval"),
    "hour": _l("Hour"),
    "day": _l("Day"),
    "queue": _l("Queue"),
    "agent": _l("Agent"),
}
AGENT_STATES: dict[str, Any] = {
    "available": _l("Available"),
    "reserved": _l("Ringing"),
    "on_call": _l("On a call"),
    "wrap_up": _l("Wrap-up"),
    "break": _l("On break"),
    "offline": _l("Offline"),
}


def _queues() -> list[Any]:
    from telephony.models import CallQueue

    return list(
        db.session.scalars(select(CallQueue).where(CallQueue.active).order_by(CallQueue.name))
    )


# -- wallboard -------------------------------------------------------------------------------------


def _waiting_calls() -> list[dict[str, Any]]:
    """The callers in queue, those ringing at an agent included (the queue's figures count them
    as waiting until someone answers): each with the agent it rings, if any."""
    from telephony.models import Call, CallQueue

    now = utcnow()
    rows = db.session.execute(
        select(
            Call.id,
            Call.from_number,
            Call.enqueued_at,
            Call.priority,
            Call.routing_state,
            CallQueue.name,
            User.name.label("agent_name"),
        )
        .join(CallQueue, CallQueue.id == Call.queue_id)
        .outerjoin(User, (User.id == Call.agent_id) & (Call.routing_state == "offered"))
        .where(Call.routing_state.in_(("waiting", "offered")), Call.callback_requested.is_(False))
        .order_by(Call.priority.desc(), Call.enqueued_at)
        .limit(WAITING_SHOWN)
    )
    return [
        {
            "id": r.id,
            "from": r.from_number,
            "queue": r.name,
            "priority": r.priority,
            "waited_s": round((now - r.enqueued_at).total_seconds()) if r.enqueued_at else 0,
            "ringing": r.agent_name if r.routing_state == "offered" else None,
        }
        for r in rows
    ]


def _connected_calls() -> list[dict[str, Any]]:
    from telephony.models import Call

    rows = db.session.execute(
        select(Call.id, Call.agent_id, Call.answered_at)
        .where(Call.routing_state == "connected", Call.ended_at.is_(None))
        .order_by(Call.answered_at)
        .limit(200)
    )
    return [{"id": r.id, "agent_id": r.agent_id} for r in rows]


def _snapshot() -> dict[str, Any]:
    data = supervision.wallboard(db.session)
    named = {q.name: labels.queue_label(q) for q in _queues()}
    for q in data["queues"]:
        q["label"] = named.get(q["queue"], q["queue"])
    data["waiting"] = _waiting_calls()
    for c in data["waiting"]:
        c["from_display"] = formatting.phone(c["from"])
        c["queue_label"] = named.get(c["queue"], c["queue"])
    data["connected"] = _connected_calls()
    return data


def _monitoring_available() -> bool:
    return not isinstance(current_monitor(), UnavailableMonitor)


def wallboard_strings() -> dict[str, Any]:
    """Words the wallboard's script needs, in the reader's language."""
    return {
        "states": {k: str(v) for k, v in AGENT_STATES.items()},
        "alert_service_level": _("Service level under target in %(queue)s", queue="{queue}"),
        "alert_longest_wait": _("A caller has waited too long in %(queue)s", queue="{queue}"),
        "alert_cleared": _("Back within targets: %(queue)s", queue="{queue}"),
        "offered": _("Offered"),
        "answered": _("Answered"),
        "abandoned": _("Abandoned"),
        "service_level": _("Service level"),
        "no_waiting": _("Nobody is waiting."),
        "ringing": _("Ringing at %(name)s", name="{name}"),
        "no_agents": _("No agent has signed in today."),
        "moved": _("The call was moved."),
        "state_changed": _("The agent's state was changed."),
        "failed": _("That did not work; try again."),
        "live_off": _("Live updates paused: reconnecting…"),
    }


@bp.get("/wallboard")
@role_required(*permissions.SUPERVISE)
def wallboard() -> ResponseReturnValue:
    snapshot = _snapshot()
    return render_template(
        "supervision/wallboard.html",
        snapshot=snapshot,
        strings=wallboard_strings(),
        queues=_queues(),
        queue_names={q["queue"]: q["label"] for q in snapshot["queues"]},
        queue_label=labels.queue_label,
        states=AGENT_STATES,
        monitoring=_monitoring_available(),
        percent=percent,
    )


@bp.get("/wallboard/snapshot")
@role_required(*permissions.SUPERVISE)
def wallboard_snapshot() -> Response:
    """What the wallboard reloads after a lost connection, and its waiting-call list."""
    return jsonify(_snapshot())


def _action(run: Callable[[], str]) -> ResponseReturnValue:
    """Run a supervisor's action for a page script (JSON) or a plain form (redirect)."""
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        message = run()
    except APIError as exc:
        if wants_json:
            return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.status
        flash(exc.message, "error")
        return redirect(url_for("console.wallboard"))
    if wants_json:
        return jsonify({"ok": True, "message": message})
    flash(message, "success")
    return redirect(url_for("console.wallboard"))


@bp.post("/wallboard/agents/<int:agent_id>/state")
@role_required(*permissions.SUPERVISE)
def wallboard_agent_state(agent_id: int) -> ResponseReturnValue:
    state = request.form.get("state", "")

    def run() -> str:
        supervision.set_agent_state(
            db.session,
            supervisor=me(),
            agent_id=agent_id,
            state=state,
            reason=request.form.get("reason", "")[:100],
        )
        return _("The agent's state was changed.")

    return _action(run)


@bp.post("/wallboard/calls/<int:call_id>/move")
@role_required(*permissions.SUPERVISE)
def wallboard_move(call_id: int) -> ResponseReturnValue:
    def run() -> str:
        supervision.move_call(
            db.session, supervisor=me(), call_id=call_id, queue_name=request.form.get("queue", "")
        )
        return _("The call was moved.")

    return _action(run)


@bp.post("/wallboard/calls/<int:call_id>/monitor")
@role_required(*permissions.SUPERVISE)
def wallboard_monitor(call_id: int) -> ResponseReturnValue:
    def run() -> str:
        monitor = current_monitor()
        supervision.monitor_call(
            db.session,
            supervisor=me(),
            call_id=call_id,
            mode=request.form.get("mode", ""),
            monitor=monitor,
        )
        return _("Your phone will ring: answer to join the call.")

    return _action(run)


# -- call reports ----------------------------------------------------------------------------------


def _day_arg(name: str, default: date, errors: dict[str, str]) -> date:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        errors[name] = _("Not a date.")
        return default


def _report_query() -> tuple[ReportSpec, dict[str, str]]:
    today = date.fromisoformat(live.local_today())
    errors: dict[str, str] = {}
    start = _day_arg("start", today, errors)
    end = _day_arg("end", today, errors)
    if end < start:
        errors["end"] = _("The end date must not be before the start date.")
    elif (end - start).days >= MAX_REPORT_DAYS:
        errors["end"] = _("Choose at most %(days)s days.", days=MAX_REPORT_DAYS)
    by = request.args.get("by", "interval")
    if by not in REPORT_GROUPINGS:
        by = "interval"
    queue = request.args.get("queue", "").strip()[:50] or None
    spec = ReportSpec(start_day=start.isoformat(), end_day=end.isoformat(), by=by, queue=queue)
    return spec, errors


def _agent_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    ids = [int(r["key"]) for r in rows if str(r["key"]).isdigit()]
    if not ids:
        return {}
    return {str(u.id): u.name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _labelled(spec: ReportSpec, result: dict[str, Any]) -> dict[str, Any]:
    names = _agent_names(result["rows"]) if spec.by == "agent" else {}
    named = {q.name: labels.queue_label(q) for q in _queues()} if spec.by == "queue" else {}
    for row in result["rows"]:
        key = str(row["key"])
        row["label"] = names.get(key) or named.get(key) or key
    return result


def _sla_alongside(spec: ReportSpec) -> dict[str, Any] | None:
    """The ticket service-level compliance of the same days (helpdesk.sla.reports)."""
    from datetime import datetime, time

    from helpdesk.sla import reports as sla_reports
    from helpdesk.supervision.calllog import zone

    tz = zone()
    start = datetime.combine(date.fromisoformat(spec.start_day), time(0), tzinfo=tz)
    end = datetime.combine(date.fromisoformat(spec.end_day) + timedelta(days=1), time(0), tzinfo=tz)
    found = sla_reports.compliance(db.session, start=start, end=end, by="day", timezone=tz.key)
    overall = found.get("overall") or {}
    return overall if overall.get("total") else None


@bp.get("/reports/calls")
@role_required(*permissions.SUPERVISE)
def calls_report() -> ResponseReturnValue:
    spec, errors = _report_query()
    result = None if errors else _labelled(spec, call_report(db.session, spec))
    chart = None
    if result and result["rows"]:
        chart = {
            "type": "calls",
            "labels": [r["label"] for r in result["rows"]],
            "answered": [r["answered"] for r in result["rows"]],
            "abandoned": [r["abandoned"] for r in result["rows"]],
            "service_level": [
                None if r["service_level"] is None else round(r["service_level"] * 100, 1)
                for r in result["rows"]
            ],
            "names": {
                "answered": _("Answered"),
                "abandoned": _("Abandoned"),
                "calls": _("Calls"),
                "service_level": _("Service level (%)"),
            },
        }
    csv_args: dict[str, Any] = {
        "start": spec.start_day,
        "end": spec.end_day,
        "by": spec.by,
        **({"queue": spec.queue} if spec.queue else {}),
    }
    return render_template(
        "supervision/calls_report.html",
        spec=spec,
        errors=errors,
        result=result,
        chart=chart,
        groupings=REPORT_GROUPINGS,
        queues=_queues(),
        queue_label=labels.queue_label,
        csv_url=url_for("console.calls_report_csv", **csv_args),
        sla=_sla_alongside(spec) if not errors else None,
        percent=percent,
    )


@bp.get("/reports/calls.csv")
@role_required(*permissions.SUPERVISE)
def calls_report_csv() -> ResponseReturnValue:
    spec, errors = _report_query()
    if errors:
        return jsonify(
            {"error": {"code": "validation_error", "message": "invalid query", "fields": errors}}
        ), 422
    result = _labelled(spec, call_report(db.session, spec))
    for row in result["rows"]:
        row["key"] = row["label"]
    return Response(
        report_csv(result, str(REPORT_GROUPINGS[spec.by])),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="calls-{spec.by}-{spec.start_day}'
            f'-{spec.end_day}.csv"'
        },
    )


# -- staffing --------------------------------------------------------------------------------------

STAFFING_FIELDS: dict[str, tuple[float, float, float]] = {
    # name: (default, lowest, highest)
    "calls": (100, 0, 1_000_000),
    "interval_min": (30, 1, 1440),
    "aht_s": (180, 1, 86_400),
    "answer_within_s": (20, 0, 86_400),
    "service_level": (80, 1, 99.9),
    "max_occupancy": (100, 1, 100),
    "shrinkage": (0, 0, 90),
}


def _number(name: str, errors: dict[str, str]) -> float:
    default, low, high = STAFFING_FIELDS[name]
    text = request.args.get(name, "").strip().replace(",", ".")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        errors[name] = _("Enter a number.")
        return default
    if not low <= value <= high:
        errors[name] = _("Between %(low)s and %(high)s.", low=f"{low:g}", high=f"{high:g}")
        return default
    return value


def _staffing(values: dict[str, float], calls: float, aht_s: float, interval_s: float) -> Any:
    return agents_needed(
        calls=calls,
        interval_s=interval_s,
        aht_s=aht_s,
        answer_within_s=values["answer_within_s"],
        service_level=values["service_level"] / 100,
        max_occupancy=values["max_occupancy"] / 100,
        shrinkage=values["shrinkage"] / 100,
    )


def _observed(values: dict[str, float], day: str, queue: str | None) -> dict[str, Any]:
    """Agents needed per 15-minute interval of a past day, from its logged calls and their
    observed handle time (the form's handle time where an interval has no completed call)."""
    result = call_report(
        db.session, ReportSpec(start_day=day, end_day=day, by="interval", queue=queue)
    )
    rows = []
    for r in result["rows"]:
        if not r["offered"]:
            continue
        aht = r["aht_s"] or values["aht_s"]
        s = _staffing(values, r["offered"], aht, 900)
        rows.append(
            {
                "start": r["key"][-5:],
                "calls": r["offered"],
                "aht_s": aht,
                "agents": s.agents,
                "scheduled": s.scheduled,
                "service_level": s.service_level,
                "occupancy": s.occupancy,
            }
        )
    return {"day": day, "queue": queue, "rows": rows}


@bp.get("/staffing")
@role_required(*permissions.SUPERVISE)
def staffing_page() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    values = {name: _number(name, errors) for name in STAFFING_FIELDS}
    result = None
    if not errors and request.args:
        try:
            result = _staffing(
                values, values["calls"], values["aht_s"], values["interval_min"] * 60
            )
        except ValueError:
            errors["calls"] = _("More agents than this calculator handles.")
    observed = None
    chart = None
    day = request.args.get("day", "").strip()[:10]
    if day and not errors:
        try:
            date.fromisoformat(day)
        except ValueError:
            errors["day"] = _("Not a date.")
        else:
            observed = _observed(values, day, request.args.get("queue", "").strip() or None)
            if observed["rows"]:
                chart = {
                    "type": "staffing",
                    "labels": [r["start"] for r in observed["rows"]],
                    "agents": [r["agents"] for r in observed["rows"]],
                    "calls": [r["calls"] for r in observed["rows"]],
                    "names": {"agents": _("Agents needed"), "calls": _("Calls offered")},
                }
    return render_template(
        "supervision/staffing.html",
        values=values,
        errors=errors,
        result=result,
        observed=observed,
        chart=chart,
        day=day or live.local_today(),
        queues=_queues(),
        queue_label=labels.queue_label,
        selected_queue=request.args.get("queue", ""),
        percent=percent,
    )


# -- customer value --------------------------------------------------------------------------------


@bp.get("/value")
@role_required(*permissions.SUPERVISE)
def value_report() -> ResponseReturnValue:
    found = value_service.report(db.session)
    segments = [
        {
            **s,
            "name": value_labels.segment_name(s["segment"]),
            "hint": str(value_labels.SEGMENT_HINTS.get(s["segment"], "")),
            "revenue": value_labels.money(s["revenue_cents"]),
            "cost": value_labels.money(s["cost_cents"]),
        }
        for s in found["segments"]
    ]
    chart = None
    if segments:
        chart = {
            "type": "value",
            "labels": [s["name"] for s in segments],
            "customers": [s["customers"] for s in segments],
            "revenue": [round(s["revenue_cents"] / 100) for s in segments],
            "cost": [round(s["cost_cents"] / 100) for s in segments],
            "names": {
                "customers": _("Customers"),
                "revenue": _("Revenue (12 months)"),
                "cost": _("Cost to serve (12 months)"),
            },
        }
    lists = {
        key: [value_labels.explained(v) for v in found[key]]
        for key in ("best", "costly", "at_risk")
    }
    return render_template(
        "supervision/value.html",
        models=model_summary(),
        rules=value_labels.segment_rules(),
        segments=segments,
        lists=lists,
        chart=chart,
        computed_at=datetime.fromisoformat(found["computed_at"]) if found["computed_at"] else None,
        segment_name=value_labels.segment_name,
    )


@bp.post("/value/recompute")
@role_required(*permissions.SUPERVISE)
def value_recompute() -> ResponseReturnValue:
    counts = value_service.recompute_all(db.session)
    audit_details(value_service.recompute_counts(counts))
    flash(_("Customer values recomputed: %(n)s customers.", n=sum(counts.values())), "success")
    return redirect(url_for("console.value_report"))


def customer_value(customer_id: int) -> dict[str, Any] | None:
    """The customer page's value panel (None before the first recompute)."""
    found = value_service.value_of(db.session, customer_id)
    return value_labels.explained(value_service.value_dict(found)) if found else None
