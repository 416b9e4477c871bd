"""Calls from first ring to wrap-up: upsert, IVR bookkeeping, queueing, offers, outcomes.

Webhooks call these functions with the little the request carries and get back plain values; the
routing decision itself is `telephony.routing`. Offers are made with compare-and-set claims on the
agent's presence row and on the call row, so no call is offered to two agents and no agent holds
two calls, whatever number of processes dispatch at once.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Integer, Select, bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk.auth.models import AgentSkill, User
from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer, CustomerPhone, CustomerTag
from helpdesk.customers.phones import region_of, try_e164
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.errors import APIError, Conflict, NotFound
from helpdesk.events import on_commit, publish
from helpdesk.supervision import calllog
from helpdesk.timeline import service as timeline
from helpdesk.webhooks import emit as emit_webhook
from telephony import routing, webhook_payloads
from telephony.models import AgentPresence, Call, CallOffer, CallQueue, moves_forward

# Who hears about every call and presence change: the floor's supervisors (and admins), and the
# agent concerned in their own room. Not every console: at 20 calls a second, a broadcast to all
# agents is dozens of messages a second to each of them that no agent's console needs.
FLOOR = ("role:supervisor", "role:admin")

log = logging.getLogger(__name__)

FRENCH_REGIONS = {"FR", "BE", "CH", "LU", "MC", "RE", "GP", "MQ", "GF", "YT", "PM", "NC", "PF"}
PRESENCE_CHOICES = {"available", "break", "offline"}


@dataclass(frozen=True)
class InboundCall:
    """The parts of Twilio's incoming-call webhook that the call center uses."""

    call_sid: str
    from_number: str
    to_number: str
    status: str = "ringing"


def _language_for(number: str) -> str:
    region = region_of(number)
    return "fr" if region in FRENCH_REGIONS else "en"


def upsert_inbound(session: DbSession, inbound: InboundCall, *, region: str) -> tuple[Call, bool]:
    """The call for this CallSid, created on first sight; (call, known customer language?).

    A retried or duplicated webhook finds the row it created the first time.
    """
    existing = session.scalar(select(Call).where(Call.call_sid == inbound.call_sid))
    if existing is not None:
        return existing, bool(existing.ivr_path)
    e164 = try_e164(inbound.from_number, region) or inbound.from_number
    # Only the id and language: the webhook must answer fast, the contacts are not needed here.
    known = session.execute(
        select(Customer.id, Customer.language)
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.e164 == e164, Customer.merged_into_id.is_(None))
        .order_by(Customer.updated_at.desc(), Customer.id.desc())
        .limit(1)
    ).first()
    if known is not None:
        customer_id, language, language_known = known.id, known.language, True
    else:
        created = customers.create(
            session,
            name=e164,
            language=_language_for(e164),
            phones=[e164] if try_e164(e164, region) else [],
            tags=["new-caller"],
            region=region,
            commit=False,
        )
        customer_id, language, language_known = created.id, created.language, False
    call = Call(
        call_sid=inbound.call_sid,
        direction="inbound",
        from_number=e164,
        to_number=inbound.to_number,
        customer_id=customer_id,
        language=language,
        status=inbound.status,
        created_at=utcnow(),
    )
    session.add(call)
    try:
        session.commit()
    except IntegrityError:
        # The same webhook delivered twice at once: the other request created it, having found
        # what this one found (the caller known or not), so both answer the same.
        session.rollback()
        again = session.scalar(select(Call).where(Call.call_sid == inbound.call_sid))
        if again is None:
            raise
        return again, language_known
    return call, language_known


def get_call(session: DbSession, call_sid: str) -> Call:
    call: Call | None = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is None:
        raise NotFound(f"no call {call_sid}")
    return call


def call_for_step(session: DbSession, call_sid: str, *, lock: bool = True) -> Call | None:
    """The call an IVR step names, its row locked (`lock`) until the step's transaction ends:
    a copy of the same webhook (Twilio retries a slow one while it still runs) waits, then reads
    what the first did. SQLite takes the database's write lock when the transaction begins
    instead."""
    query = select(Call).where(Call.call_sid == call_sid)
    call: Call | None = session.scalar(query.with_for_update() if lock else query)
    return call


def note_ivr(session: DbSession, call: Call, step: str, *, commit: bool = True) -> None:
    """Add a step to the call's IVR path; `commit=False` leaves it to the commit that follows
    (queueing the caller), so that a menu choice costs the webhook one transaction. The same
    step twice in a row is a replayed webhook, noted once."""
    path = list(call.ivr_path or [])
    if not path or path[-1] != step:
        call.ivr_path = [*path, step][-30:]
    if commit:
        session.commit()


# -- queueing --------------------------------------------------------------------------------------


@functools.cache
def _priority_query() -> Select[Any]:
    """Built once (see `_customer_priority`): whether the caller is VIP, whether one of their
    open tickets is at risk of breaching its SLA, and their value segment."""
    from helpdesk.sla.models import SlaClock
    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.workflow import UNRESOLVED
    from helpdesk.value.models import CustomerValue

    customer_id: BindParameter[int] = bindparam("customer_id", type_=Integer)
    vip = exists().where(CustomerTag.customer_id == customer_id, CustomerTag.tag == "vip")
    at_risk = exists().where(
        SlaClock.ticket_id == Ticket.id,
        Ticket.requester_id == customer_id,
        Ticket.status.in_(UNRESOLVED),
        SlaClock.running_since.is_not(None),
        SlaClock.at_risk_at <= bindparam("now"),
    )
    segment = (
        select(CustomerValue.segment)
        .where(CustomerValue.customer_id == customer_id)
        .scalar_subquery()
    )
    return select(vip, at_risk, segment)


def _customer_priority(session: DbSession, customer_id: int | None) -> int:
    """The caller's place in line from their tags, tickets at risk and value: one query."""
    if customer_id is None:
        return 0
    # Nothing pending on the call matters to these reads: no flush of it before they run.
    with session.no_autoflush:
        row = session.execute(
            _priority_query(), {"customer_id": customer_id, "now": utcnow()}
        ).one()
    return routing.call_priority(
        segment=row[2], sla_at_risk=bool(row[1]), callback=False, vip=bool(row[0])
    )


def queue_by_name(session: DbSession, name: str) -> CallQueue:
    queue: CallQueue | None = session.scalar(
        select(CallQueue).where(CallQueue.name == name, CallQueue.active)
    )
    if queue is None:
        raise NotFound(f"no queue {name}")
    return queue


def enqueue(session: DbSession, call: Call, queue: CallQueue, *, step: str | None = None) -> bool:
    """Put the caller in line (noting the IVR `step` that chose the queue in the same
    transaction); False when the call has been routed already: a retried or replayed webhook,
    which changes nothing and logs no second `entered`."""
    if call.routing_state != "none":
        return False
    if step is not None:
        note_ivr(session, call, step, commit=False)
    call.priority = _customer_priority(session, call.customer_id)
    call.queue_id = queue.id
    call.enqueued_at = call.enqueued_at or utcnow()
    call.routing_state = "waiting"
    calllog.record(session, "entered", call_id=call.id, queue=queue.name, priority=call.priority)
    publish(session, "queue.updated", list(FLOOR), {"queue": queue.name, "call_id": call.id})
    request_dispatch(session)
    session.commit()
    return True


def request_callback(session: DbSession, call: Call, *, step: str | None = None) -> bool:
    """The caller hangs up but keeps their place: we dial them when an agent takes the call.
    Once per call, and only for a caller in line: False (nothing changed, no second `callback`
    counted, no second priority raise) when already asked for or not waiting."""
    if call.callback_requested or call.routing_state not in ("waiting", "offered"):
        session.commit()
        return False
    if step is not None:
        note_ivr(session, call, step, commit=False)
    call.callback_requested = True
    call.priority += routing.CALLBACK_PRIORITY
    call.outcome = "callback"
    waited = (utcnow() - call.enqueued_at).total_seconds() if call.enqueued_at else None
    calllog.record(
        session,
        "callback",
        call_id=call.id,
        queue=queue_name(session, call.queue_id),
        wait_s=waited,
    )
    session.commit()
    return True


# -- status callbacks ------------------------------------------------------------------------------


def apply_status(session: DbSession, call_sid: str, status: str) -> Call | None:
    """A status callback: never moves a call backwards; the final one records the outcome.

    The call's row is locked first, so that two copies of the final callback at once record
    one outcome: the second waits, then finds the status already there."""
    # With its queue: the final status logs the call under the queue's name.
    call: Call | None = session.scalar(
        select(Call)
        .options(joinedload(Call.queue))
        .where(Call.call_sid == call_sid)
        .with_for_update(of=Call)
    )
    if call is None:
        return None
    if not moves_forward(call.status, status):
        session.commit()
        return call  # late, repeated or out of order
    call.status = status
    if status in ("completed", "busy", "failed", "no-answer", "canceled"):
        _finish(session, call, utcnow())
    session.commit()
    return call


def presences(session: DbSession) -> list[tuple[int, str, datetime]]:
    """Every agent's presence as (user id, state, since): what the live statistics seed agents
    from when they rebuild."""
    return [(p.user_id, p.state, p.since) for p in session.scalars(select(AgentPresence))]


def queue_name(session: DbSession, queue_id: int | None) -> str | None:
    """The name of queue `queue_id`, as the call log records it."""
    if queue_id is None:
        return None
    queue = session.get(CallQueue, queue_id)
    return queue.name if queue else None


def _queue_name(call: Call) -> str | None:
    """The call's queue as the log names it (only where `queue_id` is not changing)."""
    return call.queue.name if call.queue else None


def _finish(session: DbSession, call: Call, now: datetime) -> None:
    call.ended_at = now
    if call.routing_state == "connected" and call.answered_at:
        call.outcome = "answered"
        call.talk_seconds = (now - call.answered_at).total_seconds()
        calllog.record(
            session,
            "completed",
            call_id=call.id,
            queue=_queue_name(call),
            agent_id=call.agent_id,
            talk_s=call.talk_seconds,
            direction=call.direction,
        )
        if call.agent_id:
            _start_wrap_up(session, call.agent_id, call, now)
    elif call.callback_requested and call.routing_state in ("waiting", "offered"):
        pass  # still in line: the callback will dial the customer
    elif call.routing_state in ("waiting", "offered"):
        call.outcome = call.outcome or "abandoned"
        _cancel_offer(session, call, now)
        call.routing_state = "done"
        waited = (now - call.enqueued_at).total_seconds() if call.enqueued_at else None
        calllog.record(
            session,
            "abandoned",
            call_id=call.id,
            queue=_queue_name(call),
            wait_s=max(waited or 0.0, 0.0),
        )
    elif call.outcome is None:
        call.outcome = "abandoned" if call.direction == "inbound" else "missed"
        call.routing_state = "done"
    if call.enqueued_at and call.wait_seconds is None:
        until = call.answered_at or now
        call.wait_seconds = max((until - call.enqueued_at).total_seconds(), 0.0)
    if not (call.callback_requested and call.routing_state in ("waiting", "offered")):
        add_call_to_timeline(session, call)
    publish(
        session,
        "call.ended",
        [*FLOOR, *([f"user:{call.agent_id}"] if call.agent_id else [])],
        {
            "call_id": call.id,
            "call_sid": call.call_sid,
            "outcome": call.outcome,
            "agent_id": call.agent_id,
        },
    )
    emit_webhook(session, "call.ended", webhook_payloads.call_ended(call))


def add_call_to_timeline(session: DbSession, call: Call) -> None:
    """The call as one entry on its customer's timeline (nothing for an unknown caller)."""
    if call.customer_id is None:
        return
    waited = f", waited {int(call.wait_seconds or 0)} s" if call.wait_seconds else ""
    talked = f", talked {int(call.talk_seconds or 0)} s" if call.talk_seconds else ""
    timeline.append(
        session,
        customer_id=call.customer_id,
        kind="call",
        occurred_at=call.created_at,
        subject_type="call",
        subject_id=call.id,
        ticket_id=call.ticket_id,
        summary=f"{call.direction} call {call.outcome or ''}{waited}{talked}".strip(),
        # The facts, not only the English summary, so each console can word them itself.
        data={
            "call_sid": call.call_sid,
            "outcome": call.outcome,
            "direction": call.direction,
            "agent_id": call.agent_id,
            "ivr_path": call.ivr_path,
            "wait_s": round(call.wait_seconds or 0),
            "talk_s": round(call.talk_seconds or 0),
        },
    )


def record_voicemail(
    session: DbSession, call: Call, recording_url: str, duration_s: int | None
) -> int:
    """A voicemail becomes a ticket, with the recording on the customer's timeline."""
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Channel

    if call.ticket_id:
        return call.ticket_id  # a retried Record callback
    if call.customer_id is None:
        raise NotFound("the call has no caller record")
    customer = session.get(Customer, call.customer_id) if call.customer_id else None
    who = customer.name if customer else call.from_number
    ticket = tickets.create(
        session,
        actor=None,
        subject=f"Voicemail from {who}",
        description=f"Recording: {recording_url}\nDuration: {duration_s or '?'} s",
        requester_id=call.customer_id,
        channel=Channel.PHONE,
        tags=["voicemail"],
        commit=False,
    )
    call.ticket_id = ticket.id
    call.recording_url = recording_url
    call.outcome = "voicemail"
    call.routing_state = "done"
    timeline.append(
        session,
        customer_id=ticket.requester_id,
        kind="voicemail",
        ticket_id=ticket.id,
        subject_type="call",
        subject_id=call.id,
        summary=f"Voicemail ({duration_s or '?'} s)",
        data={
            "recording_url": recording_url,
            "call_sid": call.call_sid,
            "duration_s": duration_s,
        },
    )
    session.commit()
    return ticket.id


# -- presence --------------------------------------------------------------------------------------


def presence_of(session: DbSession, user_id: int) -> AgentPresence:
    presence = session.get(AgentPresence, user_id)
    if presence is None:
        presence = AgentPresence(
            user_id=user_id,
            state="offline",
            since=utcnow(),
            endpoint=f"client:agent-{user_id}",
            calls_today=0,
            calls_day="",
        )
        session.add(presence)
        session.flush()
    return presence


def set_presence(session: DbSession, user: User, state: str, reason: str = "") -> AgentPresence:
    if state not in PRESENCE_CHOICES:
        raise APIError(
            "invalid state",
            code="validation_error",
            status=422,
            fields={"state": "available, break or offline"},
        )
    presence = presence_of(session, user.id)
    if presence.state in ("reserved", "on_call"):
        raise Conflict(
            f"cannot change presence while {presence.state.replace('_', ' ')}",
            code="presence_locked",
        )
    now = utcnow()
    calllog.agent_state(session, user.id, state, previous=presence.state, reason=reason[:100])
    presence.state = state
    presence.reason = reason[:100] if state == "break" else ""
    presence.since = now
    presence.wrap_up_until = None
    if state == "available":
        presence.idle_since = now
        request_dispatch(session)
    publish(
        session,
        "presence.updated",
        [*FLOOR, f"user:{user.id}"],
        {"user_id": user.id, "state": state, "reason": presence.reason},
    )
    session.commit()
    return presence


def _start_wrap_up(session: DbSession, agent_id: int, call: Call, now: datetime) -> None:
    seconds = call.queue.wrap_up_s if call.queue else 30
    moved = session.execute(
        update(AgentPresence)
        .where(AgentPresence.user_id == agent_id, AgentPresence.current_call_id == call.id)
        .values(
            state="wrap_up",
            since=now,
            current_call_id=None,
            wrap_up_until=now + timedelta(seconds=seconds),
        )
    )
    if rowcount(moved):
        calllog.agent_state(session, agent_id, "wrap_up", previous="on_call")
    publish(
        session,
        "presence.updated",
        [*FLOOR, f"user:{agent_id}"],
        {
            "user_id": agent_id,
            "state": "wrap_up",
            "until": (now + timedelta(seconds=seconds)).isoformat(),
        },
    )


def wrap_up(
    session: DbSession, user: User, call_id: int, *, disposition: str | None, notes: str, done: bool
) -> Call:
    # With its queue, which the answer names.
    call = session.get(Call, call_id, options=[joinedload(Call.queue)])
    if call is None or call.agent_id != user.id:
        raise NotFound(f"no call {call_id} of yours")
    if call.ended_at is None and done:
        raise Conflict(
            "the call is still going on; wrap up once it has ended", code="call_in_progress"
        )
    if disposition is not None:
        call.disposition = disposition
    if notes:
        call.wrap_up_notes = notes
        if call.customer_id:
            timeline.append(
                session,
                customer_id=call.customer_id,
                kind="call_note",
                subject_type="call",
                subject_id=call.id,
                ticket_id=call.ticket_id,
                summary=f"Wrap-up ({disposition or 'no disposition'}): {notes}",
                data={"disposition": disposition, "agent_id": user.id, "notes": notes[:2000]},
            )
    if done:
        now = utcnow()
        won = session.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == user.id, AgentPresence.state == "wrap_up")
            .values(state="available", since=now, idle_since=now, wrap_up_until=None)
        )
        if rowcount(won):
            calllog.agent_state(session, user.id, "available", previous="wrap_up")
            # Said like every other presence change, so an open console (and the floor) follows
            # even when the page's own answer crossed a snapshot read before this commit.
            publish(
                session,
                "presence.updated",
                [*FLOOR, f"user:{user.id}"],
                {"user_id": user.id, "state": "available", "reason": ""},
            )
            request_dispatch(session)
    session.commit()
    return call


# -- offers ----------------------------------------------------------------------------------------


def request_dispatch(session: DbSession) -> None:
    """Try to pair waiting calls with free agents once this transaction commits."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return
    celery = current_app.extensions.get("celery")
    if celery is not None:
        gate = current_app.extensions["dispatch_gate"]
        task = celery.tasks["telephony.tasks.dispatch"]
        on_commit(session, lambda: gate.request("dispatch", task.delay))


def _agent_views(session: DbSession, now: datetime) -> list[routing.AgentView]:
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


def _queue_spec(q: CallQueue) -> routing.QueueSpec:
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
    return {
        q.name: _queue_spec(q) for q in session.scalars(select(CallQueue).where(CallQueue.active))
    }


_ANYTHING_TO_DECIDE = select(
    exists().where(Call.routing_state == "waiting"),
    exists().where(
        AgentPresence.state == "available", AgentPresence.user_id == User.id, User.active
    ),
)


def _reoffer_after_s() -> float:
    """The configured back-off before a declined call may go back to an agent who declined it."""
    from flask import current_app, has_app_context

    settings = current_app.config.get("HELPDESK_SETTINGS") if has_app_context() else None
    value = getattr(settings, "HELPDESK_REOFFER_BACKOFF_S", None)
    return routing.REOFFER_AFTER_S if value is None else float(value)


def dispatch(
    session: DbSession,
    *,
    now: datetime | None = None,
    limit: int = 500,
    reoffer_after_s: float | None = None,
) -> int:
    """Offer waiting calls to free agents; returns how many offers were made. A call declined by
    every free agent who could take it goes back to one of them after `reoffer_after_s` (by
    default the configured back-off)."""
    now = now or utcnow()
    if reoffer_after_s is None:
        reoffer_after_s = _reoffer_after_s()
    # First whether there is anything to decide, in one cheap statement: nobody free (the usual
    # state of a busy call center) or nobody waiting (a quiet one, or an agent coming free when
    # no caller waits, which is most of the dispatches asked for). Reading the free agents with
    # their skills, the queues and the waiting calls is for when both are there. A dispatch
    # runs one at a time, so a quick one also holds back the next one less.
    waiting, free = session.execute(_ANYTHING_TO_DECIDE).one()
    if not (waiting and free):
        session.commit()
        return 0
    agents = _agent_views(session, now)
    if not agents:
        session.commit()
        return 0
    by_id = {q.id: q for q in session.scalars(select(CallQueue))}
    queues = {q.name: _queue_spec(q) for q in by_id.values() if q.active}
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
    queue_of = {r.id: r.queue_id for r in rows}
    made = 0
    for call_id, agent_id in routing.plan(
        views, agents, queues, now, reoffer_after_s=reoffer_after_s
    ):
        call = session.get(Call, call_id)
        queue_id = queue_of[call_id]
        if (
            call is not None
            and queue_id is not None
            and _claim_offer(session, call, agent_id, by_id[queue_id], now)
        ):
            made += 1
    session.commit()
    return made


def _claim_offer(
    session: DbSession, call: Call, agent_id: int, queue: CallQueue, now: datetime
) -> bool:
    """Reserve the agent and the call together, or neither (a savepoint undoes a half claim)."""
    nested = session.begin_nested()
    got_agent = (
        rowcount(
            session.execute(
                update(AgentPresence)
                .where(AgentPresence.user_id == agent_id, AgentPresence.state == "available")
                .values(state="reserved", since=now, last_offered_at=now, current_call_id=call.id)
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )
    got_call = (
        got_agent
        and rowcount(
            session.execute(
                update(Call)
                .where(Call.id == call.id, Call.routing_state == "waiting")
                .values(routing_state="offered", offered_at=now, agent_id=agent_id)
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )
    if not got_call:
        nested.rollback()
        return False
    # Stamped once both claims are won: a claim may have waited for another transaction to let
    # go of the agent's row, and the offer exists only from now on.
    offered_at = utcnow()
    expires = offered_at + timedelta(seconds=queue.ring_timeout_s)
    session.add(
        CallOffer(
            call_id=call.id,
            agent_id=agent_id,
            state="pending",
            created_at=offered_at,
            expires_at=expires,
        )
    )
    nested.commit()
    # The claim's UPDATE wrote these three; the rest of the row was read just before.
    for name, value in (("routing_state", "offered"), ("offered_at", now), ("agent_id", agent_id)):
        set_committed_value(call, name, value)
    calllog.record(session, "offered", call_id=call.id, queue=queue.name, agent_id=agent_id)
    calllog.agent_state(session, agent_id, "reserved", previous="available")
    from telephony.screen import screen

    pop = {**screen(session, call), "expires_at": expires.isoformat()}
    # The offer names the customer the caller screen has just read: no second read of the card.
    publish(session, "call.offer", [f"user:{agent_id}"], offer_payload(session, call, expires, pop))
    publish(session, "screen_pop", [f"user:{agent_id}"], pop)
    return True


OFFER_CUSTOMER_FIELDS = ("id", "name", "language", "tags")


def offer_payload(
    session: DbSession, call: Call, expires: datetime, pop: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The `call.offer` event; given the call's `screen_pop` payload, its customer and queue are
    taken from there instead of being read again."""
    if pop is not None:
        card = pop.get("customer")
        customer = {k: card[k] for k in OFFER_CUSTOMER_FIELDS} if card else None
        queue_name = pop.get("queue")
    else:
        row = session.get(Customer, call.customer_id) if call.customer_id else None
        customer = {k: getattr(row, k) for k in OFFER_CUSTOMER_FIELDS} if row else None
        queue = session.get(CallQueue, call.queue_id) if call.queue_id else None
        queue_name = queue.name if queue else None
    return {
        "call_id": call.id,
        "call_sid": call.call_sid,
        "from": call.from_number,
        "queue": queue_name,
        "language": call.language,
        "ivr_path": list(call.ivr_path or []),
        "waited_s": round((utcnow() - call.enqueued_at).total_seconds(), 1)
        if call.enqueued_at
        else 0,
        "expires_at": expires.isoformat(),
        "callback": call.callback_requested,
        "customer": customer,
    }


def _pending_offer(session: DbSession, call_id: int, agent_id: int) -> CallOffer:
    offer: CallOffer | None = session.scalar(
        select(CallOffer).where(
            CallOffer.call_id == call_id,
            CallOffer.agent_id == agent_id,
            CallOffer.state == "pending",
        )
    )
    if offer is None:
        raise Conflict(
            "this call is not ringing for you (taken, withdrawn or timed out)", code="offer_gone"
        )
    return offer


def _decide(session: DbSession, offer: CallOffer, state: str, now: datetime) -> bool:
    won = session.execute(
        update(CallOffer)
        .where(CallOffer.id == offer.id, CallOffer.state == "pending")
        .values(state=state, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(won) == 1


def accept(session: DbSession, user: User, call_id: int, gateway: Any) -> Call:
    """The agent takes the call: the caller leaves the queue and is bridged to them."""
    now = utcnow()
    offer = _pending_offer(session, call_id, user.id)
    if offer.expires_at <= now or not _decide(session, offer, "accepted", now):
        raise Conflict("the offer expired", code="offer_expired")
    call = session.get(Call, call_id)
    assert call is not None
    presence = presence_of(session, user.id)
    call.routing_state = "connected"
    call.answered_at = now
    if call.enqueued_at:
        call.wait_seconds = (now - call.enqueued_at).total_seconds()
    today = now.date().isoformat()
    presence.calls_today = (presence.calls_today if presence.calls_day == today else 0) + 1
    presence.calls_day = today
    presence.state = "on_call"
    presence.since = now
    session.flush()
    calllog.record(
        session,
        "connected",
        call_id=call.id,
        queue=_queue_name(call),
        agent_id=user.id,
        wait_s=call.wait_seconds or 0.0,
        callback=call.callback_requested or None,
    )
    calllog.agent_state(session, user.id, "on_call", previous="reserved")
    try:
        if call.callback_requested:
            call = _dial_back(session, call, user.id, presence, gateway, now)
        else:
            from telephony import bridging

            call.agent_call_sid = gateway.bridge(
                call.call_sid,
                presence.endpoint or f"client:agent-{user.id}",
                bridging.agent_leg(session, call),
            )
    except Exception as exc:
        session.rollback()
        log.exception("bridging call %s failed", call_id)
        raise APIError(
            "the telephony provider did not connect the call; try again",
            code="bridge_failed",
            status=409,
        ) from exc
    publish(
        session,
        "call.connected",
        [*FLOOR, f"user:{user.id}"],
        {"call_id": call.id, "call_sid": call.call_sid, "agent_id": user.id},
    )
    session.commit()
    return call


def _dial_back(
    session: DbSession,
    original: Call,
    agent_id: int,
    presence: AgentPresence,
    gateway: Any,
    now: datetime,
) -> Call:
    """A callback's turn has come: dial the customer, who is then connected to the agent. The
    outbound leg is a call of its own (in its own conference on Twilio, see
    `telephony.bridging.connect_callback`); the original one ends as `callback`."""
    from flask import current_app

    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    original.routing_state = "done"
    original.outcome = "callback"
    outbound = Call(
        call_sid=f"pending-{original.id}",
        direction="outbound",
        from_number=current_app.config["TWILIO_PHONE_NUMBER"],
        to_number=original.from_number,
        customer_id=original.customer_id,
        language=original.language,
        queue_id=original.queue_id,
        # Should the agent's leg not answer, this call waits again with the callback's priority.
        priority=original.priority,
        status="queued",
        routing_state="connected",
        agent_id=agent_id,
        created_at=now,
        answered_at=now,
        ivr_path=["callback"],
    )
    session.add(outbound)
    session.flush()
    outbound.call_sid = gateway.place_call(
        original.from_number,
        current_app.config["TWILIO_PHONE_NUMBER"],
        f"{base}/twilio/voice/connect-agent?call={outbound.id}",
        f"{base}/twilio/voice/status",
    )
    presence.current_call_id = outbound.id
    add_call_to_timeline(session, original)
    return outbound


def click_to_call(
    session: DbSession, user: User, number: str, gateway: Any, *, region: str
) -> Call:
    """The agent dials a customer from the console: Twilio calls the customer, who is connected
    to the agent on answering. The agent is on the call from the moment it is placed."""
    from flask import current_app

    e164 = try_e164(number, region)
    if e164 is None:
        raise APIError(
            "not a valid phone number",
            code="validation_error",
            status=422,
            fields={"to": f"not a valid phone number: {number!r}"},
        )
    presence = presence_of(session, user.id)
    if presence.state in ("reserved", "on_call"):
        raise Conflict("finish your current call first", code="busy")
    known = customers.lookup_by_phone(session, e164, region=region)
    now = utcnow()
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    call = Call(
        call_sid=f"pending-{user.id}-{now.timestamp()}",
        direction="outbound",
        from_number=current_app.config["TWILIO_PHONE_NUMBER"],
        to_number=e164,
        customer_id=known[0].id if known else None,
        language=known[0].language if known else _language_for(e164),
        status="queued",
        routing_state="connected",
        agent_id=user.id,
        created_at=now,
        answered_at=now,
        ivr_path=["click-to-call"],
    )
    session.add(call)
    session.flush()
    calllog.agent_state(session, user.id, "on_call", previous=presence.state)
    presence.state = "on_call"
    presence.since = now
    presence.current_call_id = call.id
    try:
        call.call_sid = gateway.place_call(
            e164,
            call.from_number,
            f"{base}/twilio/voice/connect-agent?call={call.id}",
            f"{base}/twilio/voice/status",
        )
    except Exception as exc:
        session.rollback()
        log.exception("placing a call to %s failed", e164)
        raise APIError(
            "the telephony provider did not place the call; try again",
            code="call_failed",
            status=409,
        ) from exc
    publish(
        session,
        "presence.updated",
        [*FLOOR, f"user:{user.id}"],
        {"user_id": user.id, "state": "on_call", "reason": ""},
    )
    session.commit()
    return call


def _release(
    session: DbSession,
    call: Call,
    agent_id: int,
    now: datetime,
    *,
    agent_state: str,
    reason: str = "",
) -> None:
    released = session.execute(
        update(AgentPresence)
        .where(AgentPresence.user_id == agent_id, AgentPresence.current_call_id == call.id)
        .values(
            state=agent_state,
            reason=reason,
            since=now,
            current_call_id=None,
            idle_since=now if agent_state == "available" else None,
        )
    )
    if rowcount(released):
        calllog.agent_state(session, agent_id, agent_state, previous="reserved", reason=reason)
    call.declined_by = sorted({*(call.declined_by or []), agent_id})
    session.execute(
        update(Call)
        .where(Call.id == call.id, Call.routing_state == "offered")
        .values(routing_state="waiting", agent_id=None, declined_by=call.declined_by)
    )
    announce_withdrawn(session, call, agent_id, agent_state, reason)
    request_dispatch(session)


def announce_withdrawn(
    session: DbSession, call: Call, agent_id: int, agent_state: str, reason: str
) -> None:
    """The agent's console drops the call, and the floor sees the agent's new state."""
    publish(
        session,
        "call.withdrawn",
        [f"user:{agent_id}"],
        {"call_id": call.id, "call_sid": call.call_sid},
    )
    publish(
        session,
        "presence.updated",
        [*FLOOR, f"user:{agent_id}"],
        {"user_id": agent_id, "state": agent_state, "reason": reason},
    )


def reject(session: DbSession, user: User, call_id: int) -> None:
    now = utcnow()
    offer = _pending_offer(session, call_id, user.id)
    if not _decide(session, offer, "rejected", now):
        raise Conflict("the offer was already decided", code="offer_gone")
    call = session.get(Call, call_id)
    assert call is not None
    calllog.record(
        session,
        "rejected",
        call_id=call.id,
        queue=queue_name(session, call.queue_id),
        agent_id=user.id,
    )
    _release(session, call, user.id, now, agent_state="available")
    session.commit()


def _cancel_offer(session: DbSession, call: Call, now: datetime) -> None:
    for offer in session.scalars(
        select(CallOffer).where(CallOffer.call_id == call.id, CallOffer.state == "pending")
    ):
        if _decide(session, offer, "cancelled", now):
            freed = session.execute(
                update(AgentPresence)
                .where(
                    AgentPresence.user_id == offer.agent_id,
                    AgentPresence.current_call_id == call.id,
                )
                .values(state="available", since=now, idle_since=now, current_call_id=None)
            )
            if rowcount(freed):
                calllog.agent_state(session, offer.agent_id, "available", previous="reserved")
            publish(
                session,
                "call.withdrawn",
                [f"user:{offer.agent_id}"],
                {"call_id": call.id, "call_sid": call.call_sid, "reason": "caller hung up"},
            )
            request_dispatch(session)


def expire(session: DbSession, *, now: datetime | None = None) -> dict[str, int]:
    """Ring timeouts (the agent is set to not ready, the call offered to the next) and the ends
    of wrap-up timers."""
    now = now or utcnow()
    timed_out = 0
    for offer in list(
        session.scalars(
            select(CallOffer)
            .where(CallOffer.state == "pending", CallOffer.expires_at <= now)
            .limit(200)
        )
    ):
        if _decide(session, offer, "timeout", now):
            call = session.get(Call, offer.call_id)
            if call is not None:
                calllog.record(
                    session,
                    "timeout",
                    call_id=call.id,
                    queue=queue_name(session, call.queue_id),
                    agent_id=offer.agent_id,
                )
                _release(
                    session, call, offer.agent_id, now, agent_state="break", reason="missed call"
                )
                timed_out += 1
    ended = list(
        session.scalars(
            update(AgentPresence)
            .where(AgentPresence.state == "wrap_up", AgentPresence.wrap_up_until <= now)
            .values(state="available", since=now, idle_since=now, wrap_up_until=None)
            .returning(AgentPresence.user_id)
            .execution_options(synchronize_session=False)
        )
    )
    for agent_id in ended:
        calllog.agent_state(session, agent_id, "available", previous="wrap_up")
    if ended:
        request_dispatch(session)
    session.commit()
    return {"timed_out": timed_out, "wrap_ups_ended": len(ended)}
