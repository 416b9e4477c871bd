"""The simulator's side of the call controls: hold, transfers (cold and warm), as a conference
participant would live them on Twilio. A mixin of `telephony.simulator.Simulator`, kept apart
so the interpreter stays small; every method is a `gateway_*` command the `SimulatorGateway`
hands over, or a helper of one.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any, Protocol


class SimCall(Protocol):
    """What the controls read and change of `telephony.simulator.SimCall` (named here, not
    imported: the simulator imports this module)."""

    state: str
    bridged_to: str | None
    on_hold: bool
    consulting: str | None
    parties: list[str]
    wait_url: str | None
    queue_action: str | None
    queued_at: float

    def say(self, line: str) -> None: ...


class SimulatorControls:
    calls: dict[str, Any]  # of `telephony.simulator.SimCall`, which `SimCall` here describes

    # Provided by `Simulator`.
    def post(self, url: str, form: dict[str, str]) -> tuple[int, str]:
        raise NotImplementedError

    def _form(self, call: Any, **extra: str) -> dict[str, str]:
        raise NotImplementedError

    def _run(self, call: Any, twiml: str, *, in_queue: bool = False) -> None:
        raise NotImplementedError

    # -- call controls: hold ----------------------------------------------------------------------

    def gateway_hold(self, call_sid: str, hold: str, hold_url: str) -> None:
        """Hold as a conference participant hears it: on hold, the hold URL's TwiML is played
        (fetched as Twilio does, the prompt lands in the transcript); resumed, the agent again."""
        call: SimCall | None = self.calls.get(call_sid)
        if call is None or call.state != "connected":
            return
        call.on_hold = hold == "true"
        if not call.on_hold:
            call.say(f"[back with {call.bridged_to}]")
            return
        call.say("[on hold]")
        _, body = self.post(hold_url, self._form(call))
        self._hold_music(call, body)

    # -- call controls: transfers ------------------------------------------------------------------

    def gateway_park(self, call_sid: str, url: str) -> None:
        """Out of the conference (the agent is dropped) to the TwiML at `url`, run at once: a
        wait with music (the caller then waits for the app to bridge them again, as after an
        `<Enqueue>`) or a `<Dial>` to a number."""
        call: SimCall | None = self.calls.get(call_sid)
        if call is None or call.state == "completed":
            return
        call.say(f"[transferred by {call.bridged_to}]")
        call.state, call.bridged_to, call.on_hold, call.consulting = "queued", None, False, None
        call.wait_url = call.queue_action = None
        call.queued_at = time.monotonic()
        self._run(call, self.post(url, self._form(call))[1], in_queue=True)

    def gateway_consult(self, call_sid: str, endpoint: str) -> None:
        call: SimCall | None = self.calls.get(call_sid)
        if call is not None and call.state == "connected":
            call.consulting = endpoint.removeprefix("client:")
            call.say(f"[{call.bridged_to} consults {call.consulting}]")

    def gateway_complete_consult(self, call_sid: str) -> None:
        call: SimCall | None = self.calls.get(call_sid)
        if call is not None and call.state == "connected" and call.consulting:
            call.say(f"[{call.bridged_to} hands over to {call.consulting}]")
            call.bridged_to, call.consulting, call.on_hold = call.consulting, None, False

    def gateway_cancel_consult(self, call_sid: str) -> None:
        call: SimCall | None = self.calls.get(call_sid)
        if call is not None and call.state == "connected":
            call.consulting, call.on_hold = None, False
            call.say(f"[back with {call.bridged_to}]")

    # -- call controls: conference ----------------------------------------------------------------

    def gateway_add_party(self, call_sid: str, endpoint: str) -> None:
        call: SimCall | None = self.calls.get(call_sid)
        if call is not None and call.state == "connected":
            party = endpoint.removeprefix("client:")
            call.parties.append(party)
            call.say(f"[{party} joins the call]")

    def gateway_remove_party(self, call_sid: str, endpoint: str) -> None:
        call: SimCall | None = self.calls.get(call_sid)
        party = endpoint.removeprefix("client:")
        if call is not None and party in call.parties:
            call.parties.remove(party)
            call.say(f"[{party} leaves the call]")

    def gateway_agent_leaves(self, call_sid: str) -> None:
        call: SimCall | None = self.calls.get(call_sid)
        if call is not None and call.state == "connected":
            call.say(f"[{call.bridged_to} leaves the call]")
            call.bridged_to = None

    def _hold_music(self, call: SimCall, twiml: str) -> None:
        try:
            root = ET.fromstring(twiml)  # noqa: S314 (our own app's TwiML)
        except ET.ParseError:
            call.say("[an application error has occurred]")
            return
        for verb in root:
            if verb.tag == "Say":
                call.say((verb.text or "").strip())
            elif verb.tag == "Play":
                call.say("[music]")
