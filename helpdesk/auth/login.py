"""Console sessions with Flask-Login.

The session carries `"<user id>:<session version>"`; bumping a user's session version (password
change, deactivation) logs them out everywhere at their next request.
"""

from __future__ import annotations

from flask import Flask

from helpdesk.auth.models import User
from helpdesk.extensions import db, login_manager


def init_login(app: Flask) -> None:
    login_manager.login_view = "console.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user
