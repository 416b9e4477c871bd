"""The analytics pages: what the warehouse says about customers (RFM, cohorts, cost to serve,
the good/bad quadrants), from `helpdesk.warehouse`; this module words it in the reader's
language, looks up the names of the few customers shown, and hands charts their data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_timedelta, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from agents_ui import formatting, value_labels
from agents_ui.blueprint import bp, role_required
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.customers.models import Customer
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.warehouse import layout, rfm
from helpdesk.warehouse import service as warehouse
from helpdesk.warehouse import tasks as warehouse_tasks


def _(text: str, **values: Any) -> str:
    return str(gettext(text, **values))


RFM_NAMES: dict[str, Any] = {
    "champions": _l("Champions"),
    "loyal": _l("Loyal"),
    "new": _l("Newcomers"),
    "potential": _l("Potential"),
    "at_risk": _l("Drifting away"),
    "hibernating": _l("Hibernating"),
    "lost": _l("Lost"),
}
# RFM scores are fifths of the customers, so the hints say "than most" where the rule is a
# rank, and state the days where the rule has an absolute floor (helpdesk/warehouse/rfm.py).
RFM_HINTS: dict[str, Any] = {
    "champions": _l("Bought more lately and more often than most."),
    "loyal": _l("Buy more often than most."),
    "new": _l(
        "A first invoice in the last %(days)s days, at most %(n)s in all.",
        days=rfm.NEW_DAYS,
        n=rfm.NEW_MAX_INVOICES,
    ),
    "potential": _l("Bought lately, fewer invoices than most."),
    "at_risk": _l(
        "Bought more often than most, but nothing in the last %(days)s days: call them.",
        days=rfm.RECENT_DAYS,
    ),
    "hibernating": _l(
        "Fewer invoices than most, nothing in the last %(days)s days.", days=rfm.RECENT_DAYS
    ),
    "lost": _l(
        "Fewer invoices than most, nothing for more than %(days)s days.", days=rfm.LOST_DAYS
    ),
}
QUADRANT_NAMES: dict[str, Any] = {
    "good": _l("Good customers"),
    "demanding": _l("Demanding but worth it"),
    "quiet": _l("Small and quiet"),
    "costly": _l("Cost more than they bring"),
}
QUADRANT_HINTS: dict[str, Any] = {
    "good": _l("Revenue at or above the median, cost to serve below it."),
    "demanding": _l("Revenue and cost to serve both at or above the median."),
    "quiet": _l("Revenue and cost to serve both below the median."),
    "costly": _l("Cost to serve at or above the median, revenue below it."),
}
CHANNELS: dict[str, Any] = {
    "calls": _l("Calls"),
    "tickets": _l("Tickets"),
    "sms": _l("Texts"),
    "visits": _l("Field visits"),
}


def _freshness(status: dict[str, Any]) -> dict[str, Any]:
    exported = status["exported_at"]
    if exported is None:
        return {"exported": False, "running": status["running"]}
    at = datetime.fromisoformat(exported)
    return {
        "exported": True,
        "at": at,
        "ago": format_timedelta(at - utcnow(), add_direction=True),
        "running": status["running"],
    }


def _names(ids: set[int]) -> dict[int, str]:
    """Names of the few customers shown, from the operational database (never the files)."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Customer.id, Customer.name).where(Customer.id.in_(ids), Customer.erased_at.is_(None))
    )
    return {cid: name for cid, name in rows}


def _heat(value: float | None) -> str:
    """A CSS class for a retention cell: ten steps of colour, none for an empty cell."""
    return "" if value is None else f"heat-{min(int(value // 10), 9)}"


def _charts(found: dict[str, Any]) -> dict[str, Any]:
    rfm = [s for s in found["rfm"]["segments"] if s["customers"]]
    costs = found["costs"]
    quadrants = found["quadrants"]
    return {
        "rfm": {
            "type": "value",
            "labels": [str(RFM_NAMES[s["segment"]]) for s in rfm],
            "customers": [s["customers"] for s in rfm],
            "revenue": [round(s["revenue_cents"] / 100) for s in rfm],
            "cost": [],
            "names": {
                "customers": _("Customers"),
                "revenue": _("Revenue"),
                "cost": _("Cost to serve"),
            },
        },
        "costs": {
            "type": "stacked",
            "labels": costs["months"],
            "series": [
                {"label": str(CHANNELS[c]), "data": [round(m[c] / 100) for m in costs["by_month"]]}
                for c in CHANNELS
            ],
            "names": {"y": _("Cost to serve")},
        },
        "quadrants": {
            "type": "scatter",
            "series": [
                {"label": str(QUADRANT_NAMES[q]), "key": q, "data": quadrants["points"][q]}
                for q in QUADRANT_NAMES
            ],
            "names": {
                "x": _("Revenue (12 months)"),
                "y": _("Cost to serve (12 months)"),
            },
        },
    }


@bp.get("/analytics")
@role_required(*permissions.SUPERVISE)
def analytics_page() -> ResponseReturnValue:
    basis = request.args.get("cohorts", "invoices")
    if basis not in warehouse.BASES:
        basis = "invoices"
    status = warehouse.status()
    freshness = _freshness(status)
    found = warehouse.report(basis=basis) if freshness["exported"] else None
    names: dict[int, str] = {}
    if found:
        shown = {t["customer_key"] for top in found["quadrants"]["top"].values() for t in top}
        names = _names(shown)
    return render_template(
        "supervision/analytics.html",
        freshness=freshness,
        found=found,
        charts=_charts(found) if found else None,
        names=names,
        basis=basis,
        rfm_names=RFM_NAMES,
        rfm_hints=RFM_HINTS,
        quadrant_names=QUADRANT_NAMES,
        quadrant_hints=QUADRANT_HINTS,
        channels=CHANNELS,
        segment_name=value_labels.segment_name,
        money=value_labels.money,
        heat=_heat,
    )


@bp.post("/analytics/export")
@role_required(*permissions.SUPERVISE)
def analytics_export() -> ResponseReturnValue:
    """Run the export here when tasks run in this process (the embedded deployment), queue it
    for a worker otherwise; say which, and never claim an export that did not happen."""
    if layout.export_running(warehouse.directory()):
        audit_details({"outcome": "busy"})
        flash(_("An export is already running: the figures will refresh when it ends."), "info")
        return redirect(url_for("console.analytics_page"))
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        outcome = warehouse.export_now(db.session)
        if outcome["ran"]:
            audit_details({"outcome": "ran", "rows_written": outcome["rows_written"]})
            flash(
                _(
                    "Export done: %(rows)s rows written in %(seconds)s s.",
                    rows=outcome["rows_written"],
                    seconds=formatting.number(outcome["seconds"], 1),
                ),
                "success",
            )
        else:
            audit_details({"outcome": "busy"})
            flash(_("An export is already running: the figures will refresh when it ends."), "info")
    else:
        warehouse_tasks.export.delay()
        audit_details({"outcome": "queued"})
        flash(_("Export queued: a worker runs it now; reload this page in a few minutes."), "info")
    return redirect(url_for("console.analytics_page"))
