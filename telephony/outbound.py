"""Calls we place: the dial-back a caller asked for when their turn comes, and click-to-call from
the console. Twilio dials the customer, who is put through to the agent on answering
(`/twilio/voice/connect-agent`); the agent is on the call from the moment it is placed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app

from helpdesk.auth.models import User
from helpdesk.customers import service as customers
from helpdesk.customers.phones import try_e164
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import APIError, Conflict
from telephony import routing
from telephony.agent_presence import move, presence_of
from telephony.floor import announce_presence
from telephony.history import add_call_to_timeline
from telephony.models import Call
from telephony.presence import Event, transition

log = logging.getLogger(__name__)


def _urls(call_id: int) -> tuple[str, str]:
    """Where Twilio asks what to do once the customer answers, and where it reports status."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/twilio/voice/connect-agent?call={call_id}", f"{base}/twilio/voice/status"


def callback_leg(session: DbSession, original: Call, agent_id: int, now: datetime) -> Call:
    """A callback's turn has come: the call that will dial the customer, who is then connected
    to the agent. It is a call of its own (in its own conference on Twilio, see
    `telephony.bridging.connect_callback`); the original one ends as `callback`."""
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
    return outbound


def place_callback(session: DbSession, original: Call, outbound: Call, gateway: Any) -> None:
    """Dial the customer back (the row from `callback_leg`); the original call goes on their
    timeline, settled."""
    connect, status = _urls(outbound.id)
    outbound.call_sid = gateway.place_call(
        original.from_number, current_app.config["TWILIO_PHONE_NUMBER"], connect, status
    )
    add_call_to_timeline(session, original)


def _dialled(session: DbSession, agent_id: int, e164: str, now: datetime, *, region: str) -> Call:
    """The row of a call the agent places, its customer found by number if known."""
    known = customers.lookup_by_phone(session, e164, region=region)
    call = Call(
        call_sid=f"pending-{agent_id}-{now.timestamp()}",
        direction="outbound",
        from_number=current_app.config["TWILIO_PHONE_NUMBER"],
        to_number=e164,
        customer_id=known[0].id if known else None,
        language=known[0].language if known else routing.language_for(e164),
        status="queued",
        routing_state="connected",
        agent_id=agent_id,
        created_at=now,
        answered_at=now,
        ivr_path=["click-to-call"],
    )
    session.add(call)
    session.flush()
    return call


def click_to_call(
    session: DbSession, *, user: User, number: str, gateway: Any, region: str
) -> Call:
    """The agent dials a customer from the console: Twilio calls the customer, who is connected
    to the agent on answering. The agent is on the call from the moment it is placed."""
    e164 = try_e164(number, region)
    if e164 is None:
        raise APIError(
            "not a valid phone number",
            code="validation_error",
            status=422,
            fields={"to": f"not a valid phone number: {number!r}"},
        )
    presence = presence_of(session, user_id=user.id)
    if transition(presence.state, Event.DIAL) is None:
        raise Conflict("finish your current call first", code="busy")
    now = utcnow()
    call = _dialled(session, user.id, e164, now, region=region)
    dialled = move(
        session,
        event=Event.DIAL,
        now=now,
        agent_id=user.id,
        expected=presence.state,
        call_id=call.id,
        loaded=presence,
    )
    if not dialled:
        session.rollback()
        raise Conflict("finish your current call first", code="busy")
    try:
        connect, status = _urls(call.id)
        call.call_sid = gateway.place_call(e164, call.from_number, connect, status)
    except Exception as exc:
        session.rollback()
        log.exception("placing a call to %s failed", e164)
        raise APIError(
            "the telephony provider did not place the call; try again",
            code="call_failed",
            status=409,
        ) from exc
    announce_presence(session, user.id, "on_call")
    session.commit()
    return call
