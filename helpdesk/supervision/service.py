"""Supervisors' actions and the wallboard's snapshot.

The actions on agents and calls belong to telephony, above the core: telephony implements the
`Floor` below (`telephony.supervision`) and the app registers it when it is created. Every action
goes through telephony's own service functions or the same compare-and-set rules, and is logged
to the call event log in the transaction that makes it.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select

from helpdesk.auth.models import User
from helpdesk.db import DbSession, utcnow
from helpdesk.slots import Slot
from helpdesk.supervision import live
from helpdesk.supervision.livestats import state_counts
from helpdesk.supervision.monitoring import Monitor


class Floor(Protocol):
    """The call floor supervisors act on: agents' presence and the calls in queues."""

    def set_agent_state(
        self, session: DbSession, *, supervisor: User, agent_id: int, state: str, reason: str = ""
    ) -> Any: ...

    def move_call(
        self, session: DbSession, *, supervisor: User, call_id: int, queue_name: str
    ) -> Any: ...

    def monitor_call(
        self, session: DbSession, *, supervisor: User, call_id: int, mode: str, monitor: Monitor
    ) -> dict[str, Any]: ...

    def queue_labels(self, session: DbSession) -> dict[str, tuple[str, str]]:
        """The active queues' English and French labels, by name."""
        ...


FLOOR: Slot[Floor] = Slot("call floor")


def _floor() -> Floor:
    return FLOOR.get()


def set_agent_state(
    session: DbSession, *, supervisor: User, agent_id: int, state: str, reason: str = ""
) -> Any:
    """A supervisor puts an agent on break, offline or back to available."""
    return _floor().set_agent_state(
        session, supervisor=supervisor, agent_id=agent_id, state=state, reason=reason
    )


def move_call(session: DbSession, *, supervisor: User, call_id: int, queue_name: str) -> Any:
    """Move a waiting call to another queue; it keeps its place in time (its wait so far)."""
    return _floor().move_call(
        session, supervisor=supervisor, call_id=call_id, queue_name=queue_name
    )


def monitor_call(
    session: DbSession, *, supervisor: User, call_id: int, mode: str, monitor: Monitor
) -> dict[str, Any]:
    """Put the supervisor on a call in progress (listen, whisper or barge)."""
    return _floor().monitor_call(
        session, supervisor=supervisor, call_id=call_id, mode=mode, monitor=monitor
    )


def wallboard(session: DbSession) -> dict[str, Any]:
    """Everything the wallboard shows, at once: what the page loads before live updates."""
    stats = live.current()
    assert stats is not None
    stats.ensure_loaded(session)
    now = utcnow()
    day = live.local_today()
    agg = stats.aggregator
    names = _floor().queue_labels(session)
    queue_list = sorted(set(names) | set(agg.queue_names()))
    agents = agg.agents(day, now)
    users = {
        u.id: u.name
        for u in session.scalars(select(User).where(User.id.in_([a["id"] for a in agents])))
    }
    for a in agents:
        a["name"] = users.get(a["id"], f"#{a['id']}")
    return {
        "day": day,
        "now": now.timestamp(),
        "threshold_s": agg.threshold_s,
        "target": stats.limits.service_level,
        "max_wait_s": stats.limits.longest_wait_s,
        "queues": [
            {
                **agg.queue_figures(q, day, now),
                "label_en": names[q][0] if q in names else q,
                "label_fr": names[q][1] if q in names else q,
                "intervals": agg.intervals(q, day),
            }
            for q in queue_list
        ],
        # Counted from the list itself: the tiles and the table show the same agents.
        "agent_states": state_counts(a["state"] for a in agents),
        "agents": agents,
        "alerts": stats.current_alerts(),
    }


def check_alerts(session: DbSession) -> int:
    """The periodic check: a caller's wait grows with no event, so look again every few
    seconds and push the longest waits (and any alert they raise)."""
    stats = live.current()
    if stats is None:
        return 0
    stats.ensure_loaded(session)
    now = utcnow()
    day = live.local_today()
    pushed = 0
    for queue in stats.aggregator.queue_names():
        figures = stats.aggregator.queue_figures(queue, day, now)
        if figures["waiting"] or stats.current_alerts().get(queue):
            stats.push_queue(queue, day, now)
            pushed += 1
    return pushed
