"""Who takes a waiting call: the dispatch, the claim, the agent's accept or reject, ring timeouts,
the caller hanging up while it rings, and the caller asking to be called back.

An offer is made with compare-and-set claims on the agent's presence (`telephony.presence`,
available to reserved) and on the call row (waiting to offered), undone together by a savepoint
when either is lost: no call is offered to two agents and no agent holds two calls, whatever
number of processes dispatch at once. The offer's events carry the call's view and its caller
screen, built once, here: the agent's console shows them without asking again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, and_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk.auth.models import User
from helpdesk.db import DbSession, rowcount, utcnow, write_rows
from helpdesk.errors import APIError, Conflict
from helpdesk.events import publish
from helpdesk.supervision import calllog
from telephony import bridging, consult, recordings, routing
from telephony.agent_presence import log_moves, move, presence_of
from telephony.callview import CustomerRef, call_view, customer_in, with_customer
from telephony.floor import (
    FLOOR,
    announce_withdrawn,
    call_queue_name,
    queue_name,
    request_dispatch,
)
from telephony.history import note_ivr
from telephony.models import AgentPresence, Call, CallOffer
from telephony.outbound import callback_leg, place_callback
from telephony.presence import MISSED_CALL, Event
from telephony.queue_config import QueueRow, all_queues, queue_row
from telephony.routing_snapshot import (
    ANYTHING_TO_DECIDE,
    agent_views,
    configured_backoff,
    queue_spec,
    waiting_calls,
)
from telephony.screen import screen_and_view

log = logging.getLogger(__name__)

CALLS = Call.__table__  # the claim and the decision are Core UPDATEs (`write_rows`)
OFFERS = CallOffer.__table__


def request_callback(session: DbSession, *, call: Call, step: str | None = None) -> bool:
    """The caller hangs up but keeps their place: we dial them when an agent takes the call.
    Once per call, and only for a caller in line: False (nothing changed, no second `callback`
    counted, no second priority raise) when already asked for or not waiting."""
    if call.callback_requested or call.routing_state not in ("waiting", "offered"):
        session.commit()
        return False
    if step is not None:
        note_ivr(session, call=call, step=step, commit=False)
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


# -- the dispatch ----------------------------------------------------------------------------------


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
    backoff = configured_backoff() if reoffer_after_s is None else reoffer_after_s
    # First whether there is anything to decide, in one cheap statement: nobody free (the usual
    # state of a busy call center) or nobody waiting (a quiet one, or an agent coming free when
    # no caller waits, which is most of the dispatches asked for). Reading the free agents with
    # their skills, the queues and the waiting calls is for when both are there. A dispatch
    # runs one at a time, so a quick one also holds back the next one less.
    waiting, free = session.execute(ANYTHING_TO_DECIDE).one()
    if not (waiting and free):
        session.commit()
        return 0
    agents = agent_views(session, now)
    if not agents:
        session.commit()
        return 0
    by_id = all_queues(session)
    queues = {q.name: queue_spec(q) for q in by_id.values() if q.active}
    views, queue_of = waiting_calls(session, by_id, queues, now=now, limit=limit)
    made = 0
    for call_id, agent_id in routing.plan(views, agents, queues, now, reoffer_after_s=backoff):
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
    session: DbSession, call: Call, agent_id: int, queue: QueueRow, now: datetime
) -> bool:
    """Reserve the agent and the call together, or neither (a savepoint undoes a half claim)."""
    nested = session.begin_nested()
    reserved = move(
        session,
        event=Event.OFFER,
        now=now,
        agent_id=agent_id,
        expected="available",
        call_id=call.id,
        logged=False,
        synchronize=False,  # a dispatch holds no presence rows
    )
    got_agent = bool(reserved)
    got_call = (
        got_agent
        and rowcount(
            write_rows(
                session,
                update(CALLS)
                .where(CALLS.c.id == call.id, CALLS.c.routing_state == "waiting")
                .values(routing_state="offered", offered_at=now, agent_id=agent_id),
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
    log_moves(session, Event.OFFER, reserved)
    announce_offer(session, call, agent_id, expires)
    return True


def announce_offer(session: DbSession, call: Call, agent_id: int, expires: datetime) -> None:
    """The agent's console rings: the call's view (`call.offer`) and its caller screen
    (`screen_pop`, the same view with the caller's record beside it), built once here. The
    console shows both as they come and asks the server for nothing more."""
    pop, view = screen_and_view(session, call, now=utcnow(), expires_at=expires)
    publish(session, "call.offer", [f"user:{agent_id}"], view.to_json())
    publish(session, "screen_pop", [f"user:{agent_id}"], pop)


class Ringing(NamedTuple):
    """A call as the agent's answer to it finds it (`ringing`)."""

    call: Call | None
    offer: CallOffer | None  # the offer ringing on it for the agent, None when there is none
    caller: CustomerRef | None  # as the call's view names them
    presence: AgentPresence | None  # the agent's, None before they ever had one


def ringing(session: DbSession, *, call_id: int, agent_id: int) -> Ringing:
    """The call, the offer ringing for the agent, the caller and the agent's presence, in one
    statement: the accept needs all four (it announces the call's view, and the presence row
    is the one it moves), the decline the first two."""
    pending = and_(
        CallOffer.call_id == Call.id,
        CallOffer.agent_id == agent_id,
        CallOffer.state == "pending",
    )
    query = cast(
        "Select[Any]",
        select(Call, CallOffer, AgentPresence)
        .outerjoin(CallOffer, pending)
        .outerjoin(AgentPresence, AgentPresence.user_id == agent_id)
        .where(Call.id == call_id),
    )
    rows = session.execute(with_customer(query, Call.customer_id)).all()
    if not rows:
        return Ringing(None, None, None, None)
    first = rows[0]
    return Ringing(first.Call, first.CallOffer, customer_in(rows), first.AgentPresence)


def pending_offer(
    session: DbSession, *, call_id: int, agent_id: int
) -> tuple[CallOffer, CustomerRef | None]:
    """The offer ringing for the agent, and the caller (`ringing`); 409 when none rings."""
    found = ringing(session, call_id=call_id, agent_id=agent_id)
    return _ringing_offer(found.offer), found.caller


def _ringing_offer(offer: CallOffer | None) -> CallOffer:
    if offer is None:
        raise Conflict(
            "this call is not ringing for you (taken, withdrawn or timed out)", code="offer_gone"
        )
    return offer


def _decide(session: DbSession, offer: CallOffer, state: str, now: datetime) -> bool:
    won = write_rows(
        session,
        update(OFFERS)
        .where(OFFERS.c.id == offer.id, OFFERS.c.state == "pending")
        .values(state=state, decided_at=now),
    )
    return rowcount(won) == 1


# -- the agent's answer ----------------------------------------------------------------------------


def accept(session: DbSession, *, user: User, call_id: int, gateway: Any) -> Call:
    """The agent takes the call ringing for them: a warm transfer's consultation is joined
    (`telephony.consult`), any other offer answered (`_accept_offer`)."""
    found = ringing(session, call_id=call_id, agent_id=user.id)
    if found.call is not None and consult.rings_for(found.call, user.id):
        return consult.accept(session, user=user, call=found.call, gateway=gateway)
    _ringing_offer(found.offer)
    return _accept_offer(session, user=user, found=found, gateway=gateway)


def _accept_offer(session: DbSession, *, user: User, found: Ringing, gateway: Any) -> Call:
    """The agent takes the call ringing for them (`found`, with its offer): the caller leaves
    the queue and is bridged to them (or, for a callback, we dial the customer, who is then
    bridged to them)."""
    now = utcnow()
    offer, call, caller = found.offer, found.call, found.caller
    assert offer is not None and call is not None  # the offer was read with its call
    if offer.expires_at <= now or not _decide(session, offer, "accepted", now):
        raise Conflict("the offer expired", code="offer_expired")
    presence = found.presence or presence_of(session, user_id=user.id)
    call.routing_state = "connected"
    call.answered_at = now
    if call.enqueued_at:
        call.wait_seconds = (now - call.enqueued_at).total_seconds()
    leg = callback_leg(session, call, user.id, now) if call.callback_requested else None
    taken = move(
        session,
        event=Event.ACCEPT,
        now=now,
        agent_id=user.id,
        expected="reserved",
        call_id=call.id,
        hand_over=leg.id if leg is not None else None,
        loaded=presence,
    )
    if not taken:
        session.rollback()
        raise Conflict("the offer was already decided", code="offer_gone")
    calllog.record(
        session,
        "connected",
        call_id=call.id,
        queue=call_queue_name(call),
        agent_id=user.id,
        wait_s=call.wait_seconds or 0.0,
        callback=call.callback_requested or None,
    )
    call = _connect(session, call, leg, gateway, endpoint=presence.endpoint, user_id=user.id)
    # Started first, so that the view the agent's console gets says the call is recorded.
    recordings.begin_answered(session, call)
    announce_connected(session, call, user.id, caller)
    session.commit()
    return call


def _connect(
    session: DbSession,
    call: Call,
    leg: Call | None,
    gateway: Any,
    *,
    endpoint: str | None,
    user_id: int,
) -> Call:
    """The network last: the caller bridged to the agent, or for a callback the customer dialled;
    a refusal takes the whole accept back. The call the agent now holds is returned."""
    try:
        if leg is not None:
            place_callback(session, call, leg, gateway)
            return leg
        call.agent_call_sid = gateway.bridge(
            call.call_sid,
            endpoint or f"client:agent-{user_id}",
            bridging.agent_leg(session, call),
        )
        return call
    except Exception as exc:
        session.rollback()
        log.exception("bridging call %s failed", call.id)
        raise APIError(
            "the telephony provider did not connect the call; try again",
            code="bridge_failed",
            status=409,
        ) from exc


def announce_connected(
    session: DbSession, call: Call, agent_id: int, caller: CustomerRef | None
) -> None:
    """The floor hears the call is answered; the agent's console gets the call's view and the
    agent's new state with it, and shows them without asking again."""
    view = call_view(session, call, now=utcnow(), customer=caller)
    publish(
        session,
        "call.connected",
        [*FLOOR, f"user:{agent_id}"],
        {
            "call_id": call.id,
            "call_sid": call.call_sid,
            "agent_id": agent_id,
            "call": view.to_json(),
            "presence": {"state": "on_call", "reason": ""},
        },
    )


def reject(session: DbSession, *, user: User, call_id: int) -> None:
    """The agent declines the call ringing for them: it goes to the next agent."""
    now = utcnow()
    offer, _caller = pending_offer(session, call_id=call_id, agent_id=user.id)
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
    _release(session, call, user.id, now, event=Event.DECLINE)
    session.commit()


def _release(
    session: DbSession, call: Call, agent_id: int, now: datetime, *, event: Event, reason: str = ""
) -> None:
    """The offer is over without the agent (declined, rang out): the agent is freed as `event`
    says, and the call waits again, not to be offered to this agent before the others."""
    move(session, event=event, now=now, agent_id=agent_id, call_id=call.id, reason=reason)
    state = "available" if event is Event.DECLINE else "break"
    call.declined_by = sorted({*(call.declined_by or []), agent_id})
    session.execute(
        update(Call)
        .where(Call.id == call.id, Call.routing_state == "offered")
        .values(routing_state="waiting", agent_id=None, declined_by=call.declined_by)
    )
    announce_withdrawn(session, call=call, agent_id=agent_id, agent_state=state, reason=reason)
    request_dispatch(session)


def cancel_offers(session: DbSession, call: Call, now: datetime) -> None:
    """The caller hung up while their call rang: the agent is free again and told why."""
    for offer in session.scalars(
        select(CallOffer).where(CallOffer.call_id == call.id, CallOffer.state == "pending")
    ):
        if _decide(session, offer, "cancelled", now):
            freed = move(
                session,
                event=Event.CALLER_GONE,
                now=now,
                agent_id=offer.agent_id,
                call_id=call.id,
            )
            payload: dict[str, Any] = {
                "call_id": call.id,
                "call_sid": call.call_sid,
                "reason": "caller hung up",
            }
            if freed:
                # No `presence.updated` follows (the floor counts it from the call log): the
                # agent's console learns its new state here.
                payload["presence"] = {"state": "available", "reason": ""}
            publish(session, "call.withdrawn", [f"user:{offer.agent_id}"], payload)
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
                    session, call, offer.agent_id, now, event=Event.RING_TIMEOUT, reason=MISSED_CALL
                )
                timed_out += 1
    ended = move(session, event=Event.WRAP_UP_OVER, now=now, agent_id=None)
    for moved in ended:
        calllog.wrap_up_ended(session, moved.agent_id, now)
    if ended:
        request_dispatch(session)
    session.commit()
    return {"timed_out": timed_out, "wrap_ups_ended": len(ended)}


def offer_to(session: DbSession, *, call: Call, agent_id: int, now: datetime) -> bool:
    """Offer a waiting call to one named agent (a transfer): the same claims as a dispatch, in
    the caller's transaction, so no dispatch takes the call between its release and this offer.
    False when the agent is not free (or the call not waiting); the ring timeout of the call's
    queue applies, and its expiry (`expire`) puts the call back in line as any ring-out does."""
    queue = queue_row(session, call.queue_id)
    if queue is None:
        return False
    return _claim_offer(session, call, agent_id, queue, now)
