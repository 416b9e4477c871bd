"""What the pure routing decision (`telephony.routing`) is handed: the free agents with their
skills, the queues' specifications, and whether there is anything to decide at all. Read in a
few statements of columns, because a dispatch reads them for every decision it makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import exists, select

from helpdesk.auth.models import AgentSkill, User
from helpdesk.db import DbSession
from telephony import routing
from telephony.models import AgentPresence, Call
from telephony.queue_config import AnyQueue, all_queues


def agent_views(session: DbSession, now: datetime) -> list[routing.AgentView]:
    # One query of columns, not entities, skills joined in (a row per skill): a dispatch reads
    # every free agent, and building ORM objects for them cost more than the query.
    rows = session.execute(
        select(
            AgentPresence.user_id,
            AgentPresence.state,
            AgentPresence.idle_since,
            AgentPresence.calls_today,
            AgentPresence.calls_day,
            AgentPresence.last_offered_at,
            User.languages,
            AgentSkill.skill,
            AgentSkill.level,
        )
        .join(User, User.id == AgentPresence.user_id)
        .outerjoin(AgentSkill, AgentSkill.user_id == AgentPresence.user_id)
        .where(AgentPresence.state == "available", User.active)
        .order_by(AgentPresence.user_id)
    ).all()
    today = now.date().isoformat()
    first: dict[int, Any] = {}
    skills: dict[int, dict[str, int]] = {}
    for r in rows:
        first.setdefault(r.user_id, r)
        levels = skills.setdefault(r.user_id, {})
        if r.skill is not None:
            levels[r.skill] = r.level
    return [
        routing.AgentView(
            id=r.user_id,
            skills=skills[r.user_id],
            languages=frozenset(r.languages or []),
            state=routing.AgentState(r.state),
            idle_since=r.idle_since,
            calls_today=r.calls_today if r.calls_day == today else 0,
            last_offered_at=r.last_offered_at,
        )
        for r in first.values()
    ]


def queue_spec(q: AnyQueue) -> routing.QueueSpec:
    return routing.QueueSpec(
        name=q.name,
        skills=dict(q.skills or {}),
        language=q.language,
        strategy=routing.Strategy(q.strategy),
        steps=tuple(
            routing.EscalationStep(
                after_s=int(s.get("after_s", 0)),
                level_drop=int(s.get("level_drop", 0)),
                overflow_queue=s.get("overflow_queue"),
            )
            for s in (q.steps or [])
        ),
    )


def queue_specs(session: DbSession) -> dict[str, routing.QueueSpec]:
    return {q.name: queue_spec(q) for q in all_queues(session).values() if q.active}


ANYTHING_TO_DECIDE = select(
    exists().where(Call.routing_state == "waiting"),
    exists().where(
        AgentPresence.state == "available", AgentPresence.user_id == User.id, User.active
    ),
)


def configured_backoff() -> float:
    """The configured back-off before a declined call may go back to an agent who declined it."""
    settings = current_app.config.get("HELPDESK_SETTINGS") if has_app_context() else None
    value = getattr(settings, "HELPDESK_REOFFER_BACKOFF_S", None)
    return routing.REOFFER_AFTER_S if value is None else float(value)


def waiting_calls(
    session: DbSession,
    by_id: Mapping[int, AnyQueue],
    queues: dict[str, routing.QueueSpec],
    *,
    now: datetime,
    limit: int,
) -> tuple[list[routing.WaitingCall], dict[int, int | None]]:
    """The calls in line, first served first (up to `limit`), and the queue id of each."""
    rows = session.execute(
        select(
            Call.id, Call.queue_id, Call.enqueued_at, Call.priority, Call.language, Call.declined_by
        )
        .where(Call.routing_state == "waiting")
        .order_by(Call.priority.desc(), Call.enqueued_at)
        .limit(limit)
    ).all()
    views = [
        routing.WaitingCall(
            id=r.id,
            queue=by_id[r.queue_id].name,
            enqueued_at=r.enqueued_at or now,
            priority=r.priority,
            language=r.language,
            declined_by=frozenset(r.declined_by or []),
        )
        for r in rows
        if r.queue_id in by_id and by_id[r.queue_id].name in queues
    ]
    return views, {r.id: r.queue_id for r in rows}
