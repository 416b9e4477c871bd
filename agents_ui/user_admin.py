"""Staff accounts from the console (admins): a new user, changes to a user's role, skills,
languages and groups, a new password, deactivation and reactivation.

Checked by the API's rules (`UserCreate`, `UserUpdate`) and saved by the same services as
`POST` and `PATCH /api/v1/users`, so the console cannot accept what the API refuses: a new
password or a deactivation ends every sign-in of the user and closes their live connections, a
new role closes them so that they reconnect into the new role's rooms, and the last active
administrator can be neither demoted nor deactivated. Each change is written to the audit log
with the fields that changed, never a password.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from agents_ui import form_input, labels
from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.auth import access, permissions, service
from helpdesk.auth.api import UserCreate, UserUpdate
from helpdesk.auth.login import this_console_session
from helpdesk.auth.models import Role, User
from helpdesk.errors import Conflict
from helpdesk.extensions import db

BLANK_SKILL_ROWS = 2
SKILL_LEVELS = range(1, 6)
# Refusals on these lists are shown once, under the list, whichever entry was refused.
_LISTS = ("skills", "languages", "groups")


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _skill_rows(form: MultiDict[str, str]) -> list[tuple[str, str]]:
    names, levels = form.getlist("skill"), form.getlist("skill_level")
    levels += ["1"] * (len(names) - len(levels))
    return [(n.strip(), lvl.strip()) for n, lvl in zip(names, levels, strict=False)]


def _comma_list(text: str) -> list[str]:
    """Groups typed as `Level 2, Billing`: separated by commas (a name may hold spaces)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _input(form: MultiDict[str, str]) -> dict[str, Any]:
    """The account fields of the form as the API's JSON body (a skill row left empty is none)."""
    return {
        "name": form.get("name", "").strip(),
        "role": form.get("role", ""),
        "locale": form.get("locale", ""),
        "skills": {name: level for name, level in _skill_rows(form) if name},
        "languages": form_input.tag_list(form.get("languages", "")),
        "groups": _comma_list(form.get("groups", "")),
    }


def _by_field(errors: dict[str, str]) -> dict[str, str]:
    """`skills.billing` or `groups.2` becomes `skills` or `groups`: shown under the list."""
    out: dict[str, str] = {}
    for key, text in errors.items():
        head = key.partition(".")[0]
        out.setdefault(head if head in _LISTS else key, text)
    return out


def _values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What was typed, to show again with the refusals (never the password)."""
    return {
        "email": form.get("email", ""),
        "name": form.get("name", ""),
        "role": form.get("role", ""),
        "locale": form.get("locale", ""),
        "skills": [row for row in _skill_rows(form) if row[0]],
        "languages": form.get("languages", ""),
        "groups": form.get("groups", ""),
    }


def _values_of(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "locale": user.locale,
        "skills": [(s.skill, str(s.level)) for s in user.skills],
        "languages": ", ".join(user.languages or []),
        "groups": ", ".join(g.name for g in user.groups),
    }


def _choices() -> dict[str, list[tuple[str, Any]]]:
    return {
        "role": [(r.value, labels.ROLE[r.value]) for r in Role],
        "locale": list(labels.LANGUAGES.items()),
        "skill_level": [(str(n), str(n)) for n in SKILL_LEVELS],
    }


def _with_blank_rows(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "skills": [*values["skills"], *[("", "1")] * BLANK_SKILL_ROWS]}


def user_page(
    user: User,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """A user's page: the account form, the password form, and their sign-ins."""
    mine = this_console_session()
    return render_template(
        "admin/user_access.html",
        user=user,
        values=_with_blank_rows(values or _values_of(user)),
        errors=errors or {},
        password_errors=password_errors or {},
        choices=_choices(),
        sessions=access.console_sessions(session=db.session, user=user),
        tokens=access.api_tokens(session=db.session, user=user),
        this_session_id=mine.id if mine is not None else None,
        form=ActionForm(),
    ), status


def _last_admin_refusal() -> str:
    return str(
        _("No other active administrator would be left: make someone else an administrator first.")
    )


@bp.get("/admin/users/new")
@role_required(*permissions.ADMINISTER)
def admin_user_new() -> ResponseReturnValue:
    values = {
        "email": "",
        "name": "",
        "role": Role.AGENT.value,
        "locale": "fr",
        "skills": [],
        "languages": "fr",
        "groups": "",
    }
    return _new_page(values, {})


def _new_page(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/user_new.html",
        values=_with_blank_rows(values),
        errors=errors,
        choices=_choices(),
    ), status


@bp.post("/admin/users/new")
@role_required(*permissions.ADMINISTER)
def admin_user_create() -> ResponseReturnValue:
    data = {
        **_input(request.form),
        "email": request.form.get("email", "").strip(),
        "password": request.form.get("password", ""),
    }
    if not data["name"]:
        del data["name"]  # the service names the user after their e-mail
    try:
        body = form_input.check(UserCreate, data)
        user = form_input.apply(
            lambda: service.create_user(
                session=db.session,
                email=str(body.email),
                password=body.password,
                role=body.role,
                name=body.name,
                skills=service.parse_skills(body.skills),
                languages=body.languages,
                locale=body.locale,
                groups=body.groups,
            )
        )
    except (form_input.Refused, Conflict) as refused:
        db.session.rollback()
        errors = (
            _by_field(refused.errors)
            if isinstance(refused, form_input.Refused)
            else {"email": _("A user with this e-mail address already exists.")}
        )
        return _new_page(_values(request.form), errors, status=422)
    audit_target(user.id)
    audit_details(
        {
            **body.model_dump(mode="json", exclude={"password"}),
            "email": user.email,
            "skills": {s.skill: s.level for s in user.skills},
            "languages": list(user.languages),
        }
    )
    flash(_("%(name)s can now sign in.", name=user.name), "success")
    return redirect(url_for("console.admin_user", user_id=user.id))


def _changes(user: User, body: UserUpdate) -> dict[str, Any]:
    """The fields the form changes, as the audit log keeps them."""
    before = {
        "name": user.name,
        "role": user.role.value,
        "locale": user.locale,
        "skills": {s.skill: s.level for s in user.skills},
        "languages": list(user.languages or []),
        "groups": [g.name for g in user.groups],
    }
    after = body.model_dump(mode="json", exclude_unset=True)
    after["skills"] = service.parse_skills(body.skills or {})
    after["languages"] = [lang.lower() for lang in body.languages or []]
    after["groups"] = list(dict.fromkeys(body.groups or []))
    return {key: value for key, value in after.items() if before.get(key) != value}


@bp.post("/admin/users/<int:user_id>/edit")
@role_required(*permissions.ADMINISTER)
def admin_user_update(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    try:
        body = form_input.check(UserUpdate, _input(request.form))
        changes = form_input.apply(lambda: _changes(user, body))
        form_input.apply(
            lambda: service.update_user(
                session=db.session,
                user=user,
                name=body.name,
                role=body.role,
                locale=body.locale,
                skills=service.parse_skills(body.skills or {}),
                languages=body.languages,
                groups=body.groups,
            )
        )
    except (form_input.Refused, Conflict) as refused:
        db.session.rollback()
        errors = (
            _by_field(refused.errors)
            if isinstance(refused, form_input.Refused)
            else {"role": _last_admin_refusal()}
        )
        return user_page(_user(user_id), values=_values(request.form), errors=errors, status=422)
    audit_details(changes)
    flash(_("Changes saved."), "success")
    if not current_user.has_role(*permissions.ADMINISTER):
        # They stepped down themselves: the page they were on is an administrator's.
        return redirect(url_for("console.index"))
    return redirect(url_for("console.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/password")
@role_required(*permissions.ADMINISTER)
def admin_user_password(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    try:
        body = form_input.check(UserUpdate, {"password": request.form.get("password", "")})
        form_input.apply(
            lambda: service.update_user(session=db.session, user=user, password=body.password)
        )
    except form_input.Refused as refused:
        db.session.rollback()
        return user_page(_user(user_id), password_errors=refused.errors, status=422)
    audit_details({"password": "[changed]"})
    flash(_("New password saved: %(name)s was signed out everywhere.", name=user.name), "success")
    return redirect(url_for("console.admin_user", user_id=user_id))


def _set_active(user_id: int, active: bool) -> Response:
    user = _user(user_id)
    if ActionForm().validate_on_submit():
        try:
            service.update_user(session=db.session, user=user, active=active)
        except Conflict:
            db.session.rollback()
            flash(_last_admin_refusal(), "error")
            return redirect(url_for("console.admin_user", user_id=user_id))
        if active:
            flash(_("%(name)s can sign in again.", name=user.name), "success")
        else:
            flash(
                _("%(name)s is deactivated and was signed out everywhere.", name=user.name),
                "success",
            )
    return redirect(url_for("console.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/deactivate")
@role_required(*permissions.ADMINISTER)
def admin_user_deactivate(user_id: int) -> Response:
    return _set_active(user_id, False)


@bp.post("/admin/users/<int:user_id>/reactivate")
@role_required(*permissions.ADMINISTER)
def admin_user_reactivate(user_id: int) -> Response:
    return _set_active(user_id, True)
