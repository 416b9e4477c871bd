"""Whom an agent can transfer a call to: the agents, each with their presence (so the search
shows who is free), and the active queues with how many callers wait in each. Read-only; the
console's transfer search and any other front end list the same."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from helpdesk.auth.models import Role, User
from helpdesk.db import DbSession
from telephony.models import AgentPresence, CallQueue
from telephony.queues import waiting_by_queue

LIMIT = 20


@dataclass(frozen=True)
class AgentTarget:
    id: int
    name: str
    state: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "state": self.state, "free": self.free}

    @property
    def free(self) -> bool:
        return self.state == "available"


@dataclass(frozen=True)
class QueueTarget:
    name: str
    label_en: str
    label_fr: str
    waiting: int

    def to_json(self) -> dict[str, Any]:
        return vars(self).copy()


def search(
    session: DbSession, *, query: str, exclude_user_id: int
) -> tuple[list[AgentTarget], list[QueueTarget]]:
    """Agents and queues whose name (or label) holds `query`; free agents first."""
    like = f"%{query.strip().lower()}%"
    rows = session.execute(
        select(User.id, User.name, AgentPresence.state)
        .outerjoin(AgentPresence, AgentPresence.user_id == User.id)
        .where(
            User.role == Role.AGENT,
            User.active.is_(True),
            User.id != exclude_user_id,
            func.lower(User.name).like(like),
        )
        .order_by(User.name)
        .limit(LIMIT)
    ).all()
    agents = sorted(
        (AgentTarget(r.id, r.name, r.state or "offline") for r in rows),
        key=lambda a: (not a.free, a.name),
    )
    waiting = waiting_by_queue(session)
    queues = [
        QueueTarget(q.name, q.label_en, q.label_fr, waiting.get(q.id, 0))
        for q in session.scalars(
            select(CallQueue)
            .where(
                CallQueue.active,
                or_(
                    func.lower(CallQueue.name).like(like),
                    func.lower(CallQueue.label_en).like(like),
                    func.lower(CallQueue.label_fr).like(like),
                ),
            )
            .order_by(CallQueue.name)
            .limit(LIMIT)
        )
    ]
    return agents, queues
