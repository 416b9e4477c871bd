"""Console sessions with Flask-Login, each one recorded on the server.

The signed cookie carries `"<user id>:<session version>"` and the key of a row of
`console_sessions`; a cookie is accepted only while that row is live. Signing out ends the row, so
a copy of the cookie taken before is refused; a password change or a deactivation ends every row
of the user (and bumps the version), and an administrator can end any of them.
"""

from __future__ import annotations

from flask import Flask, g, request, session

from helpdesk.auth import access
from helpdesk.auth.models import ConsoleSession, User
from helpdesk.extensions import db, login_manager

SESSION_KEY = "console_session"


def init_login(app: Flask) -> None:
    login_manager.login_view = "console.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(":")
        key = session.get(SESSION_KEY)
        if not user_id.isdigit() or not version.isdigit() or not isinstance(key, str):
            return None
        found = access.console_sign_in(
            session=db.session, key=key, user_id=int(user_id), version=int(version)
        )
        if found is None:
            return None
        user, row = found
        g.helpdesk_console_session = row
        return user


def start(user: User) -> None:
    """Record this browser's sign-in, after `login_user`."""
    session[SESSION_KEY] = access.start_console_session(
        session=db.session,
        user=user,
        user_agent=request.headers.get("User-Agent", ""),
        ip=request.remote_addr,
    )


def this_console_session() -> ConsoleSession | None:
    """The console session this request was let in by (None for an API request)."""
    row: ConsoleSession | None = g.get("helpdesk_console_session")
    return row


def end() -> None:
    """End this browser's console session on the server (signing out)."""
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        access.end_console_session(session=db.session, key=key)
