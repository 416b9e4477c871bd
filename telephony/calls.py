"""A call's own record, from the first webhook to its end: the inbound upsert, IVR bookkeeping,
putting the caller in line, status callbacks and the outcome, the timeline entry, voicemail and
the agent's wrap-up.

Who takes the call is `telephony.offers`; the agent's state is `telephony.agent_presence`;
calls we place are `telephony.outbound`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Integer, Select, bindparam, exists, select
from sqlalchemy.exc import IntegrityError

from helpdesk.auth.models import User
from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer, CustomerPhone, CustomerTag
from helpdesk.customers.phones import try_e164
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import Conflict, NotFound
from helpdesk.events import publish
from helpdesk.supervision import calllog
from helpdesk.timeline import service as timeline
from helpdesk.webhooks import emit as emit_webhook
from telephony import conference_parties, consult, recordings, routing, webhook_payloads
from telephony.agent_presence import move, moved_to
from telephony.floor import FLOOR, announce_presence, call_queue_name, request_dispatch
from telephony.history import add_call_to_timeline, note_ivr
from telephony.hold import close_hold
from telephony.models import Call, moves_forward
from telephony.offers import cancel_offers
from telephony.presence import Event

# The active queue of a name, read from the per-process cache; named here too for the callers
# that put a caller in line.
from telephony.queue_config import AnyQueue, queue_row
from telephony.queue_config import queue_by_name as queue_by_name


@dataclass(frozen=True)
class InboundCall:
    """The parts of Twilio's incoming-call webhook that the call center uses."""

    call_sid: str
    from_number: str
    to_number: str
    status: str = "ringing"


def upsert_inbound(session: DbSession, *, inbound: InboundCall, region: str) -> tuple[Call, bool]:
    """The call for this CallSid, created on first sight; (call, known customer language?).

    A retried or duplicated webhook finds the row it created the first time.
    """
    e164 = try_e164(inbound.from_number, region) or inbound.from_number
    known = _first_sight(session, inbound.call_sid, e164)
    if known.call_id is not None:
        existing = session.get(Call, known.call_id)
        assert existing is not None
        return existing, bool(existing.ivr_path)
    if known.customer_id is not None:
        customer_id, language, language_known = known.customer_id, known.language, True
    else:
        created = customers.create(
            session,
            name=e164,
            language=routing.language_for(e164),
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


def _first_sight(session: DbSession, call_sid: str, e164: str) -> Any:
    """In one statement: the call already made for this CallSid (a retried webhook), and the
    customer the number is known for, with their language (only those two: the webhook must
    answer fast, the contacts are not needed here)."""
    customer = (
        select(Customer.id)
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.e164 == e164, Customer.merged_into_id.is_(None))
        .order_by(Customer.updated_at.desc(), Customer.id.desc())
        .limit(1)
    )
    return session.execute(
        select(
            select(Call.id).where(Call.call_sid == call_sid).scalar_subquery().label("call_id"),
            customer.scalar_subquery().label("customer_id"),
            customer.with_only_columns(Customer.language).scalar_subquery().label("language"),
        )
    ).one()


def get_call(session: DbSession, call_sid: str) -> Call:
    """The call Twilio knows as `call_sid` (positional: the knowledge base's `CallSource`
    calls it so)."""
    call: Call | None = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is None:
        raise NotFound(f"no call {call_sid}")
    return call


def call_for_step(session: DbSession, *, call_sid: str, lock: bool = True) -> Call | None:
    """The call an IVR step names, its row locked (`lock`) until the step's transaction ends:
    a copy of the same webhook (Twilio retries a slow one while it still runs) waits, then reads
    what the first did. SQLite takes the database's write lock when the transaction begins
    instead."""
    query = select(Call).where(Call.call_sid == call_sid)
    call: Call | None = session.scalar(query.with_for_update() if lock else query)
    return call


# -- queueing -------------------------------------------------------------------------------------


@functools.cache
def _priority_query() -> Select[Any]:
    """Built once (see `_customer_priority`): whether the caller is VIP, whether one of their
    open tickets is at risk of breaching its SLA, and their value segment."""
    from helpdesk.analytics.models import CustomerScore
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
    score = select(CustomerScore.churn_risk, CustomerScore.clv_percentile).where(
        CustomerScore.customer_id == customer_id
    )
    risk = score.with_only_columns(CustomerScore.churn_risk).scalar_subquery()
    percentile = score.with_only_columns(CustomerScore.clv_percentile).scalar_subquery()
    return select(vip, at_risk, segment, risk, percentile)


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
        segment=row[2],
        sla_at_risk=bool(row[1]),
        callback=False,
        vip=bool(row[0]),
        churn_risk=row[3],
        clv_percentile=row[4],
    )


def enqueue(session: DbSession, *, call: Call, queue: AnyQueue, step: str | None = None) -> bool:
    """Put the caller in line (noting the IVR `step` that chose the queue in the same
    transaction); False when the call has been routed already: a retried or replayed webhook,
    which changes nothing and logs no second `entered`."""
    if call.routing_state != "none":
        return False
    if step is not None:
        note_ivr(session, call=call, step=step, commit=False)
    call.priority = _customer_priority(session, call.customer_id) + (queue.priority or 0)
    call.queue_id = queue.id
    call.enqueued_at = call.enqueued_at or utcnow()
    call.routing_state = "waiting"
    calllog.record(session, "entered", call_id=call.id, queue=queue.name, priority=call.priority)
    publish(session, "queue.updated", list(FLOOR), {"queue": queue.name, "call_id": call.id})
    request_dispatch(session)
    session.commit()
    return True


# -- status callbacks -----------------------------------------------------------------------------


def apply_status(session: DbSession, *, call_sid: str, status: str) -> Call | None:
    """A status callback: never moves a call backwards; the final one records the outcome.

    The call's row is locked first, so that two copies of the final callback at once record
    one outcome: the second waits, then finds the status already there."""
    # Its queue (the name the log gives, the wrap-up time) comes from `telephony.queue_config`.
    call: Call | None = session.scalar(
        select(Call).where(Call.call_sid == call_sid).with_for_update()
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


def _finish(session: DbSession, call: Call, now: datetime) -> None:
    call.ended_at = now
    if call.routing_state == "connected" and call.answered_at:
        call.outcome = "answered"
        call.talk_seconds = (now - call.answered_at).total_seconds()
        calllog.record(
            session,
            "completed",
            call_id=call.id,
            queue=call_queue_name(call),
            agent_id=call.agent_id,
            talk_s=call.talk_seconds,
            hold_s=close_hold(call, now),
            direction=call.direction,
        )
        consult.end_with_call(session, call, now)
        conference_parties.end_with_call(session, call, now)
        if call.agent_id:
            # The agent's UPDATE depends on none of the call's pending changes: they are sent
            # at the next flush, both call-log rows in one INSERT.
            with session.no_autoflush:
                _start_wrap_up(session, call.agent_id, call, now)
        _survey(session, call)
    elif call.callback_requested and call.routing_state in ("waiting", "offered"):
        pass  # still in line: the callback will dial the customer
    elif call.routing_state in ("waiting", "offered"):
        call.outcome = call.outcome or "abandoned"
        cancel_offers(session, call, now)
        call.routing_state = "done"
        waited = (now - call.enqueued_at).total_seconds() if call.enqueued_at else None
        calllog.record(
            session,
            "abandoned",
            call_id=call.id,
            queue=call_queue_name(call),
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


def record_voicemail(
    session: DbSession, *, call: Call, recording_url: str, duration_s: int | None
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
    left = recordings.add_voicemail(
        session,
        call=call,
        recording_sid=recordings.sid_from_url(recording_url),
        media_url=recording_url,
        duration_s=duration_s,
    )
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
            "recording_id": left.id,
        },
    )
    session.commit()
    return ticket.id


def _survey(session: DbSession, call: Call) -> None:
    """An answered call with a known customer asks them how it went (helpdesk.surveys: at most
    one survey per customer and period, by text where they can take one). A contact recorded
    from an unknown number is not asked: the agent may still find it is someone else's number,
    and a text of ours would make linking it a supervisor's merge (call_records._has_history)."""
    if call.customer_id is None:
        return
    from helpdesk.surveys import service as surveys
    from helpdesk.tickets.models import Ticket
    from telephony.call_records import PROVISIONAL_TAGS

    surveys.after_call(
        session,
        customer_id=call.customer_id,
        call_id=call.id,
        agent_id=call.agent_id,
        queue=call_queue_name(call),
        ticket=session.get(Ticket, call.ticket_id) if call.ticket_id else None,
        unless_tagged=PROVISIONAL_TAGS,
    )


def handed_over_by(call: Call) -> int | None:
    """The agent who transferred the call away (cold, or a completed warm transfer)."""
    handed = call.transfer or {}
    agent = handed.get("from_agent_id") if handed.get("state") == "done" else None
    return int(agent) if agent is not None else None


def party_agents(call: Call) -> list[int]:
    """The agents who were third parties of the call's conference (`conference_parties`)."""
    return [int(p["agent_id"]) for p in call.parties or [] if p.get("kind") == "agent"]


def _start_wrap_up(session: DbSession, agent_id: int, call: Call, now: datetime) -> None:
    queue = queue_row(session, call.queue_id)
    seconds = queue.wrap_up_s if queue else 30
    move(
        session,
        event=Event.CALL_ENDED,
        now=now,
        agent_id=agent_id,
        call_id=call.id,
        wrap_up_s=seconds,
    )
    announce_presence(session, agent_id, "wrap_up", until=now + timedelta(seconds=seconds))


def wrap_up(
    session: DbSession,
    *,
    user: User,
    call_id: int,
    disposition: str | None,
    notes: str,
    done: bool,
) -> Call:
    """The agent's disposition and notes on their call; `done` ends their wrap-up."""
    call = session.get(Call, call_id)
    if call is None or user.id not in (call.agent_id, handed_over_by(call), *party_agents(call)):
        raise NotFound(f"no call {call_id} of yours")
    # An agent who transferred the call wraps up their part while the call goes on.
    if call.ended_at is None and done and call.agent_id == user.id:
        raise Conflict(
            "the call is still going on; wrap up once it has ended", code="call_in_progress"
        )
    # The call's own disposition and notes are its last agent's; one who handed it over puts
    # their notes on the timeline only.
    if disposition is not None and call.agent_id == user.id:
        call.disposition = disposition
    if notes:
        if call.agent_id == user.id:
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
        won = move(session, event=Event.WRAP_UP_DONE, now=now, agent_id=user.id, keep_rows=True)
        if moved_to(won, user.id):
            calllog.wrap_up_ended(session, user.id, now)
            # Said like every other presence change, so an open console (and the floor) follows
            # even when the page's own answer crossed a snapshot read before this commit.
            announce_presence(session, user.id, "available")
            request_dispatch(session)
    session.commit()
    return call
