"""What supervisors do on the call floor: put an agent on break or back, move a waiting call to
another queue, listen in on a call. Implements `helpdesk.supervision.service.Floor`, which the app
registers (this module) when it is created."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from helpdesk.auth.models import Role, User
from helpdesk.db import DbSession, rowcount
from helpdesk.errors import APIError, Conflict, NotFound
from helpdesk.events import publish
from helpdesk.supervision import calllog
from helpdesk.supervision.monitoring import MODES, Monitor, MonitoringUnavailable
from telephony import floor
from telephony.agent_presence import set_presence
from telephony.conference import agent_leg_sid
from telephony.floor import FLOOR
from telephony.models import Call, CallQueue
from telephony.recording_models import CallMonitor


def set_agent_state(
    session: DbSession, *, supervisor: User, agent_id: int, state: str, reason: str = ""
) -> Any:
    """A supervisor puts an agent on break, offline or back to available."""
    agent = session.get(User, agent_id)
    if agent is None or agent.role is not Role.AGENT:
        raise NotFound(f"no agent {agent_id}")
    why = reason or f"set by {supervisor.name}"
    return set_presence(session, user=agent, state=state, reason=why if state == "break" else "")


def move_call(session: DbSession, *, supervisor: User, call_id: int, queue_name: str) -> Any:
    """Move a waiting call to another queue; it keeps its place in time (its wait so far)."""
    target = session.scalar(select(CallQueue).where(CallQueue.name == queue_name, CallQueue.active))
    if target is None:
        raise APIError(
            "no such queue",
            code="validation_error",
            status=422,
            fields={"queue": f"no active queue named {queue_name!r}"},
        )
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    if call.queue_id == target.id:
        raise Conflict("the call is already in this queue", code="same_queue")
    source = floor.queue_name(session, call.queue_id)
    moved = session.execute(
        update(Call)
        .where(Call.id == call.id, Call.routing_state == "waiting")
        .values(queue_id=target.id, declined_by=[])
        .execution_options(synchronize_session=False)
    )
    if rowcount(moved) != 1:
        raise Conflict("only a waiting call can be moved", code="not_waiting")
    calllog.record(
        session,
        "transferred",
        call_id=call.id,
        queue=source,
        to_queue=target.name,
        by=supervisor.id,
        # Counted, in both queues, in the interval the call was offered in (calllog.OUTCOMES).
        since=call.enqueued_at.timestamp() if call.enqueued_at else None,
    )
    publish(session, "queue.updated", list(FLOOR), {"queue": target.name, "call_id": call.id})
    floor.request_dispatch(session)
    session.commit()
    session.refresh(call)
    return call


def monitor_call(
    session: DbSession, *, supervisor: User, call_id: int, mode: str, monitor: Monitor
) -> dict[str, Any]:
    """Put the supervisor on a call in progress. The agent leg recorded by the conference bridge
    is what a whisper coaches; a call without one is in no conference we made (409). One
    supervisor at a time barges into a call: a second gets 409 `already_barged`, however close
    together they clicked. Commits."""
    if mode not in MODES:
        raise APIError(
            "invalid mode",
            code="validation_error",
            status=422,
            fields={"mode": "listen, whisper or barge"},
        )
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    if call.routing_state != "connected" or call.ended_at is not None:
        raise Conflict("only a call in progress can be listened to", code="not_connected")
    call_sid, agent_leg = call.call_sid, agent_leg_sid(call.agent_call_sid)
    joined = _take_seat(session, call_id=call.id, supervisor_id=supervisor.id, mode=mode)
    try:
        leg = monitor.join(
            call_sid=call_sid,
            supervisor_endpoint=f"client:agent-{supervisor.id}",
            mode=mode,
            agent_call_sid=agent_leg,
        )
    except MonitoringUnavailable as exc:
        session.rollback()
        raise APIError(str(exc), code="monitoring_unavailable", status=409) from exc
    except Exception as exc:
        session.rollback()
        raise APIError(
            "the telephony provider did not add you to the call",
            code="monitoring_failed",
            status=409,
        ) from exc
    joined.leg_sid = leg
    session.commit()
    return {"call_id": call_id, "mode": mode, "supervisor_call_sid": leg}


def _take_seat(session: DbSession, *, call_id: int, supervisor_id: int, mode: str) -> CallMonitor:
    """Note the supervisor on the call before the network is asked. A barge takes the call's one
    barge seat (a unique key): a concurrent second barge waits for the first to commit, then
    finds the seat taken, so two supervisors never talk over the agent at once."""
    joined = CallMonitor(
        call_id=call_id,
        supervisor_id=supervisor_id,
        mode=mode,
        barge_slot="barge" if mode == "barge" else None,
    )
    try:
        with session.begin_nested():
            session.add(joined)
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            "another supervisor is already barging into this call", code="already_barged"
        ) from exc
    return joined


def queue_labels(session: DbSession) -> dict[str, tuple[str, str]]:
    """The active queues' English and French labels, by name."""
    return {
        q.name: (q.label_en, q.label_fr)
        for q in session.scalars(select(CallQueue).where(CallQueue.active))
    }
