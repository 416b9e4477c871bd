"""Who is still let in: console sessions, API tokens, and the live connections opened with them.

Every way to end a sign-in goes through here, and each one also closes the Socket.IO connections
that the sign-in opened, after commit, in every web process: a socket is checked only when it
connects, so without this a demoted or deactivated user would keep hearing what they may no longer
see. Sockets are put in `session:<id>` (opened from a console session) or `token:<id>` (opened
with an API token) as well as `user:<id>`, so that one sign-in can be ended without the others.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk import caches, events
from helpdesk.auth.models import ApiToken, ConsoleSession, User
from helpdesk.db import DbSession, column_values, in_session, utcnow
from helpdesk.errors import NotFound

USER_AGENT_KEPT = 255
# A console session unused this long has ended: a browser closed without signing out does not
# leave a way in (or a row listed as signed in) for good. Page views renew it.
SESSION_IDLE_LIMIT = timedelta(days=14)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def session_room(console_session_id: int) -> str:
    return f"session:{console_session_id}"


def token_room(token_id: int) -> str:
    return f"token:{token_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def start_console_session(
    *, session: DbSession, user: User, user_agent: str, ip: str | None
) -> str:
    """Record a sign-in and return the key the browser's session keeps (only its hash is
    stored, so the table cannot be turned into cookies)."""
    key = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            user_id=user.id,
            key_hash=_digest(key),
            user_agent=user_agent[:USER_AGENT_KEPT],
            ip=ip[:45] if ip else None,
        )
    )
    session.commit()
    return key


# The console session and user a cookie stands for, per process: read on every console request
# and changed by a sign-out, a password change, a deactivation or a role change, each of which
# clears the cache in every process on commit (`caches`). A row's last use is written at most once
# a minute, without clearing anyone's copy.
caches.watch("console_sign_ins", ConsoleSession, User, ttl_s=30.0)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class _SignIn:
    """The two rows' columns: each request's session builds its objects from them."""

    console_session: dict[str, Any]
    user: dict[str, Any]


def console_sign_in(
    *, session: DbSession, key: str, user_id: int, version: int
) -> tuple[User, ConsoleSession] | None:
    """The user and the console session a cookie stands for, while both still let it in (the
    session not ended nor idle too long, the user active with the cookie's session version);
    without a query while the cache holds them."""
    digest = _digest(key)
    found = caches.cached(
        "console_sign_ins", digest, lambda: _sign_in(session, digest), session=session
    )
    if found is None:
        return None
    row, user = found.console_session, found.user
    now = utcnow()
    if row["ended_at"] is not None or row["user_id"] != user_id:
        return None
    if now - row["last_seen_at"] > SESSION_IDLE_LIMIT:
        return None
    if not user["active"] or user["session_version"] != version:
        return None
    touched = now - row["last_seen_at"] > TOUCH_EVERY
    if touched:
        # A Core statement on the connection: the ORM sees no change, so no process's cache is
        # cleared for it; this process drops its own copy, whose last use is now stale.
        session.connection().execute(
            update(ConsoleSession.__table__)
            .where(ConsoleSession.__table__.c.id == row["id"])
            .values(last_seen_at=now)
        )
        session.commit()
        caches.forget("console_sign_ins", digest)
    attached = in_session(session, ConsoleSession, row)
    if touched:
        set_committed_value(attached, "last_seen_at", now)
    return in_session(session, User, user), attached


def _sign_in(session: DbSession, digest: str) -> _SignIn | None:
    found = session.execute(
        select(ConsoleSession, User)
        .join(User, User.id == ConsoleSession.user_id)
        .where(ConsoleSession.key_hash == digest)
    ).one_or_none()
    if found is None:
        return None
    return _SignIn(column_values(found[0]), column_values(found[1]))


def end_console_session(*, session: DbSession, key: str) -> None:
    """Signing out: this browser's session ends on the server, so a copy of its cookie is
    refused from now on."""
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.key_hash == _digest(key)))
    if row is None or row.ended_at is not None:
        return
    row.ended_at = utcnow()
    events.disconnect_after_commit(session, [session_room(row.id)])
    session.commit()


def console_sessions(*, session: DbSession, user: User) -> list[ConsoleSession]:
    """The user's live console sessions, most recently used first."""
    return list(
        session.scalars(
            select(ConsoleSession)
            .where(
                ConsoleSession.user_id == user.id,
                ConsoleSession.ended_at.is_(None),
                ConsoleSession.last_seen_at > utcnow() - SESSION_IDLE_LIMIT,
            )
            .order_by(ConsoleSession.last_seen_at.desc(), ConsoleSession.id.desc())
        )
    )


def api_tokens(*, session: DbSession, user: User) -> list[ApiToken]:
    """The user's tokens that still open the API (not revoked, not expired), newest first."""
    now = utcnow()
    rows = session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [row for row in rows if row.expires_at is None or row.expires_at > now]


def end_console_sessions(
    *,
    session: DbSession,
    user: User,
    only_id: int | None = None,
    keep_id: int | None = None,
    commit: bool = True,
) -> int:
    """End the user's console sessions (or the one `only_id`, or all but `keep_id`: signing
    out everywhere else); how many were ended."""
    stmt = select(ConsoleSession.id).where(
        ConsoleSession.user_id == user.id, ConsoleSession.ended_at.is_(None)
    )
    if only_id is not None:
        stmt = stmt.where(ConsoleSession.id == only_id)
    if keep_id is not None:
        stmt = stmt.where(ConsoleSession.id != keep_id)
    ids = list(session.scalars(stmt))
    if only_id is not None and not ids:
        raise NotFound(f"no live console session {only_id} for user {user.id}")
    if ids:
        session.execute(
            update(ConsoleSession).where(ConsoleSession.id.in_(ids)).values(ended_at=utcnow())
        )
        events.disconnect_after_commit(session, [session_room(i) for i in ids])
    if commit:
        session.commit()
    return len(ids)


def revoke_api_tokens(
    *, session: DbSession, user: User, only_id: int | None = None, commit: bool = True
) -> int:
    """Revoke the user's API tokens (or the one `only_id`); how many were revoked."""
    stmt = select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if only_id is not None:
        stmt = stmt.where(ApiToken.id == only_id)
    ids = list(session.scalars(stmt))
    if only_id is not None and not ids:
        raise NotFound(f"no live API token {only_id} for user {user.id}")
    if ids:
        session.execute(update(ApiToken).where(ApiToken.id.in_(ids)).values(revoked_at=utcnow()))
        events.disconnect_after_commit(session, [token_room(i) for i in ids])
    if commit:
        session.commit()
    return len(ids)


def revoke_everything(*, session: DbSession, user: User) -> None:
    """A new password or a deactivation: every sign-in ends (console sessions, API tokens, and
    every open connection), in the caller's transaction."""
    user.session_version += 1
    end_console_sessions(session=session, user=user, commit=False)
    revoke_api_tokens(session=session, user=user, commit=False)
    events.disconnect_after_commit(session, [user_room(user.id)])


def rescope_sockets(*, session: DbSession, user: User) -> None:
    """A new role: the user's open connections close after commit, and reconnect (the console
    does so by itself) into the rooms of the new role."""
    events.disconnect_after_commit(session, [user_room(user.id)])


def live_counts(*, session: DbSession) -> dict[int, tuple[int, int]]:
    """Each user's number of live console sessions and of API tokens not revoked (expired ones
    included: they no longer open anything, but are listed until revoked)."""
    counts: dict[int, list[int]] = {}
    sessions = session.execute(
        select(ConsoleSession.user_id, func.count())
        .where(
            ConsoleSession.ended_at.is_(None),
            ConsoleSession.last_seen_at > utcnow() - SESSION_IDLE_LIMIT,
        )
        .group_by(ConsoleSession.user_id)
    )
    for user_id, n in sessions:
        counts.setdefault(user_id, [0, 0])[0] = n
    tokens = session.execute(
        select(ApiToken.user_id, func.count())
        .where(ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.user_id)
    )
    for user_id, n in tokens:
        counts.setdefault(user_id, [0, 0])[1] = n
    return {user_id: (s, t) for user_id, (s, t) in counts.items()}
