"""Saved views in the console: saving the ticket list's current filters under a name, the menu
of views with their live counts (static/view_counts.js), and a page to rename, reorder, delete
and choose the default view.

Saved by the same service as `/api/v1/views`, with the same checks; changes to shared views are
written to the audit log (helpdesk/audit/actions.py).
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from agents_ui import labels
from agents_ui.account import me
from agents_ui.blueprint import bp
from agents_ui.queries import all_groups
from agents_ui.ticket_list import ASSIGNEE_CHOICES, SORTS, ListQuery, view_url
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.saved_views import service
from helpdesk.saved_views.models import SavedView

FILTER_KEYS = ("q", "status", "priority", "assignee", "group", "tag", "channel", "requester")


def describe(view: SavedView, groups: dict[int, str]) -> list[str]:
    """The view's filters and order in the agent's words, for the page that manages them."""
    f = view.filters
    said = []
    if f.get("status"):
        names = ", ".join(labels.label(labels.STATUS, s) for s in f["status"])
        said.append(_("Status: %(values)s", values=names))
    if f.get("priority"):
        said.append(_("Priority: %(value)s", value=labels.label(labels.PRIORITY, f["priority"])))
    if f.get("assignee"):
        said.append(_("Assignee: %(value)s", value=ASSIGNEE_CHOICES[f["assignee"]]))
    if f.get("group"):
        said.append(_("Group: %(value)s", value=groups.get(f["group"], f"#{f['group']}")))
    if f.get("channel"):
        said.append(_("Channel: %(value)s", value=labels.label(labels.CHANNEL, f["channel"])))
    if f.get("tag"):
        said.append(_("Tag: %(value)s", value=f["tag"]))
    if f.get("requester"):
        said.append(_("One customer's tickets"))
    if f.get("q"):
        said.append(_("Subject or reference: %(value)s", value=f["q"]))
    if not said:
        said.append(_("Every ticket"))
    said.append(str(SORTS.get(view.sort, SORTS["-created"])))
    return said


def _audit(view: SavedView) -> None:
    audit_target(view.id)
    audit_details({"shared": view.shared, "name": view.name})


def _filters_from(query: ListQuery) -> dict[str, Any]:
    return {k: v for k, v in query.args().items() if k in FILTER_KEYS}


def _refused(exc: ValidationFailed) -> None:
    """A refusal told in the agent's words (the field's name, what was wrong)."""
    db.session.rollback()
    fields = exc.fields or {}
    if "name" in fields:
        flash(_("Give the view a name of at most 80 characters."), "error")
    else:
        flash(_("These filters cannot be saved: %(why)s", why="; ".join(fields.values())), "error")


@bp.post("/tickets/views")
@login_required
def saved_view_create() -> ResponseReturnValue:
    query = ListQuery.from_args(request.form, default={"all": "1"})
    back = url_for("console.tickets", **query.args())
    try:
        view = service.create(
            db.session,
            actor=me(),
            name=request.form.get("name", ""),
            filters=_filters_from(query),
            sort=query.sort,  # type: ignore[arg-type]
            shared=request.form.get("shared") == "on",
        )
    except ValidationFailed as exc:
        _refused(exc)
        return redirect(back)
    _audit(view)
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    return redirect(view_url(view))


@bp.get("/tickets/views")
@login_required
def saved_views() -> ResponseReturnValue:
    user = me()
    views = service.visible(db.session, user=user)
    counts = service.counts(db.session, user=user, views=views)
    default = service.default_of(db.session, user=user)
    shared = [v for v in views if v.shared]
    personal = [v for v in views if not v.shared]
    group_names = {g.id: g.name for g in all_groups(db.session)}
    return render_template(
        "tickets/views.html",
        groups=[(_("Shared views"), shared), (_("My views"), personal)],
        counts=counts,
        default_id=default.id if default else None,
        may_change=lambda v: service.may_change(user, v),
        view_url=view_url,
        describe=lambda v: describe(v, group_names),
    )


def _get(view_id: int) -> SavedView:
    return service.get_visible(db.session, user=me(), view_id=view_id)


@bp.post("/tickets/views/<int:view_id>/rename")
@login_required
def saved_view_rename(view_id: int) -> Response:
    view = _get(view_id)
    try:
        service.update(db.session, actor=me(), view=view, name=request.form.get("name", ""))
    except ValidationFailed as exc:
        _refused(exc)
        return redirect(url_for("console.saved_views"))
    _audit(view)
    flash(_("View renamed “%(name)s”.", name=view.name), "success")
    return redirect(url_for("console.saved_views"))


@bp.post("/tickets/views/<int:view_id>/move")
@login_required
def saved_view_move(view_id: int) -> Response:
    view = _get(view_id)
    siblings = [v for v in service.visible(db.session, user=me()) if v.shared == view.shared]
    place = [v.id for v in siblings].index(view.id) + 1
    place += -1 if request.form.get("direction") == "up" else 1
    service.update(db.session, actor=me(), view=view, position=max(place, 1))
    _audit(view)
    return redirect(url_for("console.saved_views") + f"#view-{view.id}")


@bp.post("/tickets/views/<int:view_id>/delete")
@login_required
def saved_view_delete(view_id: int) -> Response:
    view = _get(view_id)
    _audit(view)
    name = view.name
    service.delete_view(db.session, actor=me(), view=view)
    flash(_("View “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("console.saved_views"))


@bp.post("/tickets/views/default")
@login_required
def saved_view_default() -> Response:
    chosen = request.form.get("view_id", "")
    view = _get(int(chosen)) if chosen.isdigit() else None
    service.set_default(db.session, user=me(), view=view)
    if view is None:
        flash(_("The ticket list opens on its usual default again."), "success")
    else:
        flash(_("The ticket list now opens on “%(name)s”.", name=view.name), "success")
    return redirect(url_for("console.saved_views"))


@bp.get("/tickets/views/counts")
@login_required
def saved_view_counts() -> Response:
    """For static/view_counts.js: one query for every view the user sees."""
    user = me()
    views = service.visible(db.session, user=user)
    counts = service.counts(db.session, user=user, views=views)
    return jsonify({"counts": {str(k): v for k, v in counts.items()}})
