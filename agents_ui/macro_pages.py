"""Macros in the console: the list, the form to write or change one, and deletion.

Checked by the API's rules (`MacroIn`) and saved by the same service as `/api/v1/macros`: any
staff member writes personal macros; shared ones are supervisors' and administrators', and each
change to one is written to the audit log (helpdesk/audit/actions.py).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from agents_ui import form_input, labels
from agents_ui.account import me
from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm
from agents_ui.queries import all_groups
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.auth import permissions
from helpdesk.errors import Forbidden, NotFound
from helpdesk.extensions import db
from helpdesk.macros import placeholders, service
from helpdesk.macros.api import MacroIn
from helpdesk.macros.models import LANGUAGES, PERSONAL, SHARED, Macro

_BLANK: dict[str, Any] = {
    "title": "",
    "body": "",
    "language": "en",
    "visibility": PERSONAL,
    "set_status": "",
    "add_tags": "",
    "set_group_id": "",
}


def _macro(macro_id: int) -> Macro:
    try:
        return service.get_visible(db.session, macro_id, user=me())
    except NotFound:
        abort(404)


def _input(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form as the API's JSON: tags split at commas, blank menus left out."""
    tags = [t.strip() for t in form.get("add_tags", "").split(",") if t.strip()]
    data: dict[str, Any] = {
        "title": form.get("title", ""),
        "body": form.get("body", "").replace("\r\n", "\n"),
        "language": form.get("language", "en"),
        "visibility": form.get("visibility", PERSONAL),
        "set_status": form.get("set_status") or None,
        "add_tags": tags,
    }
    group = form_input.optional_int(form, "set_group_id")
    data["set_group_id"] = group
    return data


def _values_of(m: Macro) -> dict[str, Any]:
    return {
        "title": m.title,
        "body": m.body,
        "language": m.language,
        "visibility": m.visibility,
        "set_status": m.set_status or "",
        "add_tags": ", ".join(m.add_tags or []),
        "set_group_id": m.set_group_id or "",
    }


def _shown(data: dict[str, Any]) -> dict[str, Any]:
    """What the form shows again after a refusal: what was typed."""
    return {
        **data,
        "set_status": data.get("set_status") or "",
        "add_tags": ", ".join(data.get("add_tags") or []),
        "set_group_id": data.get("set_group_id") or "",
    }


def _reasons(errors: dict[str, str], data: dict[str, Any]) -> dict[str, str]:
    """The refusals by form field, in the agent's language where the service spoke English."""
    out: dict[str, str] = {}
    for key, text in errors.items():
        out.setdefault(key.partition(".")[0], text)
    bad = placeholders.unknown(str(data.get("body") or ""))
    if bad:
        out["body"] = _(
            "Unknown placeholder: %(names)s. Use one of: %(known)s.",
            names=", ".join("{{" + n + "}}" for n in bad),
            known=", ".join("{{" + n + "}}" for n in placeholders.PLACEHOLDERS),
        )
    if "set_group_id" in out and data.get("set_group_id") is not None:
        out["set_group_id"] = _("That group no longer exists.")
    return out


def actions_text(m: Macro, group_names: dict[int, str]) -> str:
    """What a macro changes besides the text, in one line ("" when nothing)."""
    parts: list[str] = []
    if m.set_status:
        parts.append(_("set status %(status)s", status=labels.label(labels.STATUS, m.set_status)))
    for tag in m.add_tags or []:
        parts.append(_("add tag %(tag)s", tag=tag))
    if m.set_group_id is not None and m.set_group_id in group_names:
        parts.append(_("set group %(group)s", group=group_names[m.set_group_id]))
    return ", ".join(parts)


def _form_page(
    values: dict[str, Any],
    errors: dict[str, str],
    macro: Macro | None = None,
    status: int = 200,
) -> tuple[str, int]:
    user = me()
    return render_template(
        "macros/form.html",
        macro=macro,
        values=values,
        errors=errors,
        may_share=service.may_share(user),
        language_choices=[(code, labels.label(labels.LANGUAGES, code)) for code in LANGUAGES],
        status_choices=[("", _("(leave unchanged)"))]
        + [(s.value, labels.label(labels.STATUS, s)) for s in service.SETTABLE_STATUSES],
        group_choices=[("", _("(leave unchanged)"))]
        + [(str(g.id), g.name) for g in all_groups(db.session)],
        placeholders=placeholders.PLACEHOLDERS,
        delete_form=ActionForm(),
    ), status


@bp.get("/macros")
@role_required(*permissions.STAFF)
def macros() -> ResponseReturnValue:
    q = request.args.get("q", "").strip()[:200]
    language = request.args.get("language", "")
    language = language if language in LANGUAGES else ""
    user = me()
    found = service.visible(db.session, user=user, q=q or None, language=language or None)
    names = {g.id: g.name for g in all_groups(db.session)}
    return render_template(
        "macros/list.html",
        macros=found,
        q=q,
        language=language,
        languages=LANGUAGES,
        actions={m.id: actions_text(m, names) for m in found},
        editable={m.id: service.may_edit(user, m) for m in found},
    )


@bp.get("/macros/new")
@role_required(*permissions.STAFF)
def macro_new() -> ResponseReturnValue:
    # Written in the agent's own language unless they choose another: a macro's fixed words
    # (its "not scheduled yet", say) are in the macro's language.
    language = str(getattr(me(), "locale", "") or "")
    return _form_page(dict(_BLANK, language=language if language in LANGUAGES else "en"), {})


def _save(data: dict[str, Any], macro: Macro | None) -> Macro:
    body = form_input.check(MacroIn, data)
    fields = body.model_dump()
    try:
        if macro is None:
            return form_input.apply(lambda: service.create(db.session, actor=me(), **fields))
        return form_input.apply(lambda: service.update(db.session, macro, actor=me(), **fields))
    except Forbidden as exc:
        raise form_input.Refused(
            {"visibility": _("Only supervisors and administrators can share a macro.")}
        ) from exc


@bp.post("/macros")
@role_required(*permissions.STAFF)
def macro_create() -> ResponseReturnValue:
    data = _input(request.form)
    try:
        macro = _save(data, None)
    except form_input.Refused as refused:
        db.session.rollback()
        return _form_page(_shown(data), _reasons(refused.errors, data), status=422)
    audit_target(macro.id)
    audit_details({"shared": macro.visibility == SHARED})
    flash(_("Macro “%(title)s” saved.", title=macro.title), "success")
    return redirect(url_for("console.macros"))


@bp.get("/macros/<int:macro_id>")
@role_required(*permissions.STAFF)
def macro_edit(macro_id: int) -> ResponseReturnValue:
    macro = _macro(macro_id)
    if not service.may_edit(me(), macro):
        abort(403)
    return _form_page(_values_of(macro), {}, macro)


@bp.post("/macros/<int:macro_id>")
@role_required(*permissions.STAFF)
def macro_update(macro_id: int) -> ResponseReturnValue:
    macro = _macro(macro_id)
    if not service.may_edit(me(), macro):
        abort(403)
    was_shared = macro.visibility == SHARED
    data = _input(request.form)
    try:
        _save(data, macro)
    except form_input.Refused as refused:
        db.session.rollback()
        return _form_page(_shown(data), _reasons(refused.errors, data), _macro(macro_id), 422)
    audit_details({"shared": was_shared or macro.visibility == SHARED})
    flash(_("Macro “%(title)s” saved.", title=macro.title), "success")
    return redirect(url_for("console.macros"))


@bp.post("/macros/<int:macro_id>/delete")
@role_required(*permissions.STAFF)
def macro_delete(macro_id: int) -> Response:
    macro = _macro(macro_id)
    if not service.may_edit(me(), macro):
        abort(403)
    if ActionForm().validate_on_submit():
        title = macro.title
        audit_details({"shared": macro.visibility == SHARED, "title": title})
        service.delete(db.session, macro, actor=me())
        flash(_("Macro “%(title)s” deleted.", title=title), "success")
    return redirect(url_for("console.macros"))
