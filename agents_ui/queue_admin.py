"""Call queues from the console (admins): the list, a new queue, every setting of one, and its
deactivation.

Checked by the API's rules (`QueueIn`, `RecordingPolicyIn`) and saved by the same services as
`/api/v1/queues` and `/api/v1/queues/{id}/recording`, so the console accepts nothing the API
refuses: a unique name, bounded timeouts, overflows to another active queue and never in a loop,
and no deactivation of a queue that an IVR key or another queue still sends callers to (the page
lists them first). The console refuses, besides, a skill that no agent holds: a typing mistake
there would leave the queue's callers waiting for nobody. Routing reads the queues at each
dispatch: a saved change applies to the next call offered. Each change is audited
(helpdesk/audit/actions.py).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from agents_ui import form_input, queue_forms
from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.auth import permissions
from helpdesk.extensions import db
from helpdesk.sla.models import CalendarModel
from telephony import ivr, ivr_queues, queues, recordings
from telephony.models import CallQueue
from telephony.queues_api import QueueIn
from telephony.recordings_api import RecordingPolicyIn


def _queue(queue_id: int) -> CallQueue:
    queue = db.session.get(CallQueue, queue_id)
    if queue is None:
        abort(404)
    return queue


def _menu() -> dict[str, str]:
    return ivr_queues.menu_queues(ivr.load(current_app.instance_path))


def _choices(queue: CallQueue | None) -> dict[str, Any]:
    """The menus' options: other active queues, calendars, the skills agents hold."""
    others = db.session.scalars(select(CallQueue).where(CallQueue.active).order_by(CallQueue.name))
    names = [q.name for q in others if queue is None or q.id != queue.id]
    calendars = db.session.scalars(select(CalendarModel).order_by(CalendarModel.name))
    return {
        "queues": names,
        "queue_options": [(name, name) for name in names],
        "calendars": [(str(c.id), c.name) for c in calendars],
        "skills": queues.known_skills(db.session),
    }


def _form_page(
    queue: CallQueue | None, vals: dict[str, Any], errors: dict[str, str], status: int = 200
) -> tuple[str, int]:
    return render_template(
        "admin/queue.html",
        queue=queue,
        values=queue_forms.with_blank_rows(vals),
        errors=errors,
        # Shown on their rows; whatever else was refused is listed above the form.
        step_errors=[key for key in errors if key.startswith("steps.")],
        choices=_choices(queue),
        referrers=queues.referrers_of(db.session, queue, menu=_menu()) if queue else [],
        form=ActionForm(),
    ), status


@bp.get("/admin/queues")
@role_required(*permissions.ADMINISTER)
def admin_queues() -> ResponseReturnValue:
    rows = db.session.scalars(
        select(CallQueue).order_by(CallQueue.active.desc(), CallQueue.name)
    ).all()
    return render_template(
        "admin/queues.html",
        queues=rows,
        waiting=queues.waiting_by_queue(db.session),
        dead_keys=ivr_queues.menu_dead_keys(db.session, current_app.instance_path),
    )


@bp.get("/admin/queues/new")
@role_required(*permissions.ADMINISTER)
def admin_queue_new() -> ResponseReturnValue:
    return _form_page(None, queue_forms.blank(), {})


def _save(queue: CallQueue) -> CallQueue:
    """Check the form as the API would, then save the queue and its recording setting; raises
    `form_input.Refused` with nothing saved."""
    refused: dict[str, str] = {}
    try:
        policy = form_input.check(RecordingPolicyIn, queue_forms.recording(request.form))
    except form_input.Refused as exc:
        refused = exc.errors
    try:
        body = form_input.check(QueueIn, queue_forms.body(request.form))
    except form_input.Refused as exc:
        raise form_input.Refused({**refused, **exc.errors}) from exc
    if refused:
        raise form_input.Refused(refused)
    fields = body.model_dump()
    if body.after_hours is not None:
        fields["after_hours"] = body.after_hours.model_dump(exclude_none=True)
    saved = form_input.apply(
        lambda: queues.save_queue(db.session, queue, **fields, menu=_menu(), known_skills_only=True)
    )
    recordings.save_policy(
        db.session,
        queue_id=saved.id,
        mode=policy.mode,
        retention_days=policy.retention_days,
        restricted=policy.restricted,
    )
    audit_details({**body.model_dump(mode="json"), "recording": policy.model_dump(mode="json")})
    return saved


@bp.post("/admin/queues/new")
@role_required(*permissions.ADMINISTER)
def admin_queue_create() -> ResponseReturnValue:
    try:
        queue = _save(CallQueue())
    except form_input.Refused as refused:
        db.session.rollback()
        errors = queue_forms.said(refused.errors)
        return _form_page(None, queue_forms.values(request.form), errors, status=422)
    audit_target(queue.id)
    flash(_("Queue %(name)s created.", name=queue.name), "success")
    return redirect(url_for("console.admin_queue", queue_id=queue.id))


@bp.get("/admin/queues/<int:queue_id>")
@role_required(*permissions.ADMINISTER)
def admin_queue(queue_id: int) -> ResponseReturnValue:
    queue = _queue(queue_id)
    policy = recordings.policy_for(db.session, queue.id)
    return _form_page(queue, queue_forms.values_of(queue, policy), {})


@bp.post("/admin/queues/<int:queue_id>")
@role_required(*permissions.ADMINISTER)
def admin_queue_update(queue_id: int) -> ResponseReturnValue:
    queue = _queue(queue_id)
    try:
        _save(queue)
    except form_input.Refused as refused:
        db.session.rollback()
        errors = queue_forms.said(refused.errors)
        return _form_page(_queue(queue_id), queue_forms.values(request.form), errors, status=422)
    flash(_("Changes saved."), "success")
    return redirect(url_for("console.admin_queue", queue_id=queue_id))


@bp.post("/admin/queues/<int:queue_id>/deactivate")
@role_required(*permissions.ADMINISTER)
def admin_queue_deactivate(queue_id: int) -> ResponseReturnValue:
    """Deactivate a queue, keeping its settings: refused (and said why) while callers are still
    sent to it."""
    queue = _queue(queue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = queue.name
    try:
        form_input.apply(lambda: queues.deactivate(db.session, queue, menu=_menu()))
    except form_input.Refused as refused:
        db.session.rollback()
        reason = queue_forms.said(refused.errors).get("active", "")
        flash(_("%(name)s was not deactivated.", name=name) + " " + reason, "error")
        return redirect(url_for("console.admin_queue", queue_id=queue_id))
    audit_details({"name": name, "active": False})
    flash(_("Queue %(name)s deactivated: it takes no new callers.", name=name), "success")
    return redirect(url_for("console.admin_queues"))
