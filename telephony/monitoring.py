"""Putting a supervisor on a live call (listen, whisper, barge) through Twilio conferences.

A supervisor joins the conference that carries the call (named `call-<CallSid>`, see
`telephony.conference`: the Twilio gateway bridges every accepted call through it) as a participant
added by the Conference Participants API: muted to listen, coaching the agent's leg to whisper
(heard by the agent only), unmuted to barge. The built-in simulator carries no audio: there the
supervisor joins the simulated call, which notes in its transcript who listens, whispers or
barges, so the whole path can be tried offline. Implements `helpdesk.supervision.monitoring`'s
`Monitor`; the app registers `from_gateway` with it.
"""

from __future__ import annotations

import secrets
import threading
import weakref
from typing import Any

from helpdesk.supervision.monitoring import MODES, Monitor, MonitoringUnavailable
from telephony.gateway import TwilioGateway


class TwilioMonitor:
    """Joins through the gateway, so that the conference SID Twilio answers with is kept where
    the gateway's other controls find it."""

    def __init__(self, client: Any, from_number: str, gateway: TwilioGateway | None = None) -> None:
        self.client = client
        self.from_number = from_number
        self.gateway = gateway or TwilioGateway(client)

    def join(
        self, *, call_sid: str, supervisor_endpoint: str, mode: str, agent_call_sid: str | None
    ) -> str:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if not agent_call_sid:
            # No agent leg: the call was not bridged through a conference (or its agent is still
            # being rung), and adding a participant would only open an empty room.
            raise MonitoringUnavailable(
                "this call is not carried by a conference: its agent leg is not known"
            )
        options: dict[str, Any] = {
            "from_": self.from_number,
            "to": supervisor_endpoint,
            "muted": mode == "listen",
            "beep": "false",
            "start_conference_on_enter": False,
            "end_conference_on_exit": False,
        }
        if mode == "whisper":
            options.update(coaching=True, call_sid_to_coach=agent_call_sid)
        return self.gateway.join_conference(call_sid, **options)


class UnavailableMonitor:
    def join(
        self, *, call_sid: str, supervisor_endpoint: str, mode: str, agent_call_sid: str | None
    ) -> str:
        raise MonitoringUnavailable(
            "listening in needs Twilio: the call simulator carries no audio"
        )


# What each simulator's calls have had join them: {simulator: {CallSid: [(endpoint, mode, leg)]}}.
# Kept beside the simulator (and gone with it), since the simulator itself knows only the caller
# and the agent.
_SIMULATED: weakref.WeakKeyDictionary[Any, dict[str, list[tuple[str, str, str]]]] = (
    weakref.WeakKeyDictionary()
)
_SIMULATED_LOCK = threading.Lock()
_HEARD = {
    "listen": "listens in, muted",
    "whisper": "whispers to the agent",
    "barge": "joins the conversation",
}


class SimulatorMonitor:
    """A supervisor joins a call the built-in simulator carries; the call's transcript says so."""

    def __init__(self, simulator: Any) -> None:
        self.simulator = simulator

    def join(
        self, *, call_sid: str, supervisor_endpoint: str, mode: str, agent_call_sid: str | None
    ) -> str:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        call = self.simulator.calls.get(call_sid)
        if call is None or call.state != "connected":
            raise MonitoringUnavailable("the simulator carries no such call in progress")
        leg = "CA" + secrets.token_hex(16)
        with _SIMULATED_LOCK:
            _SIMULATED.setdefault(self.simulator, {}).setdefault(call_sid, []).append(
                (supervisor_endpoint, mode, leg)
            )
        call.say(f"[{supervisor_endpoint.removeprefix('client:')} {_HEARD[mode]}]")
        return leg


def simulated_supervisors(simulator: Any, call_sid: str) -> list[tuple[str, str, str]]:
    """Who joined a simulated call: (endpoint, mode, leg CallSid), in order."""
    with _SIMULATED_LOCK:
        return list(_SIMULATED.get(simulator, {}).get(call_sid, []))


def from_gateway(gateway: Any, from_number: str) -> Monitor:
    """Twilio's monitor when the gateway drives Twilio, the simulator's when it drives the
    simulator, otherwise the unavailable one."""
    client = getattr(gateway, "client", None)
    if isinstance(gateway, TwilioGateway):
        return TwilioMonitor(client, from_number, gateway)
    simulator = getattr(gateway, "simulator", None)
    if simulator is not None:
        return SimulatorMonitor(simulator)
    return UnavailableMonitor()
