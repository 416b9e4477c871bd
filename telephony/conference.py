"""Calls bridged through Twilio conferences: the room's name, the caller's TwiML, the agent's leg.

Every call an agent takes is carried by a conference named `call-<CallSid>` (the caller's
CallSid): the caller joins it by TwiML, the agent's endpoint is added to it by the Conference
Participants API. A conference, unlike `<Dial><Client>`, lets a supervisor join the call later
(listen, whisper, barge: `helpdesk.supervision.monitoring`), and the Participants API hands back the
agent leg's CallSid, which whispering needs.

Pure helpers with no Flask or database, so that telephony and supervision both import them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Twilio's limits for a participant's ring timeout (Participants API `Timeout`).
MIN_RING_S = 5
MAX_RING_S = 600
# Recorded in `Call.agent_call_sid` while a dial-back's agent leg is being placed, so that a
# replayed webhook does not ring the agent twice. Never a CallSid (those start with "CA").
PENDING_LEG = "pending"


def conference_name(call_sid: str) -> str:
    """The conference that carries a call: named after the caller's CallSid, so each call has its
    own room and anything that knows the call (a supervisor's monitor) can find it."""
    return f"call-{call_sid}"


def agent_leg_sid(recorded: str | None) -> str | None:
    """The agent leg's CallSid as recorded on the call, or None while there is none yet."""
    if not recorded or recorded == PENDING_LEG:
        return None
    return recorded


@dataclass(frozen=True)
class AgentLeg:
    """How the agent's leg of a conference bridge is placed.

    `from_number` is the center's number (the agent sees it ringing); `status_callback` is the
    signed webhook that hears how the leg ended, so a caller whose agent never answers is not
    left alone in the hold music; `wait_url` is what the caller hears until the agent answers.
    """

    from_number: str
    status_callback: str
    wait_url: str
    ring_timeout_s: int = 20

    @property
    def timeout_s(self) -> int:
        return max(MIN_RING_S, min(MAX_RING_S, self.ring_timeout_s))


def conference_twiml(call_sid: str, *, wait_url: str) -> str:
    """The caller's TwiML: join the call's conference and hear `wait_url` until the agent answers.

    A conference starts when its second participant arrives, so the caller alone in it hears the
    wait URL, not silence, while the agent's phone rings. No beep (it would sound like a fault to a
    caller); the caller starts the conference and ends it on leaving, and so does the agent leg,
    so either side hanging up ends the call for both.
    """
    from twilio.twiml.voice_response import Dial, VoiceResponse

    response = VoiceResponse()
    dial = Dial()
    dial.conference(
        conference_name(call_sid),
        beep="false",
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        wait_url=wait_url,
        wait_method="POST",
    )
    response.append(dial)
    return str(response)
