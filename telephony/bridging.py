"""The agent's leg of a conference bridge: how it is placed, and what happens when it fails.

On Twilio an accepted call is carried by a conference (`telephony.conference`): the caller waits
in it with the hold music while the agent's own leg rings. That leg can fail out of the caller's
hearing: the agent's phone rings out, is busy, or cannot be reached, and the caller would wait in
the music for ever. Its status callback (`/twilio/voice/agent-status`) puts the caller back in line
here instead.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.errors import NotFound
from helpdesk.events import on_commit
from helpdesk.supervision import calllog
from telephony.agent_presence import move
from telephony.conference import PENDING_LEG, AgentLeg
from telephony.floor import announce_withdrawn, queue_name, request_dispatch
from telephony.models import AgentPresence, Call
from telephony.presence import MISSED_CALL, Event
from telephony.queue_config import queue_row

log = logging.getLogger(__name__)

# How an agent leg ends without the agent: Twilio's final CallStatus values other than completed.
UNANSWERED = frozenset({"no-answer", "busy", "failed", "canceled"})
DEFAULT_RING_S = 20


def agent_leg(session: DbSession, call: Call) -> AgentLeg:
    """How the agent's leg of `call` is placed: from the center's number, ringing as long as an
    offer of the call's queue does, its end reported to a signed webhook that names the call."""
    from flask import current_app

    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    queue = queue_row(session, call.queue_id)
    return AgentLeg(
        from_number=current_app.config["TWILIO_PHONE_NUMBER"],
        status_callback=f"{base}/twilio/voice/agent-status?call={call.id}",
        wait_url=f"{base}/twilio/voice/hold",
        ring_timeout_s=queue.ring_timeout_s if queue else DEFAULT_RING_S,
    )


def _endpoint(session: DbSession, agent_id: int) -> str:
    presence = session.get(AgentPresence, agent_id)
    return (presence.endpoint if presence else "") or f"client:agent-{agent_id}"


# -- the dial-back path ---------------------------------------------------------------------------


def connect_callback(session: DbSession, call: Call, gateway: Any) -> str:
    """The customer answered a callback we placed: the TwiML that brings them to the agent.

    On Twilio that is the call's conference, and the agent's leg is rung by a task once this
    answer is committed (`add_agent_leg`): a webhook answers from quick database work only. The
    simulator's TwiML dials the agent directly and its `add_agent_leg` does nothing.
    """
    if call.agent_id is None:
        raise NotFound(f"no agent for call {call.id}")
    endpoint = _endpoint(session, call.agent_id)
    twiml = str(gateway.connect_twiml(call.call_sid, endpoint, agent_leg(session, call)))
    _request_agent_leg(session, call.id)
    session.commit()
    return twiml


def _request_agent_leg(session: DbSession, call_id: int) -> None:
    from flask import current_app, has_app_context

    if not has_app_context():
        return
    celery = current_app.extensions.get("celery")
    if celery is not None:
        on_commit(session, lambda: celery.tasks["telephony.tasks.add_agent_leg"].delay(call_id))


def add_agent_leg(session: DbSession, call_id: int, gateway: Any) -> str | None:
    """Ring the agent into a dial-back's conference, once.

    The row is claimed first (`agent_call_sid` from empty to pending, compare-and-set), so a
    replayed connect webhook or a task delivered twice does not ring the agent a second time.
    Should Twilio refuse the leg, the customer is put back in line as if it had rung out.
    """
    claimed = session.execute(
        update(Call)
        .where(
            Call.id == call_id,
            Call.agent_call_sid.is_(None),
            Call.agent_id.is_not(None),
            Call.routing_state == "connected",
            Call.ended_at.is_(None),
        )
        .values(agent_call_sid=PENDING_LEG)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if rowcount(claimed) != 1:
        return None
    call = session.get(Call, call_id)
    assert call is not None and call.agent_id is not None
    try:
        sid = gateway.add_agent_leg(
            call.call_sid, _endpoint(session, call.agent_id), agent_leg(session, call)
        )
    except Exception:
        log.exception("ringing the agent into call %s failed", call_id)
        agent_leg_ended(session, call_id=call_id, leg_sid=PENDING_LEG, status="failed")
        return None
    call.agent_call_sid = sid
    session.commit()
    return str(sid) if sid else None


# -- a leg that ended without the agent ------------------------------------------------------------


def agent_leg_ended(session: DbSession, *, call_id: int, leg_sid: str, status: str) -> bool:
    """The agent leg's status callback: True when the caller was put back in line.

    An agent leg that ends unanswered (no-answer, busy, failed, canceled) while the caller is
    still in the conference is handled as the ring timeout of an offer is (`offers.expire`):
    a `timeout` for the agent, who goes on break ("missed call") so that the next call does not
    ring an absent phone; the call waits again in its queue, keeps the time already waited and
    is not offered to that agent again. Its acceptance had been logged as `connected`; a
    `requeued` entry takes it back, so the figures count the call as answered once, when an
    agent really takes it.

    Idempotent: the change is a compare-and-set on the call still carried by this very leg, so
    a retried callback, a leg replaced since, a completed leg (the agent answered) or a caller
    who already hung up change nothing.
    """
    if status not in UNANSWERED:
        return False
    call = session.get(Call, call_id)
    if call is None or call.agent_id is None:
        return False
    agent_id = call.agent_id
    now = utcnow()
    taken_back = session.execute(
        update(Call)
        .where(
            Call.id == call.id,
            Call.routing_state == "connected",
            Call.agent_call_sid == leg_sid,
            Call.ended_at.is_(None),
        )
        .values(
            routing_state="waiting",
            agent_id=None,
            agent_call_sid=None,
            answered_at=None,
            wait_seconds=None,
            enqueued_at=call.enqueued_at or now,
            declined_by=sorted({*(call.declined_by or []), agent_id}),
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken_back) != 1:
        session.rollback()
        return False
    session.refresh(call)
    _log_requeue(session, call, agent_id, status, now)
    _free_agent(session, call, agent_id, now)
    request_dispatch(session)
    session.commit()
    return True


def _log_requeue(session: DbSession, call: Call, agent_id: int, status: str, now: datetime) -> None:
    """`timeout` as a ring timeout logs it, then `requeued`, which carries the wait that the
    acceptance's `connected` counted (found on the agent's latest `connected`: an agent on a
    call accepts no other) and the time the call waits since."""
    from helpdesk.supervision.models import CallEvent

    queue = queue_name(session, call.queue_id)
    connected = session.scalar(
        select(CallEvent)
        .where(CallEvent.event == "connected", CallEvent.agent_id == agent_id)
        .order_by(CallEvent.id.desc())
        .limit(1)
    )
    calllog.record(
        session, "timeout", call_id=call.id, queue=queue, agent_id=agent_id, leg_status=status
    )
    since = call.enqueued_at or now
    calllog.record(
        session,
        "requeued",
        call_id=call.id,
        queue=queue,
        agent_id=agent_id,
        wait_s=connected.wait_s if connected is not None else 0.0,
        since=since.timestamp(),
    )


def _free_agent(session: DbSession, call: Call, agent_id: int, now: datetime) -> None:
    move(
        session,
        event=Event.LEG_FAILED,
        now=now,
        agent_id=agent_id,
        call_id=call.id,
        reason=MISSED_CALL,
    )
    announce_withdrawn(
        session, call=call, agent_id=agent_id, agent_state="break", reason=MISSED_CALL
    )
