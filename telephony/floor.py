"""What every room of the call path shares: who hears about calls and presence, the two
announcements several rooms make, and the nudge to dispatch.

The rooms (`telephony.calls`, `.offers`, `.outbound`, `.agent_presence`) each publish to the
floor and ask for a dispatch once their transaction commits; keeping both here lets them do so
without importing one another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy.orm import object_session

from helpdesk import coalesce
from helpdesk.db import DbSession
from helpdesk.events import on_commit, publish
from telephony.models import Call
from telephony.queue_config import name_of

# Who hears about every call and presence change: the floor's supervisors (and admins), and the
# agent concerned in their own room. Not every console: at 20 calls a second, a broadcast to all
# agents is dozens of messages a second to each of them that no agent's console needs.
FLOOR = ("role:supervisor", "role:admin")


def request_dispatch(session: DbSession) -> None:
    """Try to pair waiting calls with free agents once this transaction commits."""
    if not has_app_context():
        return
    celery = current_app.extensions.get("celery")
    if celery is not None:
        gate = coalesce.current_gate()
        task = celery.tasks["telephony.tasks.dispatch"]
        on_commit(session, lambda: gate.request("dispatch", task.delay), quick=True)


def queue_name(session: DbSession, queue_id: int | None) -> str | None:
    """The name of queue `queue_id`, as the call log records it (`telephony.queue_config`)."""
    return name_of(session, queue_id)


def call_queue_name(call: Call) -> str | None:
    """The call's queue as the log names it."""
    session = object_session(call)
    if session is None:
        return call.queue.name if call.queue else None
    return name_of(session, call.queue_id)


def announce_presence(
    session: DbSession,
    agent_id: int,
    state: str,
    *,
    reason: str = "",
    until: datetime | None = None,
) -> None:
    """The floor and the agent's own console hear the agent's new state."""
    payload: dict[str, Any] = {"user_id": agent_id, "state": state}
    if until is not None:
        payload["until"] = until.isoformat()
    else:
        payload["reason"] = reason
    publish(session, "presence.updated", [*FLOOR, f"user:{agent_id}"], payload)


def announce_withdrawn(
    session: DbSession, *, call: Call, agent_id: int, agent_state: str, reason: str
) -> None:
    """The agent's console drops the call, and the floor sees the agent's new state."""
    publish(
        session,
        "call.withdrawn",
        [f"user:{agent_id}"],
        {"call_id": call.id, "call_sid": call.call_sid},
    )
    announce_presence(session, agent_id, agent_state, reason=reason)
