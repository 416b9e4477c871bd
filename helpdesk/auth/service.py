"""Every change to users and tokens goes through here."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk import caches, events
from helpdesk.auth import access, passwords
from helpdesk.auth.models import AgentSkill, ApiToken, Group, Role, User
from helpdesk.db import DbSession, column_values, in_session, utcnow
from helpdesk.errors import Conflict, FieldReason, NotFound, ValidationFailed

SKILL_NAME_MAX = 64
GROUP_NAME_MAX = 100
# The error code of a refusal to demote or deactivate the last active administrator.
LAST_ADMIN = "last_admin"
TOKEN_PREFIX = "hdk_"  # noqa: S105 (a public marker, not a secret)
# Hashing a dummy password on unknown e-mails keeps login timing from revealing which exist.
_DUMMY_HASH = generate_password_hash("timing-equaliser-not-a-password")


def hash_password(password: str) -> str:
    """scrypt by default; the test suite picks a cheaper method through `PASSWORD_HASH_METHOD`."""
    method = "scrypt"
    if has_app_context():
        method = current_app.config.get("PASSWORD_HASH_METHOD", method)
    return generate_password_hash(password, method=method)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_skills(spec: str | Iterable[str] | Mapping[str, int] | None) -> dict[str, int]:
    """Skills as `{"billing": 3}` from `"billing:3,support"` (level 1 when omitted) or a mapping."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        items = list(spec.items())
    else:
        parts = spec.split(",") if isinstance(spec, str) else list(spec)
        items = []
        for part in (p.strip() for p in parts):
            if not part:
                continue
            name, _, level = part.partition(":")
            try:
                items.append((name.strip(), int(level) if level else 1))
            except ValueError as exc:
                why = FieldReason(
                    f"{part!r}: level must be a number", "skill_level_number", skill=part
                )
                raise ValidationFailed("invalid skill level", fields={"skills": why}) from exc
    skills: dict[str, int] = {}
    for name, level in items:
        if len(name) > SKILL_NAME_MAX:
            why = FieldReason(
                f"at most {SKILL_NAME_MAX} characters a skill", "skill_too_long", max=SKILL_NAME_MAX
            )
            raise ValidationFailed("invalid skill", fields={"skills": why})
        if not name or not 1 <= int(level) <= 5:
            why = FieldReason(f"{name!r}: level must be 1-5", "skill_level_range", skill=name)
            raise ValidationFailed("invalid skill", fields={"skills": why})
        skills[name.lower()] = int(level)
    return skills


def _check_password(password: str, *, email: str, name: str | None) -> None:
    why = passwords.problem(password, own_details=passwords.context_words(email, name))
    if why is not None:
        raise ValidationFailed(f"password refused: {why}", fields={"password": why})


def create_user(
    *,
    session: DbSession,
    email: str,
    password: str,
    role: Role | str,
    name: str | None = None,
    skills: Mapping[str, int] | None = None,
    languages: Iterable[str] = (),
    locale: str = "en",
    groups: Iterable[str] = (),
) -> User:
    email = email.strip().lower()
    _check_password(password, email=email, name=name)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("a user with this e-mail already exists", fields={"email": "already taken"})
    user = User(
        email=email,
        name=name or email.split("@")[0],
        password_hash=hash_password(password),
        role=Role(role),
        languages=[lang.strip().lower() for lang in languages if lang.strip()],
        locale=locale,
    )
    user.skills = [AgentSkill(skill=s, level=lvl) for s, lvl in (skills or {}).items()]
    user.groups = _groups(session, groups)
    session.add(user)
    session.commit()
    return user


def _groups(session: DbSession, names: Iterable[str]) -> list[Group]:
    """The groups named (created if new), each once: a name given twice would be a duplicate
    membership row."""
    found: dict[str, Group] = {}
    for raw in names:
        name = raw.strip()
        if not name or name in found:
            continue
        if len(name) > GROUP_NAME_MAX:
            raise ValidationFailed(
                "invalid group", fields={"groups": f"at most {GROUP_NAME_MAX} characters a group"}
            )
        group = session.scalar(select(Group).where(Group.name == name))
        if group is None:
            group = Group(name=name)
            session.add(group)
        found[name] = group
    return list(found.values())


def _keep_an_admin(
    session: DbSession, user: User, *, role: Role | None, active: bool | None
) -> None:
    """Refuse a change that would leave no active administrator: nobody could then manage
    accounts from the console or the API, only from the server's command line."""
    if user.role is not Role.ADMIN or not user.active:
        return
    stays_admin = (role or user.role) is Role.ADMIN and (user.active if active is None else active)
    if stays_admin:
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    if not others:
        field = "active" if active is False else "role"
        raise Conflict(
            "the last active administrator cannot be demoted or deactivated",
            fields={field: "no other active administrator would be left"},
            code=LAST_ADMIN,
        )


def update_user(
    *,
    session: DbSession,
    user: User,
    name: str | None = None,
    role: Role | None = None,
    locale: str | None = None,
    active: bool | None = None,
    skills: Mapping[str, int] | None = None,
    languages: Iterable[str] | None = None,
    password: str | None = None,
    groups: Iterable[str] | None = None,
) -> User:
    """Change a user. A new password or a deactivation ends every sign-in the user has (console
    sessions, API tokens, open connections); a new role closes their open connections, which
    reconnect into the new role's rooms. The last active administrator keeps that role and stays
    active (`Conflict` with the code `last_admin`)."""
    _keep_an_admin(session, user, role=role, active=active)
    if password is not None:
        _check_password(password, email=user.email, name=user.name)
    if name is not None:
        user.name = name
    if role is not None and role is not user.role:
        user.role = role
        access.rescope_sockets(session=session, user=user)
    if locale is not None:
        user.locale = locale
    if active is not None:
        user.active = active
        if not active:
            access.revoke_everything(session=session, user=user)
    if skills is not None:
        user.skills = [AgentSkill(skill=s, level=lvl) for s, lvl in skills.items()]
    if languages is not None:
        user.languages = [lang.strip().lower() for lang in languages if lang.strip()]
    if groups is not None:
        user.groups = _groups(session, groups)
    if password is not None:
        user.password_hash = hash_password(password)
        access.revoke_everything(session=session, user=user)
    session.commit()
    return user


def authenticate(*, session: DbSession, email: str, password: str) -> User | None:
    user: User | None = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def issue_token(
    *, session: DbSession, user: User, name: str = "api", ttl_days: int | None = 90
) -> str:
    """Create a bearer token and return it; it is shown once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=ttl_days) if ttl_days else None
    session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), name=name, expires_at=expires)
    )
    session.commit()
    return token


# An API token's owner, read on every API request, is cached for a few seconds per process;
# any committed change to a token or a user clears it everywhere (helpdesk/caches.py).
caches.watch("api_tokens", ApiToken, User, ttl_s=30.0)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class _TokenOwner:
    expires_at: datetime | None
    last_used_at: datetime | None
    user: dict[str, Any]  # its columns: each request's session builds its object from them


def user_for_token(*, session: DbSession, token: str) -> User | None:
    """The active user a live token belongs to, without a query while the cache holds it."""
    digest = hash_token(token)
    owner = caches.cached("api_tokens", digest, lambda: _token_owner(session, digest))
    if owner is None:
        return None
    now = utcnow()
    if owner.expires_at and owner.expires_at <= now:
        return None
    if owner.last_used_at is None or now - owner.last_used_at > TOUCH_EVERY:
        row = live_token(session=session, token=token)  # writes `last_used_at`: clears the cache
        return None if row is None else row.user
    return in_session(session, User, owner.user)


def _token_owner(session: DbSession, digest: str) -> _TokenOwner | None:
    row: ApiToken | None = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return _TokenOwner(row.expires_at, row.last_used_at, column_values(row.user))


def live_token(*, session: DbSession, token: str) -> ApiToken | None:
    """The token's row while it opens the API: not revoked, not expired, its user active."""
    row: ApiToken | None = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    )
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    if not row.user.active:
        return None
    # Touch at most once a minute so that reads do not each turn into a write.
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    return row


def revoke_token(*, session: DbSession, token: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None:
        raise NotFound("no such token")
    row.revoked_at = utcnow()
    events.disconnect_after_commit(session, [access.token_room(row.id)])
    session.commit()


def get_user(*, session: DbSession, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user
