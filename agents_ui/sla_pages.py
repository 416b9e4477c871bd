"""Service levels for everyone who watches them: the live connection's token, clock snapshots,
the list of targets at risk (supervisors) and the compliance report with its CSV export."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from agents_ui import sla_display
from agents_ui.account import me
from agents_ui.blueprint import bp, role_required
from agents_ui.queries import at_risk_clocks
from helpdesk.auth import permissions
from helpdesk.auth.login import this_console_session
from helpdesk.extensions import db
from helpdesk.realtime import issue_socket_token
from helpdesk.sla import service as sla_service

# Choices of the at-risk list: how far ahead a due target is listed (besides those at risk now).
HORIZONS: dict[str, Any] = {
    "900": _l("15 minutes"),
    "3600": _l("1 hour"),
    "14400": _l("4 hours"),
    "86400": _l("24 hours"),
}
DEFAULT_HORIZON = "3600"
SNAPSHOT_MAX = 100


@bp.get("/socket-token")
@login_required
def socket_token() -> Response:
    """A fresh token for the live connection; `static/sla.js` asks for one on each reconnect."""
    return jsonify({"token": issue_socket_token(me(), this_console_session())})


@bp.get("/sla/clocks")
@login_required
def sla_clocks() -> Response:
    """The clocks of the tickets on a page (`?ticket=1&ticket=2`), as the live events carry them:
    what the page reloads after a lost connection, and to keep overdue times current."""
    ids = [int(t) for t in request.args.getlist("ticket") if t.isdigit()][:SNAPSHOT_MAX]
    views = sla_service.views_for(db.session, list(dict.fromkeys(ids)))
    return jsonify({"clocks": {str(k): v for k, v in views.items()}})


@bp.get("/sla/at-risk")
@role_required(*permissions.SUPERVISE)
def sla_at_risk() -> ResponseReturnValue:
    horizon = request.args.get("within", DEFAULT_HORIZON)
    if horizon not in HORIZONS:
        horizon = DEFAULT_HORIZON
    now = sla_display.now()
    found = at_risk_clocks(db.session, now=now, within=timedelta(seconds=int(horizon)))
    views = sla_service.views_for(db.session, list({t.id for _, t in found}), now)
    rows = []
    for clock, ticket in found:
        view = next(
            v for v in views[ticket.id] if (v["metric"], v["cycle"]) == (clock.metric, clock.cycle)
        )
        rows.append(
            {
                "ticket": ticket,
                "clock": view,
                # When it became late, for a late clock; its deadline otherwise.
                "due_at": clock.breached_at or clock.due_at,
                "only": f"{clock.metric}:{clock.cycle}",
                "badge": sla_display.badge([view]),
            }
        )
    template = "sla/_at_risk_list.html" if request.args.get("fragment") == "list" else None
    return render_template(
        template or "sla/at_risk.html",
        rows=rows,
        views=views,
        horizons=HORIZONS,
        horizon=horizon,
    )
