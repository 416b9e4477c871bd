"""The gateway: everything we ask of the telephone network, behind one small interface.

`TwilioGateway` drives Twilio's REST API with an explicit timeout and bridges every call through
a conference (`telephony.conference`), so supervisors can join it; `SimulatorGateway` drives the
built-in simulator, which carries no audio and connects calls directly, so that the whole call
center runs offline. Both are handed what they need at construction, so tests give them fakes
instead of patching.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from telephony.conference import AgentLeg, conference_name, conference_twiml
from telephony.conference_sids import ConferenceSids, MemoryConferenceSids, is_conference_sid

log = logging.getLogger(__name__)

TWILIO_TIMEOUT_S = 10.0


class Gateway(Protocol):
    def bridge(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str | None:
        """Take a caller out of its queue and connect them to an agent's endpoint
        (`client:agent-7` for a softphone, or an E.164 number). Returns the agent leg's CallSid
        when the network gives the agent a call of their own (Twilio), None otherwise."""

    def connect_twiml(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str:
        """The TwiML for a customer who answered a call we placed (a callback): it connects them
        to the agent, or puts them where `add_agent_leg` will bring the agent."""

    def add_agent_leg(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str | None:
        """Ring the agent into the call's conference; the leg's CallSid, or None when the
        network connects the agent by the TwiML alone (the simulator)."""

    def place_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """Dial out; Twilio fetches `url` for the TwiML once answered. Returns the CallSid."""

    def redirect(self, call_sid: str, url: str) -> None:
        """Move a live call on to the TwiML at `url`."""

    def hangup(self, call_sid: str) -> None: ...

    def hold(self, call_sid: str, hold: bool, hold_url: str) -> None:
        """Put the caller of the call's conference on hold (hearing `hold_url`) or back."""

    def park(self, call_sid: str, url: str) -> None:
        """Take the caller out of the call's conference (which ends it, and the agent's leg
        with it) to the TwiML at `url`: a cold transfer's wait, or its `<Dial>` to a number."""

    def add_consult_leg(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str | None:
        """Ring a warm transfer's target into the call's conference; the leg's CallSid."""

    def complete_consult(
        self, call_sid: str, leaving_leg: str | None, staying_leg: str | None
    ) -> None:
        """The first agent leaves a warm transfer: the target's leg now ends the conference, the
        caller comes off hold, the first agent's leg is hung up."""

    def cancel_consult(self, call_sid: str, consult_leg: str | None) -> None:
        """The warm transfer is called off: the target's leg is hung up, the caller taken back."""

    def add_party(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str | None:
        """Ring a third party (an agent or a number) into the call's conference."""

    def remove_party(self, call_sid: str, party_leg: str | None, endpoint: str) -> None:
        """Take a third party out of the call's conference."""

    def agent_leaves(self, call_sid: str, agent_leg: str | None) -> None:
        """The agent leaves the conference; the caller and the third parties talk on."""

    def send_sms(self, to: str, from_: str, body: str, status_callback: str) -> str:
        """Send a text; returns the MessageSid."""

    def check(self) -> str:
        """Raise unless the network answers; return what was checked (for `/healthz`)."""

    def find_sms(
        self, to: str, from_: str, body: str, status_callback: str, since: Any
    ) -> str | None:
        """The MessageSid of a text already accepted by the provider, if there is one: how the
        outbox checks before sending again a message whose first attempt was not recorded."""


# What `/healthz` cannot check cheaply, whichever the backend.
NOT_CHECKED = (
    "that the provider reaches PUBLIC_BASE_URL's webhooks",
    "that TWILIO_PHONE_NUMBER can place calls and send texts",
)


def dial_twiml(endpoint: str, *, caller_id: str | None = None) -> str:
    """The TwiML that connects a call straight to an agent's softphone or phone: the simulator's
    way, since it carries no audio and so has no conference for anyone to join."""
    from twilio.twiml.voice_response import Dial, VoiceResponse

    response = VoiceResponse()
    dial = Dial(caller_id=caller_id) if caller_id else Dial()
    if endpoint.startswith("client:"):
        dial.client(endpoint.removeprefix("client:"))
    else:
        dial.number(endpoint)
    response.append(dial)
    return str(response)


def _http_client(api_base_url: str = "") -> Any:
    """Twilio's HTTP client with a timeout; with `api_base_url`, aimed at a stand-in of Twilio's
    REST API (a contract mock in tests and load runs) instead of api.twilio.com."""
    from twilio.http.http_client import TwilioHttpClient

    if not api_base_url:
        return TwilioHttpClient(timeout=TWILIO_TIMEOUT_S)

    class Redirected(TwilioHttpClient):  # type: ignore[misc]
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            url = url.replace("https://api.twilio.com", api_base_url.rstrip("/"), 1)
            return super().request(method, url, *args, **kwargs)

    return Redirected(timeout=TWILIO_TIMEOUT_S)


class ConferenceNotFound(LookupError):
    """Twilio has no conference in progress for the call: nothing to hold or change."""


class TwilioGateway:
    """Adds participants to a call's conference by its name (`call-<CallSid>`, which Twilio
    accepts there and which creates the room), and addresses the conference by its SID for
    everything else (`room`), as Twilio's API requires."""

    not_checked = NOT_CHECKED

    def __init__(self, client: Any, conference_sids: ConferenceSids | None = None) -> None:
        self.client = client
        self.conference_sids = conference_sids or MemoryConferenceSids()

    @classmethod
    def from_credentials(
        cls,
        account_sid: str,
        auth_token: str,
        http_client: Any | None = None,
        api_base_url: str = "",
        conference_sids: ConferenceSids | None = None,
    ) -> TwilioGateway:
        from twilio.rest import Client

        http = http_client or _http_client(api_base_url)
        return cls(Client(account_sid, auth_token, http_client=http), conference_sids)

    def conference_sid(self, call_sid: str) -> str:
        """The SID of the conference carrying the call: kept since a participant's creation
        answered it, or else looked up once by name among the conferences in progress."""
        known = self.conference_sids.get(call_sid)
        if known:
            return known
        found = self.client.conferences.list(
            friendly_name=conference_name(call_sid), status="in-progress", limit=1
        )
        if not found or not is_conference_sid(found[0].sid):
            raise ConferenceNotFound(f"no conference in progress for call {call_sid}")
        self.conference_sids.put(call_sid, str(found[0].sid))
        return str(found[0].sid)

    def room(self, call_sid: str) -> Any:
        """The call's conference, addressed by SID: for fetching, updating or removing."""
        return self.client.conferences(self.conference_sid(call_sid))

    def join_conference(self, call_sid: str, **options: Any) -> str:
        """Add a participant by the conference's name (which starts the room if need be) and
        keep the conference SID Twilio answers with; returns the new leg's CallSid."""
        participant = self.client.conferences(conference_name(call_sid)).participants.create(
            **options
        )
        if is_conference_sid(getattr(participant, "conference_sid", None)):
            self.conference_sids.put(call_sid, str(participant.conference_sid))
        return str(participant.call_sid)

    def bridge(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str | None:
        """The caller first (out of `<Enqueue>`, into the conference and its wait music), then
        the agent leg: once the agent's phone rings, the only step left is a commit, so a status
        callback for that leg always finds it recorded. Should the agent leg not be placed, the
        caller keeps hearing the wait music and the offer is made again (`service.accept`)."""
        self.client.calls(call_sid).update(twiml=self.connect_twiml(call_sid, endpoint, leg))
        return self.add_agent_leg(call_sid, endpoint, leg)

    def connect_twiml(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str:
        return conference_twiml(call_sid, wait_url=leg.wait_url)

    def add_agent_leg(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str | None:
        return self.join_conference(
            call_sid,
            from_=leg.from_number,
            to=endpoint,
            label="agent",
            beep="false",
            start_conference_on_enter=True,
            end_conference_on_exit=True,
            timeout=leg.timeout_s,
            status_callback=leg.status_callback,
            status_callback_method="POST",
            # One callback when the leg ends, whatever the outcome: its CallStatus says whether
            # the agent answered (completed) or not (no-answer, busy, failed, canceled).
            status_callback_event=["completed"],
        )

    def place_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        call = self.client.calls.create(
            to=to,
            from_=from_,
            url=url,
            method="POST",
            status_callback=status_callback,
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        )
        return str(call.sid)

    def redirect(self, call_sid: str, url: str) -> None:
        self.client.calls(call_sid).update(url=url, method="POST")

    def hangup(self, call_sid: str) -> None:
        self.client.calls(call_sid).update(status="completed")

    def hold(self, call_sid: str, hold: bool, hold_url: str) -> None:
        """The caller's participant in the call's conference is the caller's own CallSid."""
        participant = self.room(call_sid).participants(call_sid)
        if hold:
            participant.update(hold=True, hold_url=hold_url, hold_method="POST")
        else:
            participant.update(hold=False)

    def park(self, call_sid: str, url: str) -> None:
        self.client.calls(call_sid).update(url=url, method="POST")

    def add_consult_leg(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str | None:
        return self.join_conference(
            call_sid,
            from_=leg.from_number,
            to=endpoint,
            label="consult",
            beep="false",
            start_conference_on_enter=True,
            # Until the transfer completes, the first agent's leg is the one that ends the call.
            end_conference_on_exit=False,
            timeout=leg.timeout_s,
        )

    def complete_consult(
        self, call_sid: str, leaving_leg: str | None, staying_leg: str | None
    ) -> None:
        room = self.room(call_sid)
        if staying_leg:
            room.participants(staying_leg).update(end_conference_on_exit=True)
        if leaving_leg:
            room.participants(leaving_leg).update(end_conference_on_exit=False)
        room.participants(call_sid).update(hold=False)
        if leaving_leg:
            self.client.calls(leaving_leg).update(status="completed")

    def cancel_consult(self, call_sid: str, consult_leg: str | None) -> None:
        if consult_leg:
            self.client.calls(consult_leg).update(status="completed")
        self.room(call_sid).participants(call_sid).update(hold=False)

    def add_party(self, call_sid: str, endpoint: str, leg: AgentLeg) -> str | None:
        return self.join_conference(
            call_sid,
            from_=leg.from_number,
            to=endpoint,
            label="party",
            beep="false",
            start_conference_on_enter=True,
            end_conference_on_exit=False,
            timeout=leg.timeout_s,
        )

    def remove_party(self, call_sid: str, party_leg: str | None, endpoint: str) -> None:
        if party_leg:
            self.room(call_sid).participants(party_leg).delete()

    def agent_leaves(self, call_sid: str, agent_leg: str | None) -> None:
        if agent_leg:
            self.room(call_sid).participants(agent_leg).update(end_conference_on_exit=False)
            self.client.calls(agent_leg).update(status="completed")

    def send_sms(self, to: str, from_: str, body: str, status_callback: str) -> str:
        message = self.client.messages.create(
            to=to, from_=from_, body=body, status_callback=status_callback
        )
        return str(message.sid)

    def check(self) -> str:
        """Raises unless the credentials resolve the account (one request, the client's
        timeout); returns what was checked, for `/healthz`."""
        account = self.client.api.v2010.accounts(self.client.account_sid).fetch()
        return f"the credentials resolve account {account.sid}"

    def find_sms(
        self, to: str, from_: str, body: str, status_callback: str, since: Any
    ) -> str | None:
        for message in self.client.messages.list(
            to=to, from_=from_, date_sent_after=since, limit=50
        ):
            if message.body == body:
                return str(message.sid)
        return None


@dataclass
class SimulatorGateway:
    """Hands each command to the simulator (which plays Twilio's part) and keeps a log of them."""

    simulator: Any = None
    not_checked: ClassVar[tuple[str, ...]] = ("calls and texts beyond this process",)
    # The recent commands only: a long-running process must not grow without bound.
    commands: deque[tuple[str, dict[str, str]]] = field(default_factory=lambda: deque(maxlen=1000))

    def _do(self, name: str, **args: str) -> Any:
        self.commands.append((name, args))
        if self.simulator is None:
            return None
        return getattr(self.simulator, "gateway_" + name)(**args)

    def bridge(self, call_sid: str, endpoint: str, leg: AgentLeg | None = None) -> str | None:
        """The simulated caller is connected at once; there is no agent leg of its own."""
        self._do("bridge", call_sid=call_sid, endpoint=endpoint)
        return None

    def connect_twiml(self, call_sid: str, endpoint: str, leg: AgentLeg | None = None) -> str:
        return dial_twiml(endpoint)

    def add_agent_leg(
        self, call_sid: str, endpoint: str, leg: AgentLeg | None = None
    ) -> str | None:
        return None  # the `<Dial>` of connect_twiml already reaches the agent

    def place_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        sid = self._do("place_call", to=to, from_=from_, url=url, status_callback=status_callback)
        return str(sid or f"CAsim{len(self.commands):030d}")

    def redirect(self, call_sid: str, url: str) -> None:
        self._do("redirect", call_sid=call_sid, url=url)

    def hangup(self, call_sid: str) -> None:
        self._do("hangup", call_sid=call_sid)

    def hold(self, call_sid: str, hold: bool, hold_url: str) -> None:
        self._do("hold", call_sid=call_sid, hold="true" if hold else "false", hold_url=hold_url)

    def park(self, call_sid: str, url: str) -> None:
        self._do("park", call_sid=call_sid, url=url)

    def add_consult_leg(
        self, call_sid: str, endpoint: str, leg: AgentLeg | None = None
    ) -> str | None:
        self._do("consult", call_sid=call_sid, endpoint=endpoint)
        return None  # the simulator has no legs of its own: the caller's call carries them

    def complete_consult(
        self, call_sid: str, leaving_leg: str | None, staying_leg: str | None
    ) -> None:
        self._do("complete_consult", call_sid=call_sid)

    def cancel_consult(self, call_sid: str, consult_leg: str | None) -> None:
        self._do("cancel_consult", call_sid=call_sid)

    def add_party(self, call_sid: str, endpoint: str, leg: AgentLeg | None = None) -> str | None:
        self._do("add_party", call_sid=call_sid, endpoint=endpoint)
        return None

    def remove_party(self, call_sid: str, party_leg: str | None, endpoint: str) -> None:
        self._do("remove_party", call_sid=call_sid, endpoint=endpoint)

    def agent_leaves(self, call_sid: str, agent_leg: str | None) -> None:
        self._do("agent_leaves", call_sid=call_sid)

    def send_sms(self, to: str, from_: str, body: str, status_callback: str) -> str:
        sid = self._do("send_sms", to=to, from_=from_, body=body, status_callback=status_callback)
        return str(sid or f"SMsim{len(self.commands):030d}")

    def check(self) -> str:
        """The simulator runs inside this process: attached, it answers."""
        if self.simulator is None:
            raise RuntimeError("no simulator is attached to the gateway")
        return "the built-in simulator is attached"

    def find_sms(
        self, to: str, from_: str, body: str, status_callback: str, since: Any
    ) -> str | None:
        if self.simulator is None:
            return None
        for message in self.simulator.sms:
            if message.get("status_callback") == status_callback:
                return str(message["sid"])
        return None
