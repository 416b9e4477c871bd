"""Transfers of a live call: cold (the caller is handed over at once) and warm (the agent talks
to the target first, the caller on hold, then completes or cancels).

Cold, to a queue: the caller waits again in that queue with the time already waited and their
priority (`enqueued_at` and `priority` are kept, and the router orders by them), and the agent
goes to wrap-up. To an agent: the same, and the call is offered to that agent at once, in the
same transaction, ringing as long as the queue's ring timeout; if it rings out (or the agent is
gone), the offer's expiry puts the call back in line (`offers.expire`), the fallback. To a
number: the caller is dialled through to it and the call leaves the helpdesk.

Warm, to an agent: the caller is put on hold and the target's console rings with the call's
view (saying it is a transfer, from whom, with the notes); once they accept, their leg joins
the conference. Complete: the first agent leaves, the target keeps the caller; cancel: the
target's leg is hung up and the caller taken off hold. To a queue: the same, with the agent the
router would pick now were the call waiting in that queue; completed, the call belongs to that
queue. To a number: the caller is put on hold and the number dialled into the conference at
once; complete: the first agent leaves and the caller talks with the number, the call leaving
the helpdesk; cancel: the number's leg is hung up and the caller taken off hold.

Every step is a compare-and-set on the call (and, through the offers, on the agents), so a
transfer accepted while the caller hangs up, or two clicks, change the call once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from helpdesk.auth.models import Role, User
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.errors import APIError, Conflict, NotFound
from helpdesk.supervision import calllog
from telephony import bridging, consult, offers, routing
from telephony.agent_presence import move
from telephony.floor import announce_presence, queue_name, request_dispatch
from telephony.hold import held_for
from telephony.models import Call, CallQueue
from telephony.presence import Event
from telephony.routing_snapshot import agent_views, queue_spec

TRANSFER_PROMPTS = {
    "fr": "Nous transférons votre appel, ne quittez pas.",
    "en": "We are transferring your call, please stay on the line.",
}
MODES = ("cold", "warm")


def transfer_prompt(language: str) -> str:
    return TRANSFER_PROMPTS.get(language) or TRANSFER_PROMPTS["en"]


@dataclass(frozen=True)
class Target:
    """Whom the call goes to: exactly one of an agent, a queue (by name) or a number (E.164)."""

    agent_id: int | None = None
    queue: str | None = None
    number: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Urls:
    """The webhooks a transfer sends the caller to (`telephony.control_webhooks`)."""

    wait: str
    number: str
    hold: str


def _live_call(session: DbSession, user: User, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None or call.agent_id != user.id:
        raise NotFound(f"no call {call_id} of yours")
    if call.routing_state != "connected" or call.ended_at is not None:
        raise Conflict("the call is not live", code="not_connected")
    return call


def _target_queue(session: DbSession, name: str) -> CallQueue:
    queue: CallQueue | None = session.scalar(
        select(CallQueue).where(CallQueue.name == name, CallQueue.active)
    )
    if queue is None:
        raise APIError(
            "no such queue", code="validation_error", status=422, fields={"to.queue": name}
        )
    return queue


def _target_agent(session: DbSession, user: User, agent_id: int) -> User:
    agent = session.get(User, agent_id)
    if agent is None or agent.role is not Role.AGENT or not agent.active:
        raise APIError(
            "no such agent", code="validation_error", status=422, fields={"to.agent_id": "?"}
        )
    if agent.id == user.id:
        raise Conflict("the call is already yours", code="same_agent")
    return agent


def handover(
    user: User, mode: str, target: Target, notes: str, state: str, to_name: str = ""
) -> dict[str, Any]:
    """What the call records of the transfer, and what the receiving agent's screen shows."""
    return {
        "to_name": to_name,
        "mode": mode,
        "state": state,
        "from_agent_id": user.id,
        "from_name": user.name,
        "notes": notes[:2000],
        "to": target.to_json(),
    }


# -- cold ----------------------------------------------------------------------------------------


def cold(
    session: DbSession,
    *,
    user: User,
    call_id: int,
    target: Target,
    notes: str,
    gateway: Any,
    urls: Urls,
) -> Call:
    """Hand the caller over at once (see the module's docstring); the agent goes to wrap-up."""
    call = _live_call(session, user, call_id)
    now = utcnow()
    queue = _target_queue(session, target.queue) if target.queue else call.queue
    to_name = target.number or (queue.name if queue is not None else "")
    if target.agent_id is not None:
        to_name = _target_agent(session, user, target.agent_id).name
    if target.number is None and queue is None:
        raise Conflict("the call has no queue to wait in", code="no_queue")
    source = queue_name(session, call.queue_id)
    out = target.number is not None
    _hand_over(
        session,
        call,
        user,
        routing_state="done" if out else "waiting",
        outcome="transferred" if out else None,
        queue_id=call.queue_id if out or queue is None else queue.id,
        agent_id=user.id if out else None,
        transfer=handover(user, "cold", target, notes, "done", to_name),
        now=now,
    )
    calllog.record(
        session,
        "transferred",
        call_id=call.id,
        queue=source,
        agent_id=user.id,
        to_queue=None if out or queue is None else queue.name,
        to_agent=target.agent_id,
        mode="cold",
        by=user.id,
        since=call.enqueued_at.timestamp() if call.enqueued_at else None,
    )
    _to_wrap_up(session, call, user.id, now)
    if target.agent_id is not None and not offers.offer_to(
        session, call=call, agent_id=target.agent_id, now=now
    ):
        session.rollback()
        raise Conflict("that agent is not free to take a call", code="agent_busy")
    _ask_network(session, lambda: gateway.park(call.call_sid, urls.number if out else urls.wait))
    consult.announce(session, call, "call.transferred", [user.id], now)
    if not out and target.agent_id is None:
        request_dispatch(session)
    session.commit()
    return call


def _hand_over(session: DbSession, call: Call, user: User, *, now: datetime, **values: Any) -> None:
    """The compare-and-set that takes the live call from the agent: the hold is closed and
    counted, the agent's leg forgotten, `values` written; 409 if the call changed meanwhile."""
    released = session.execute(
        update(Call)
        .where(
            Call.id == call.id,
            Call.agent_id == user.id,
            Call.routing_state == "connected",
            Call.ended_at.is_(None),
        )
        .values(
            agent_call_sid=None,
            declined_by=[],
            held_since=None,
            hold_seconds=held_for(call, now),
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(released) != 1:
        session.rollback()
        raise Conflict("the call is not live", code="not_connected")
    session.refresh(call)


def _to_wrap_up(session: DbSession, call: Call, agent_id: int, now: datetime) -> None:
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


def _ask_network(session: DbSession, request: Any) -> Any:
    """The network last: a refusal takes the whole change back, so no screen shows a transfer
    the caller does not live."""
    try:
        return request()
    except Exception as exc:
        session.rollback()
        raise APIError(
            "the telephony provider did not transfer the call; try again",
            code="transfer_failed",
            status=409,
        ) from exc


# -- warm ----------------------------------------------------------------------------------------


def warm(
    session: DbSession,
    *,
    user: User,
    call_id: int,
    target: Target,
    notes: str,
    gateway: Any,
    urls: Urls,
) -> Call:
    """Put the caller on hold and ring the target agent with the call's view, or dial the
    number into the call's conference; the call stays the first agent's until the transfer
    completes."""
    call = _live_call(session, user, call_id)
    if call.transfer and call.transfer.get("state") in ("ringing", "consulting"):
        raise Conflict("a transfer of this call is under way", code="transfer_under_way")
    if target.number is not None:
        return _warm_to_number(
            session, user=user, call=call, target=target, notes=notes, gateway=gateway, urls=urls
        )
    now = utcnow()
    if target.queue is not None:
        target = _free_agent_of(session, user, call, _target_queue(session, target.queue), now)
    if target.agent_id is None:
        raise APIError(
            "a warm transfer goes to an agent, a queue or a number",
            code="validation_error",
            status=422,
            fields={"to": "agent_id"},
        )
    to_name = _target_agent(session, user, target.agent_id).name
    call.transfer = handover(user, "warm", target, notes, "ringing", to_name)
    # The target first: a busy target leaves the caller as they were, off hold.
    if not consult.ring(session, call=call, agent_id=target.agent_id, now=now):
        session.rollback()
        raise Conflict("that agent is not free to take a call", code="agent_busy")
    if call.held_since is None:
        call.held_since = now
        _ask_network(session, lambda: gateway.hold(call.call_sid, True, urls.hold))
    consult.announce(session, call, "call.transfer", [user.id], now)
    session.commit()
    return call


def _free_agent_of(
    session: DbSession, user: User, call: Call, queue: CallQueue, now: datetime
) -> Target:
    """The agent a warm transfer to `queue` consults: the one the router would offer the call
    to now, were it waiting in that queue (its skills, language, strategy); 409 when nobody
    qualified is free, the caller staying as they were."""
    waiting = routing.WaitingCall(
        id=call.id,
        queue=queue.name,
        enqueued_at=call.enqueued_at or now,
        priority=call.priority,
        language=call.language,
    )
    others = [a for a in agent_views(session, now) if a.id != user.id]
    chosen = routing.choose_agent(waiting, others, {queue.name: queue_spec(queue)}, now)
    if chosen is None:
        raise Conflict("nobody of that queue is free to take the call", code="no_agent_free")
    return Target(agent_id=chosen.id, queue=queue.name)


def complete(session: DbSession, *, user: User, call_id: int, gateway: Any) -> Call:
    """The first agent leaves: the target keeps the caller, who comes off hold."""
    call = _live_call(session, user, call_id)
    handed = dict(call.transfer or {})
    if handed.get("state") != "consulting":
        raise Conflict("no transfer of this call is waiting to complete", code="no_consult")
    if "number" in handed["to"]:
        return _complete_to_number(session, user=user, call=call, gateway=gateway)
    now = utcnow()
    target = int(handed["to"]["agent_id"])
    to_queue = handed["to"].get("queue")
    source = queue_name(session, call.queue_id)
    queue_id = to_queue and session.scalar(select(CallQueue.id).where(CallQueue.name == to_queue))
    won = session.execute(
        update(Call)
        .where(Call.id == call.id, Call.agent_id == user.id, Call.ended_at.is_(None))
        .values(
            queue_id=queue_id or call.queue_id,
            agent_id=target,
            agent_call_sid=handed.get("consult_leg"),
            held_since=None,
            hold_seconds=held_for(call, now),
            transfer={**handed, "state": "done"},
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(won) != 1:
        session.rollback()
        raise Conflict("the call is not live", code="not_connected")
    leaving = call.agent_call_sid
    session.refresh(call)
    calllog.record(
        session,
        "transferred",
        call_id=call.id,
        queue=source,
        agent_id=user.id,
        to_agent=target,
        to_queue=to_queue,
        mode="warm",
        by=user.id,
        since=call.enqueued_at.timestamp() if call.enqueued_at else None,
    )
    _to_wrap_up(session, call, user.id, now)
    _ask_network(
        session,
        lambda: gateway.complete_consult(call.call_sid, leaving, handed.get("consult_leg")),
    )
    consult.announce(session, call, "call.transferred", [user.id, target], now)
    session.commit()
    return call


def cancel(session: DbSession, *, user: User, call_id: int, gateway: Any, urls: Urls) -> Call:
    """The first agent calls the transfer off: the target is let go (their console stops
    ringing, or their leg is hung up), the caller comes off hold."""
    call = _live_call(session, user, call_id)
    handed = dict(call.transfer or {})
    if handed.get("state") not in ("ringing", "consulting"):
        raise Conflict("no transfer of this call is under way", code="no_consult")
    now = utcnow()
    target = handed["to"].get("agent_id")
    call.transfer = {**handed, "state": "cancelled"}
    call.hold_seconds = held_for(call, now)
    call.held_since = None
    if target is not None:
        consult.release(session, call=call, agent_id=int(target), now=now)
    if handed["state"] == "consulting":
        leg = handed.get("consult_leg")
        _ask_network(session, lambda: gateway.cancel_consult(call.call_sid, leg))
    else:
        _ask_network(session, lambda: gateway.hold(call.call_sid, False, urls.hold))
    told = [user.id] if target is None else [user.id, int(target)]
    consult.announce(session, call, "call.transfer", told, now)
    session.commit()
    return call


# -- warm, to a number -----------------------------------------------------------------------------


def _warm_to_number(
    session: DbSession,
    *,
    user: User,
    call: Call,
    target: Target,
    notes: str,
    gateway: Any,
    urls: Urls,
) -> Call:
    """The caller on hold, the number dialled into the call's conference at once: there is no
    console to ring, so the consultation starts (`consulting`) as the number's leg is placed,
    and the agent hears it ring, then talks to whoever answers."""
    now = utcnow()
    number = str(target.number)
    if call.held_since is None:
        call.held_since = now
        _ask_network(session, lambda: gateway.hold(call.call_sid, True, urls.hold))
    leg = bridging.agent_leg(session, call)
    sid = _ask_network(session, lambda: gateway.add_consult_leg(call.call_sid, number, leg))
    call.transfer = {
        **handover(user, "warm", target, notes, "consulting", number),
        "consult_leg": sid,
    }
    consult.announce(session, call, "call.transfer", [user.id], now)
    session.commit()
    return call


def _complete_to_number(session: DbSession, *, user: User, call: Call, gateway: Any) -> Call:
    """The agent leaves a consultation with a number: the caller, off hold, talks with the
    number, and the call leaves the helpdesk as a cold transfer to a number does."""
    now = utcnow()
    handed = dict(call.transfer or {})
    leaving = call.agent_call_sid
    _hand_over(
        session,
        call,
        user,
        routing_state="done",
        outcome="transferred",
        agent_id=user.id,
        transfer={**handed, "state": "done"},
        now=now,
    )
    calllog.record(
        session,
        "transferred",
        call_id=call.id,
        queue=queue_name(session, call.queue_id),
        agent_id=user.id,
        to_number=handed["to"]["number"],
        mode="warm",
        by=user.id,
        since=call.enqueued_at.timestamp() if call.enqueued_at else None,
    )
    _to_wrap_up(session, call, user.id, now)
    _ask_network(
        session,
        lambda: gateway.complete_consult(call.call_sid, leaving, handed.get("consult_leg")),
    )
    consult.announce(session, call, "call.transferred", [user.id], now)
    session.commit()
    return call
