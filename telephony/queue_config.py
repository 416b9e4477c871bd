"""The call queues as the call path reads them: from a per-process cache, not a SELECT per step.

The queues change when an admin edits one (a few times a week); the menu webhook, the dispatch,
the accept and the call view each read them on every call. So they are read once, as plain
frozen rows, and kept until the commit of any change to a queue clears them in every process
(`helpdesk.caches`). A row here is a copy: it names the queue, it is not the ORM object, and
what changes a queue still goes through `telephony.queues` and the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import select

from helpdesk import caches
from helpdesk.db import DbSession
from helpdesk.errors import NotFound
from telephony.models import CallQueue

CACHE = "call_queues"
caches.watch(CACHE, CallQueue, ttl_s=60.0)


@dataclass(frozen=True)
class QueueRow:
    """One queue's settings as they were committed (see `CallQueue` for each column)."""

    id: int
    name: str
    label_en: str
    label_fr: str
    skills: MappingProxyType[str, int]
    language: str | None
    strategy: str
    steps: tuple[MappingProxyType[str, Any], ...]
    ring_timeout_s: int
    wrap_up_s: int
    callback_after_s: int
    active: bool
    calendar_id: int | None
    after_hours: MappingProxyType[str, str] | None
    priority: int

    @classmethod
    def of(cls, q: CallQueue) -> QueueRow:
        return cls(
            id=q.id,
            name=q.name,
            label_en=q.label_en,
            label_fr=q.label_fr,
            skills=MappingProxyType(dict(q.skills or {})),
            language=q.language,
            strategy=q.strategy,
            steps=tuple(MappingProxyType(dict(s)) for s in q.steps or ()),
            ring_timeout_s=q.ring_timeout_s,
            wrap_up_s=q.wrap_up_s,
            callback_after_s=q.callback_after_s,
            active=q.active,
            calendar_id=q.calendar_id,
            after_hours=MappingProxyType(dict(q.after_hours)) if q.after_hours else None,
            priority=q.priority or 0,
        )


# What the call path accepts where it only reads a queue's settings: the cached row, or the ORM
# object a caller (a test, an admin page) holds already.
AnyQueue = CallQueue | QueueRow


def all_queues(session: DbSession) -> MappingProxyType[int, QueueRow]:
    """Every queue (active or not) by id."""

    def load() -> MappingProxyType[int, QueueRow]:
        rows = session.scalars(select(CallQueue).order_by(CallQueue.id)).all()
        return MappingProxyType({q.id: QueueRow.of(q) for q in rows})

    return caches.cached(CACHE, "all", load)


def queue_row(session: DbSession, queue_id: int | None) -> QueueRow | None:
    return all_queues(session).get(queue_id) if queue_id is not None else None


def name_of(session: DbSession, queue_id: int | None) -> str | None:
    """The name of queue `queue_id`, as the call log records it."""
    found = queue_row(session, queue_id)
    return found.name if found else None


def active_named(session: DbSession, name: str) -> QueueRow | None:
    for q in all_queues(session).values():
        if q.name == name and q.active:
            return q
    return None


def queue_by_name(session: DbSession, *, name: str) -> QueueRow:
    """The active queue called `name`."""
    found = active_named(session, name)
    if found is None:
        raise NotFound(f"no queue {name}")
    return found
