"""Staff sign-ins (admins): who is signed in where, and ending a console session or an API token.
The account itself (role, skills, password, deactivation) is changed in agents_ui.user_admin.

Ending one goes through the same service as the API (helpdesk.auth.access), which also closes the
live connections opened with it; each is written to the audit log.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm
from agents_ui.user_admin import user_page
from helpdesk.auth import access, permissions
from helpdesk.auth.models import User
from helpdesk.errors import NotFound
from helpdesk.extensions import db


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/admin/users")
@role_required(*permissions.ADMINISTER)
def admin_users() -> ResponseReturnValue:
    users = list(db.session.scalars(select(User).order_by(User.name, User.id)))
    return render_template(
        "admin/users.html", users=users, counts=access.live_counts(session=db.session)
    )


@bp.get("/admin/users/<int:user_id>")
@role_required(*permissions.ADMINISTER)
def admin_user(user_id: int) -> ResponseReturnValue:
    return user_page(_user(user_id))


def _back(user_id: int) -> Response:
    return redirect(url_for("console.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/sessions/end")
@role_required(*permissions.ADMINISTER)
def admin_user_sessions_end(user_id: int) -> Response:
    user = _user(user_id)
    if ActionForm().validate_on_submit():
        n = access.end_console_sessions(session=db.session, user=user)
        flash(ngettext("%(num)d session ended.", "%(num)d sessions ended.", n), "success")
    return _back(user_id)


@bp.post("/admin/users/<int:user_id>/sessions/<int:session_id>/end")
@role_required(*permissions.ADMINISTER)
def admin_user_session_end(user_id: int, session_id: int) -> Response:
    user = _user(user_id)
    if ActionForm().validate_on_submit():
        try:
            access.end_console_sessions(session=db.session, user=user, only_id=session_id)
        except NotFound:
            abort(404)
        flash(_("Session ended."), "success")
    return _back(user_id)


@bp.post("/admin/users/<int:user_id>/tokens/revoke")
@role_required(*permissions.ADMINISTER)
def admin_user_tokens_revoke(user_id: int) -> Response:
    user = _user(user_id)
    if ActionForm().validate_on_submit():
        n = access.revoke_api_tokens(session=db.session, user=user)
        flash(ngettext("%(num)d API token revoked.", "%(num)d API tokens revoked.", n), "success")
    return _back(user_id)


@bp.post("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke")
@role_required(*permissions.ADMINISTER)
def admin_user_token_revoke(user_id: int, token_id: int) -> Response:
    user = _user(user_id)
    if ActionForm().validate_on_submit():
        try:
            access.revoke_api_tokens(session=db.session, user=user, only_id=token_id)
        except NotFound:
            abort(404)
        flash(_("API token revoked."), "success")
    return _back(user_id)
