"""Conference calls: the agent adds a third party (another agent, or a number) to their call,
removes one, or leaves and lets the others talk on.

The parties are kept on the call (`Call.parties`, a list replaced whole), each with an id the
console names it by and, on Twilio, the CallSid of its leg. An agent added is reserved and put
on the call as an accept does (the presence table's `offer` then `accept`: they must be free),
and goes to wrap-up when removed or when the call ends. A number needs the `TRANSFER_OUT`
permission, as a transfer to it does (checked by the front ends).

When the agent leaves, their leg stops ending the conference and is hung up: the caller and the
parties talk on; the call is logged `transferred` by them (mode `left`), they go to wrap-up and
may post it while the call goes on, as after a transfer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from helpdesk.auth.models import User
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.errors import APIError, Conflict, NotFound
from helpdesk.events import publish
from helpdesk.supervision import calllog
from telephony import bridging, consult, offers
from telephony.agent_presence import move, presence_of
from telephony.floor import announce_presence, queue_name
from telephony.models import Call
from telephony.presence import Event
from telephony.transfer import Target, handover

MAX_PARTIES = 3


def _live_call(session: DbSession, user: User, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None or call.agent_id != user.id:
        raise NotFound(f"no call {call_id} of yours")
    if call.routing_state != "connected" or call.ended_at is not None:
        raise Conflict("the call is not live", code="not_connected")
    return call


def _network(session: DbSession, request: Any) -> Any:
    try:
        return request()
    except Exception as exc:
        session.rollback()
        raise APIError(
            "the telephony provider did not change the conference; try again",
            code="conference_failed",
            status=409,
        ) from exc


def _join_agent(session: DbSession, call: Call, agent: User, now: datetime) -> str:
    """Reserve the agent and put them on the call: the endpoint their leg rings."""
    if agent.id == call.agent_id:
        raise Conflict("you are on the call already", code="same_agent")
    reserved = move(
        session,
        event=Event.OFFER,
        now=now,
        agent_id=agent.id,
        expected="available",
        call_id=call.id,
    )
    if not reserved or not move(
        session,
        event=Event.ACCEPT,
        now=now,
        agent_id=agent.id,
        expected="reserved",
        call_id=call.id,
    ):
        session.rollback()
        raise Conflict("that agent is not free to take a call", code="agent_busy")
    presence = presence_of(session, user_id=agent.id)
    offers.announce_connected(session, call, agent.id, None)
    return presence.endpoint or f"client:agent-{agent.id}"


def add(session: DbSession, *, user: User, call_id: int, target: Target, gateway: Any) -> Call:
    """Add a third party to the agent's call; 409 past `MAX_PARTIES` or for a busy agent."""
    call = _live_call(session, user, call_id)
    parties = list(call.parties or [])
    if len(in_call(parties)) >= MAX_PARTIES:
        raise Conflict("the conference is full", code="conference_full")
    now = utcnow()
    party: dict[str, Any] = {"id": max((p["id"] for p in parties), default=0) + 1}
    if target.agent_id is not None:
        agent = session.get(User, target.agent_id)
        if agent is None or not agent.active:
            raise NotFound(f"no agent {target.agent_id}")
        endpoint = _join_agent(session, call, agent, now)
        party.update(kind="agent", agent_id=agent.id, name=agent.name)
    elif target.number is not None:
        endpoint = target.number
        party.update(kind="number", number=target.number, name=target.number)
    else:
        raise APIError("name an agent or a number", code="validation_error", status=422)
    party["endpoint"] = endpoint
    leg = bridging.agent_leg(session, call)
    party["leg"] = _network(session, lambda: gateway.add_party(call.call_sid, endpoint, leg))
    call.parties = [*parties, party]
    consult.announce(session, call, "call.conference", [user.id], now)
    session.commit()
    return call


def remove(session: DbSession, *, user: User, call_id: int, party_id: int, gateway: Any) -> Call:
    """Take a third party out of the agent's call; an agent among them goes to wrap-up."""
    call = _live_call(session, user, call_id)
    parties = list(call.parties or [])
    party = next((p for p in in_call(parties) if p["id"] == party_id), None)
    if party is None:
        raise NotFound(f"no party {party_id} on this call")
    now = utcnow()
    # Kept, marked as gone: an agent among them may still post their wrap-up of the call.
    call.parties = [{**p, "left": True} if p["id"] == party_id else p for p in parties]
    _release(session, call, party, now)
    _network(
        session, lambda: gateway.remove_party(call.call_sid, party.get("leg"), party["endpoint"])
    )
    consult.announce(session, call, "call.conference", [user.id], now)
    session.commit()
    return call


def in_call(parties: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parties still on the call."""
    return [p for p in parties if not p.get("left")]


def _release(session: DbSession, call: Call, party: dict[str, Any], now: datetime) -> None:
    """An agent among the parties goes to wrap-up; their console hears the call ended for them."""
    if party.get("kind") != "agent":
        return
    agent_id = int(party["agent_id"])
    seconds = call.queue.wrap_up_s if call.queue else 30
    move(
        session,
        event=Event.CALL_ENDED,
        now=now,
        agent_id=agent_id,
        call_id=call.id,
        wrap_up_s=seconds,
    )
    announce_presence(session, agent_id, "wrap_up", until=now + timedelta(seconds=seconds))
    payload = {"call_id": call.id, "call_sid": call.call_sid, "outcome": "answered"}
    publish(session, "call.ended", [f"user:{agent_id}"], {**payload, "agent_id": agent_id})


def end_with_call(session: DbSession, call: Call, now: datetime) -> None:
    """The call ended: the agents among its parties go to wrap-up."""
    for party in in_call(list(call.parties or [])):
        _release(session, call, party, now)


def leave(session: DbSession, *, user: User, call_id: int, gateway: Any) -> Call:
    """The agent leaves; the caller and the parties talk on (409 without a party)."""
    call = _live_call(session, user, call_id)
    if not in_call(list(call.parties or [])):
        raise Conflict("nobody would be left with the caller", code="no_party")
    now = utcnow()
    left = session.execute(
        update(Call)
        .where(Call.id == call.id, Call.agent_id == user.id, Call.ended_at.is_(None))
        .values(agent_id=None, transfer=handover(user, "left", Target(), "", "done"))
        .execution_options(synchronize_session=False)
    )
    if rowcount(left) != 1:
        session.rollback()
        raise Conflict("the call is not live", code="not_connected")
    leg = call.agent_call_sid
    session.refresh(call)
    calllog.record(
        session,
        "transferred",
        call_id=call.id,
        queue=queue_name(session, call.queue_id),
        agent_id=user.id,
        mode="left",
        by=user.id,
        since=call.enqueued_at.timestamp() if call.enqueued_at else None,
    )
    seconds = call.queue.wrap_up_s if call.queue else 30
    move(
        session,
        event=Event.CALL_ENDED,
        now=now,
        agent_id=user.id,
        call_id=call.id,
        wrap_up_s=seconds,
    )
    announce_presence(session, user.id, "wrap_up", until=now + timedelta(seconds=seconds))
    _network(session, lambda: gateway.agent_leaves(call.call_sid, leg))
    consult.announce(session, call, "call.transferred", [user.id], now)
    session.commit()
    return call
