"""Writing and reading the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import User
from helpdesk.db import DbSession
from helpdesk.pagination import decode_cursor, encode_cursor

SECRET_KEYS = ("password", "token", "secret", "csrf", "auth")
MAX_VALUE_CHARS = 300
MAX_FIELDS = 40


def scrub(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a request worth keeping: secrets dropped, long values cut, bounded in size.

    A password change is recorded as `{"password": "[changed]"}`: that it happened matters, its
    value must never be stored.
    """
    out: dict[str, Any] = {}
    for key, value in list(data.items())[:MAX_FIELDS]:
        name = str(key)
        if any(word in name.lower() for word in SECRET_KEYS):
            if value not in (None, ""):
                out[name] = "[changed]"
            continue
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + "…"
        elif isinstance(value, dict | list):
            text = str(value)
            if len(text) > MAX_VALUE_CHARS:
                value = text[:MAX_VALUE_CHARS] + "…"
        out[name] = value
    return out


def record(
    *,
    session: DbSession,
    action: str,
    actor: User | None,
    target_type: str = "",
    target_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
    ip: str = "",
    request_id: str = "",
    channel: str = "",
    commit: bool = True,
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else "",
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        details=scrub(details or {}),
        ip=ip[:45],
        request_id=request_id[:64],
        channel=channel,
    )
    session.add(entry)
    if commit:
        session.commit()
    return entry


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None


def list_entries(
    *,
    session: DbSession,
    action: str | None = None,
    actor_id: int | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AuditPage:
    """Newest first, keyset-paginated on `(at, id)`. `action` matches a prefix (`sla.`)."""
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if cursor:
        at, last_id = decode_cursor(cursor, (datetime, int))
        stmt = stmt.where(
            (AuditEntry.at < at) | ((AuditEntry.at == at) & (AuditEntry.id < last_id))
        )
    stmt = stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].at, rows[-1].id) if more and rows else None
    return AuditPage(rows, next_cursor)


def actions(*, session: DbSession) -> list[str]:
    """The distinct actions recorded so far, for the console's filter."""
    return sorted(session.scalars(select(AuditEntry.action).distinct()))
