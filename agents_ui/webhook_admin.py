"""Outgoing webhooks from the console (admins): subscriptions, their signing secret (shown once,
right after it is made), enabling and disabling, and the delivery log.

Checked by the API's rules (`WebhookIn`, `WebhookPatch`) and saved by the same service as
`/api/v1/webhooks`; each change is written to the audit log (helpdesk/audit/actions.py), never
with the secret.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from agents_ui import form_input
from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.auth import permissions
from helpdesk.errors import NotFound
from helpdesk.extensions import db
from helpdesk.pagination import BadCursor
from helpdesk.webhooks import subscriptions as service
from helpdesk.webhooks.api import WebhookIn, WebhookPatch
from helpdesk.webhooks.models import WebhookSubscription
from helpdesk.webhooks.policy import EVENT_TYPES

LOG_PAGE = 50
# Shown by base.html in its own box: the secret is in no other page, and in no log.
SECRET_FLASH = "secret"  # noqa: S105 - the flash category, not a secret


def _sub(webhook_id: int) -> WebhookSubscription:
    try:
        return service.get(db.session, webhook_id)
    except NotFound:
        abort(404)


def _input(form: MultiDict[str, str]) -> dict[str, Any]:
    return {
        "url": form.get("url", "").strip(),
        "description": form.get("description", "").strip(),
        "event_types": form.getlist("event_types"),
        "active": form.get("active") == "on",
    }


def _by_field(errors: dict[str, str]) -> dict[str, str]:
    """`event_types.1` becomes `event_types`: shown once under the boxes."""
    out: dict[str, str] = {}
    for key, text in errors.items():
        out.setdefault(key.partition(".")[0], text)
    return out


def _values_of(sub: WebhookSubscription) -> dict[str, Any]:
    return {
        "url": sub.url,
        "description": sub.description,
        "event_types": list(sub.event_types or []),
        "active": sub.active,
    }


def _list_page(
    values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> tuple[str, int]:
    return render_template(
        "admin/webhooks.html",
        subscriptions=service.list_all(db.session),
        values=values,
        errors=errors,
        event_types=EVENT_TYPES,
    ), status


def _detail_page(
    sub: WebhookSubscription,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    try:
        log = service.attempts(db.session, sub, limit=LOG_PAGE, cursor=request.args.get("cursor"))
    except BadCursor:
        log = service.attempts(db.session, sub, limit=LOG_PAGE)
    return render_template(
        "admin/webhook.html",
        sub=sub,
        values=values or _values_of(sub),
        errors=errors or {},
        event_types=EVENT_TYPES,
        log=log,
        form=ActionForm(),
    ), status


@bp.context_processor
def _failed_out_notice() -> dict[str, Any]:
    """For the administrators' banner (base.html): called only on their pages."""
    return {"webhooks_failed_out": lambda: service.failed_out_count(db.session)}


@bp.get("/admin/webhooks")
@role_required(*permissions.ADMINISTER)
def admin_webhooks() -> ResponseReturnValue:
    blank = {"url": "", "description": "", "event_types": list(EVENT_TYPES), "active": True}
    return _list_page(blank, {})


@bp.post("/admin/webhooks")
@role_required(*permissions.ADMINISTER)
def admin_webhook_create() -> ResponseReturnValue:
    data = _input(request.form)
    try:
        body = form_input.check(WebhookIn, data)
        sub = form_input.apply(
            lambda: service.create(
                db.session,
                actor=current_user._get_current_object(),
                url=body.url,
                event_types=body.event_types,
                description=body.description,
                active=body.active,
            )
        )
    except form_input.Refused as refused:
        db.session.rollback()
        return _list_page(data, _by_field(refused.errors), status=422)
    audit_target(sub.id)
    audit_details(body.model_dump(mode="json"))
    flash(sub.secret, SECRET_FLASH)
    return redirect(url_for("console.admin_webhook", webhook_id=sub.id))


@bp.get("/admin/webhooks/<int:webhook_id>")
@role_required(*permissions.ADMINISTER)
def admin_webhook(webhook_id: int) -> ResponseReturnValue:
    return _detail_page(_sub(webhook_id))


@bp.post("/admin/webhooks/<int:webhook_id>/edit")
@role_required(*permissions.ADMINISTER)
def admin_webhook_update(webhook_id: int) -> ResponseReturnValue:
    sub = _sub(webhook_id)
    data = _input(request.form)
    try:
        body = form_input.check(WebhookPatch, data)
        form_input.apply(
            lambda: service.update_subscription(
                db.session,
                sub,
                url=body.url,
                event_types=body.event_types,
                description=body.description,
                active=body.active,
            )
        )
    except form_input.Refused as refused:
        db.session.rollback()
        return _detail_page(_sub(webhook_id), data, _by_field(refused.errors), status=422)
    audit_details(body.model_dump(mode="json"))
    flash(_("Changes saved."), "success")
    return redirect(url_for("console.admin_webhook", webhook_id=webhook_id))


@bp.post("/admin/webhooks/<int:webhook_id>/secret")
@role_required(*permissions.ADMINISTER)
def admin_webhook_secret(webhook_id: int) -> Response:
    sub = _sub(webhook_id)
    if ActionForm().validate_on_submit():
        service.rotate_secret(db.session, sub)
        flash(sub.secret, SECRET_FLASH)
    return redirect(url_for("console.admin_webhook", webhook_id=webhook_id))


@bp.post("/admin/webhooks/<int:webhook_id>/delete")
@role_required(*permissions.ADMINISTER)
def admin_webhook_delete(webhook_id: int) -> Response:
    sub = _sub(webhook_id)
    if ActionForm().validate_on_submit():
        audit_details({"url": sub.url})
        service.delete(db.session, sub)
        flash(_("The subscription was deleted."), "success")
    return redirect(url_for("console.admin_webhooks"))
