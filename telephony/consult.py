"""A warm transfer's consultation: the target agent is rung with the call (which stays the first
agent's, connected), accepts, and their leg joins the call's conference; or is let go.

The target is reserved and offered the call as a dispatch would (the presence table's `offer`,
a `CallOffer` row with the queue's ring timeout), so a target who does not answer is handled by
the offers' expiry like any ring-out. Only the call row differs: it stays `connected`, and its
`transfer` says a consultation is ringing (`ringing`) or under way (`consulting`). `offers.accept`
hands an accept of such an offer here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from helpdesk.auth.models import User
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.errors import APIError, Conflict
from helpdesk.events import publish
from telephony import bridging
from telephony.agent_presence import move, presence_of
from telephony.callview import call_view
from telephony.floor import FLOOR, announce_presence
from telephony.models import Call, CallOffer
from telephony.presence import Event
from telephony.screen import screen_and_view

DEFAULT_RING_S = 20


def rings_for(call: Call, agent_id: int) -> bool:
    """Whether the call's pending offer to `agent_id` is a warm transfer's consultation."""
    handed = call.transfer or {}
    return (
        handed.get("mode") == "warm"
        and handed.get("state") == "ringing"
        and (handed.get("to") or {}).get("agent_id") == agent_id
    )


def announce(
    session: DbSession, call: Call, event: str, agent_ids: list[int], now: datetime
) -> None:
    """`event` with the call's view, to the agents named and the floor: consoles apply it."""
    view = call_view(session, call, now=now).to_json()
    rooms = [*FLOOR, *(f"user:{a}" for a in agent_ids)]
    publish(session, event, rooms, {"call_id": call.id, "call": view})


def ring(session: DbSession, *, call: Call, agent_id: int, now: datetime) -> bool:
    """Reserve the target and ring their console; False when they are not free."""
    nested = session.begin_nested()
    reserved = move(
        session,
        event=Event.OFFER,
        now=now,
        agent_id=agent_id,
        expected="available",
        call_id=call.id,
    )
    if not reserved:
        nested.rollback()
        return False
    seconds = call.queue.ring_timeout_s if call.queue else DEFAULT_RING_S
    expires = now + timedelta(seconds=seconds)
    session.add(
        CallOffer(
            call_id=call.id, agent_id=agent_id, state="pending", created_at=now, expires_at=expires
        )
    )
    nested.commit()
    pop, view = screen_and_view(session, call, now=now, expires_at=expires)
    publish(session, "call.offer", [f"user:{agent_id}"], view.to_json())
    publish(session, "screen_pop", [f"user:{agent_id}"], pop)
    return True


def _decide(session: DbSession, *, call_id: int, agent_id: int, state: str, now: datetime) -> bool:
    offer = session.scalar(
        select(CallOffer).where(
            CallOffer.call_id == call_id,
            CallOffer.agent_id == agent_id,
            CallOffer.state == "pending",
        )
    )
    if offer is None or (state == "accepted" and offer.expires_at <= now):
        return False
    won = session.execute(
        update(CallOffer)
        .where(CallOffer.id == offer.id, CallOffer.state == "pending")
        .values(state=state, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(won) == 1


def accept(session: DbSession, *, user: User, call: Call, gateway: Any) -> Call:
    """The target accepts: their leg joins the call's conference; the first agent now has the
    caller (on hold) and the target on the line. A caller who hung up meanwhile wins: the
    accept is refused (409) and the target freed by the call's end."""
    now = utcnow()
    if not _decide(session, call_id=call.id, agent_id=user.id, state="accepted", now=now):
        raise Conflict("this call is not ringing for you", code="offer_gone")
    step = session.execute(
        update(Call)
        .where(Call.id == call.id, Call.routing_state == "connected", Call.ended_at.is_(None))
        .values(transfer={**(call.transfer or {}), "state": "consulting"})
        .execution_options(synchronize_session=False)
    )
    presence = presence_of(session, user_id=user.id)
    taken = rowcount(step) == 1 and move(
        session,
        event=Event.ACCEPT,
        now=now,
        agent_id=user.id,
        expected="reserved",
        call_id=call.id,
        loaded=presence,
    )
    if not taken:
        session.rollback()
        raise Conflict("the caller has hung up", code="call_ended")
    session.refresh(call)
    endpoint = presence.endpoint or f"client:agent-{user.id}"
    try:
        sid = gateway.add_consult_leg(call.call_sid, endpoint, bridging.agent_leg(session, call))
    except Exception as exc:
        session.rollback()
        raise APIError(
            "the telephony provider did not connect you; try again",
            code="bridge_failed",
            status=409,
        ) from exc
    call.transfer = {**(call.transfer or {}), "consult_leg": sid}
    announce(session, call, "call.transfer", [user.id, int(call.agent_id or 0)], now)
    session.commit()
    return call


def release(
    session: DbSession,
    *,
    call: Call,
    agent_id: int,
    now: datetime,
    reason: str = "transfer cancelled",
) -> None:
    """Let the target go: a ringing console stops (the agent is available again), a target on
    the line goes to wrap-up (none: the call was not theirs)."""
    if _decide(session, call_id=call.id, agent_id=agent_id, state="cancelled", now=now):
        move(session, event=Event.CALLER_GONE, now=now, agent_id=agent_id, call_id=call.id)
        publish(
            session,
            "call.withdrawn",
            [f"user:{agent_id}"],
            {
                "call_id": call.id,
                "call_sid": call.call_sid,
                "reason": reason,
                "presence": {"state": "available", "reason": ""},
            },
        )
        return
    move(session, event=Event.CALL_ENDED, now=now, agent_id=agent_id, call_id=call.id, wrap_up_s=0)
    announce_presence(session, agent_id, "wrap_up", until=now)


def end_with_call(session: DbSession, call: Call, now: datetime) -> None:
    """The caller hung up during a consultation: the target agent is let go with the call. A
    number's leg stays with the agent, whose leg ends the conference when they hang up."""
    handed = call.transfer or {}
    if handed.get("mode") != "warm" or handed.get("state") not in ("ringing", "consulting"):
        return
    target = (handed.get("to") or {}).get("agent_id")
    if target is not None:
        release(session, call=call, agent_id=int(target), now=now, reason="caller hung up")
    call.transfer = {**handed, "state": "caller_gone"}
