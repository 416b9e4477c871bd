"""The IVR editor (administrators): the menus, their limits and every prompt in French and
English, a preview of a path through the unsaved form, and the published versions with their
rollback.

Saved by `telephony.ivr_versions`, which checks a configuration (`telephony.ivr_rules`) before
callers hear it; the preview follows the webhooks' own decisions (`telephony.ivr_path`). Each
publication and rollback is written to the audit log (helpdesk/audit/actions.py).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from agents_ui import ivr_form
from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.auth import permissions
from helpdesk.errors import NotFound
from helpdesk.extensions import db
from telephony import ivr_path, ivr_rules, ivr_versions
from telephony.models import CallQueue


def _queues() -> list[CallQueue]:
    return list(db.session.scalars(select(CallQueue).order_by(CallQueue.name)))


def _config_of(version_id: int) -> dict[str, Any]:
    try:
        return ivr_versions.config_of(
            db.session, version_id=version_id, instance_path=current_app.instance_path
        )
    except NotFound:
        abort(404)


def _editor(
    values: dict[str, str],
    errors: dict[str, str],
    *,
    steps: list[ivr_path.Step] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    active_id, _config = ivr_versions.current(db.session, current_app.instance_path)
    queues = _queues()
    queue_active = {q.name: q.active for q in queues}

    def queue_list(value: str) -> list[tuple[str, str]]:
        """The queues to choose from; one the configuration names that is gone, marked so."""
        out = [("", _("Choose a queue"))]
        out += [(q.name, q.name if q.active else f"{q.name} — {_('inactive')}") for q in queues]
        if value and value not in queue_active:
            out.append((value, f"{value} — {_('does not exist')}"))
        return out

    def action_choices(blank: bool, actions: tuple[str, ...]) -> list[tuple[str, str]]:
        out = [("", str(ivr_form.ACTION_LABELS[""]))] if blank else []
        return out + [(a, str(ivr_form.ACTION_LABELS[a])) for a in actions]

    return render_template(
        "admin/ivr.html",
        queue_active=queue_active,
        queue_list=queue_list,
        action_choices=action_choices,
        values=values,
        errors=errors,
        steps=steps,
        active_id=active_id,
        keys=ivr_rules.KEYS,
        languages=ivr_rules.LANGUAGES,
        menu_actions=ivr_rules.MENU_ACTIONS,
        route_actions=ivr_rules.ROUTE_ACTIONS,
        prompt_groups=ivr_form.prompt_groups(),
        prompt_labels=ivr_form.PROMPT_LABELS,
        form_labels=ivr_form.FORM_LABELS,
        prompt_name=ivr_form.prompt_name,
        required_placeholders=ivr_rules.required_placeholders,
        status_names=ivr_rules.status_names(),
    ), status


@bp.get("/admin/ivr")
@role_required(*permissions.ADMINISTER)
def admin_ivr() -> ResponseReturnValue:
    """The editor, filled with what callers hear now, or with an earlier version (`?from=`)."""
    from_id = request.args.get("from", type=int)
    if from_id is None:
        _id, config = ivr_versions.current(db.session, current_app.instance_path)
        return _editor(ivr_form.values_of(config), {})
    values = ivr_form.values_of(_config_of(from_id))
    values["note"] = _("From version %(number)d", number=from_id)
    return _editor(values, {})


@bp.post("/admin/ivr")
@role_required(*permissions.ADMINISTER)
def admin_ivr_publish() -> ResponseReturnValue:
    """Publish the form as a new version; or, with the preview button, only say where the
    typed keys lead with it (nothing saved)."""
    _id, base = ivr_versions.current(db.session, current_app.instance_path)
    config, problems = ivr_form.draft(base, request.form)
    values = {key: request.form.get(key, "") for key in request.form if key != "csrf_token"}
    if "preview" in request.form:
        problems += ivr_rules.check(config, ivr_versions.queues(db.session))
        caller = request.form.get("caller", "")
        steps = ivr_path.walk(
            config,
            ivr_path.parse_keys(request.form.get("path", "")),
            language=caller if caller in ivr_rules.LANGUAGES else None,
        )
        return _editor(values, ivr_form.messages(problems), steps=steps)
    note = request.form.get("note", "")
    try:
        if problems:  # the form's own, with every other one, all shown at once
            problems += ivr_versions.check(db.session, config=config, note=note)
            raise ivr_versions.Refused(problems)
        version = ivr_versions.publish(db.session, config=config, note=note, actor=current_user)
    except ivr_versions.Refused as refused:
        db.session.rollback()
        flash(_("Nothing was published: correct the fields marked below."), "error")
        return _editor(values, ivr_form.messages(refused.problems), status=422)
    audit_target(version.id)
    audit_details({"version": version.id, "note": version.note})
    flash(_("Version %(number)d published: callers hear it now.", number=version.id), "success")
    return redirect(url_for("console.admin_ivr"))


@bp.get("/admin/ivr/versions")
@role_required(*permissions.ADMINISTER)
def admin_ivr_versions() -> ResponseReturnValue:
    active_id, _config = ivr_versions.current(db.session, current_app.instance_path)
    return render_template(
        "admin/ivr_versions.html",
        rows=ivr_versions.history(db.session),
        active_id=active_id,
        form=ActionForm(),
    )


@bp.get("/admin/ivr/versions/<int:version_id>")
@role_required(*permissions.ADMINISTER)
def admin_ivr_version(version_id: int) -> ResponseReturnValue:
    """One version, read only: its menu and prompts as published (0: the packaged file)."""
    config = _config_of(version_id)
    version = ivr_versions.get(db.session, version_id) if version_id else None
    active_id, _config = ivr_versions.current(db.session, current_app.instance_path)
    return render_template(
        "admin/ivr_version.html",
        version=version,
        version_id=version_id,
        config=config,
        active_id=active_id,
        prompt_groups=ivr_form.prompt_groups(),
        prompt_labels=ivr_form.PROMPT_LABELS,
        form_labels=ivr_form.FORM_LABELS,
        action_labels=ivr_form.ACTION_LABELS,
        languages=ivr_rules.LANGUAGES,
        form=ActionForm(),
    )


@bp.post("/admin/ivr/versions/<int:version_id>/rollback")
@role_required(*permissions.ADMINISTER)
def admin_ivr_rollback(version_id: int) -> ResponseReturnValue:
    """Publish a copy of an earlier version: refused, with the reasons, when it now leads
    somewhere that no longer takes callers (a queue since deactivated)."""
    _config_of(version_id)  # 404 for an unknown version
    if not ActionForm().validate_on_submit():
        return redirect(url_for("console.admin_ivr_version", version_id=version_id))
    note = _("Rollback to version %(number)d", number=version_id)
    try:
        version = ivr_versions.rollback(
            db.session,
            version_id=version_id,
            instance_path=current_app.instance_path,
            actor=current_user,
            note=note,
        )
    except ivr_versions.Refused as refused:
        db.session.rollback()
        for field, text in ivr_form.messages(refused.problems).items():
            flash(f"{field}: {text}", "error")
        flash(_("Not rolled back: open this version in the editor to correct it."), "error")
        return redirect(url_for("console.admin_ivr_version", version_id=version_id))
    audit_target(version.id)
    audit_details({"version": version.id, "copied_from": version_id})
    flash(_("Version %(number)d published: callers hear it now.", number=version.id), "success")
    return redirect(url_for("console.admin_ivr_versions"))
