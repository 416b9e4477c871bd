"""Hold and resume (the agent puts the caller on hold, music in their language, and back), and
the agent hanging up their call.

On Twilio the caller is a participant of the call's conference (`call-<CallSid>`, whose
participant for the caller is the caller's own CallSid): holding is one Participants API update,
`Hold=true` with the `HoldUrl` of our `/twilio/voice/on-hold` webhook; resuming is `Hold=false`.
The simulator plays the same part without audio.

The hold time is kept on the call (`held_since` while on hold, `hold_seconds` before) and closed
when the call ends, so the `completed` entry of the call log carries it and AHT splits into talk
and hold. Each change is a compare-and-set, so a double click or two tabs hold the call once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import update

from helpdesk.auth.models import User
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.errors import APIError, Conflict, NotFound
from helpdesk.events import publish
from telephony.callview import call_view
from telephony.floor import FLOOR
from telephony.models import Call

log = logging.getLogger(__name__)

# What a caller on hold hears before the music, in their language (the music loops after it).
ON_HOLD_PROMPTS = {
    "fr": "Votre conseiller vous met en attente quelques instants, ne quittez pas.",
    "en": "Your agent has put you on hold for a moment, please stay on the line.",
}


def on_hold_prompt(language: str) -> str:
    return ON_HOLD_PROMPTS.get(language) or ON_HOLD_PROMPTS["en"]


def held_for(call: Call, now: datetime) -> float:
    """The call's hold time so far, the current hold included."""
    current = (now - call.held_since).total_seconds() if call.held_since else 0.0
    return round((call.hold_seconds or 0.0) + max(current, 0.0), 3)


def set_hold(
    session: DbSession, *, user: User, call_id: int, hold: bool, gateway: Any, hold_url: str
) -> Call:
    """Put the caller of the agent's live call on hold (`hold`) or take them off it.

    The row changes first (compare-and-set on the agent's connected, live call in the other
    state), then the network is asked; should the network refuse, the change is taken back and
    the error raised, so the console never shows a hold the caller does not hear. Holding a call
    already on hold (or resuming one that is not) is a 409, never a second request to Twilio.
    """
    call = session.get(Call, call_id)
    if call is None or call.agent_id != user.id:
        raise NotFound(f"no call {call_id} of yours")
    now = utcnow()
    live = (
        Call.id == call_id,
        Call.agent_id == user.id,
        Call.routing_state == "connected",
        Call.ended_at.is_(None),
    )
    if hold:
        changed = session.execute(
            update(Call)
            .where(*live, Call.held_since.is_(None))
            .values(held_since=now)
            .execution_options(synchronize_session=False)
        )
    else:
        changed = session.execute(
            update(Call)
            .where(*live, Call.held_since.is_not(None))
            .values(held_since=None, hold_seconds=held_for(call, now))
            .execution_options(synchronize_session=False)
        )
    if rowcount(changed) != 1:
        session.rollback()
        state = "on hold" if hold else "not on hold"
        raise Conflict(f"the call is not live or already {state}", code="hold_state")
    try:
        gateway.hold(call.call_sid, hold, hold_url)
    except Exception as exc:
        # The network last: a refusal takes the change back and says so, as a transfer does.
        session.rollback()
        log.warning("hold of call %s refused by the provider: %s", call.call_sid, exc)
        raise APIError(
            "the telephony provider did not change the hold; try again",
            code="hold_failed",
            status=409,
        ) from exc
    session.refresh(call)
    _announce(session, call, now)
    session.commit()
    return call


def close_hold(call: Call, now: datetime) -> float:
    """At the end of the call: a hold still open is closed; returns the call's hold time."""
    call.hold_seconds = held_for(call, now)
    call.held_since = None
    return call.hold_seconds


def _announce(session: DbSession, call: Call, now: datetime) -> None:
    """`call.hold` to the agent's consoles and the floor, with the call's view: the phone panel
    and the wallboard apply it as it is."""
    view = call_view(session, call, now=now).to_json()
    publish(
        session,
        "call.hold",
        [*FLOOR, f"user:{call.agent_id}"],
        {"call_id": call.id, "agent_id": call.agent_id, "call": view},
    )


def hang_up(session: DbSession, *, user: User, call_id: int, gateway: Any) -> Call:
    """The agent ends their call (the caller's call is completed, which ends the conference and
    every leg in it); the caller's final status callback closes it as any hang-up does."""
    call = session.get(Call, call_id)
    if call is None or call.agent_id != user.id:
        raise NotFound(f"no call {call_id} of yours")
    if call.routing_state != "connected" or call.ended_at is not None:
        raise Conflict("the call is not live", code="not_connected")
    session.commit()
    gateway.hangup(call.call_sid)
    return call
