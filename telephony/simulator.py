"""A local stand-in for Twilio, so the whole call center can be tried and tested offline.

A simulated customer "dials in": the simulator posts correctly signed webhooks to the app, reads
the TwiML it gets back (Say, Play, Pause, Gather, Redirect, Enqueue with its wait URL, Leave,
Record, Dial, Hangup), answers menus with the digits it was given, and sends the status callbacks
in Twilio's order. It also plays the agent's side: the gateway's `bridge` connects the caller to
the agent's softphone, which answers. Every call keeps a transcript.
"""

from __future__ import annotations

import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from telephony.simulator_controls import SimulatorControls

Post = Callable[[str, dict[str, str], str], tuple[int, str]]  # (path+query, form, signature)

MAX_STEPS = 200  # a TwiML loop that never ends is cut short

Step = tuple[bool, str | None]  # (this document is done, the next document to run)
GO_ON: Step = (False, None)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class SimCall:
    call_sid: str
    from_number: str
    to_number: str
    digits: deque[str] = field(default_factory=deque)
    record_voicemail: bool = True
    state: str = "ringing"  # ringing, in-progress, queued, connected, completed
    transcript: list[str] = field(default_factory=list)
    queue: str | None = None
    queue_action: str | None = None
    wait_url: str | None = None
    queued_at: float = 0.0
    bridged_to: str | None = None
    on_hold: bool = False
    consulting: str | None = None  # a warm transfer's target, talking with the agent
    parties: list[str] = field(default_factory=list)  # third parties in the conference
    answered_at: float | None = None
    ended_at: float | None = None
    started_at: float = field(default_factory=time.monotonic)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def say(self, line: str) -> None:
        self.transcript.append(line)

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_sid": self.call_sid,
            "from": self.from_number,
            "state": self.state,
            "queue": self.queue,
            "bridged_to": self.bridged_to,
            "on_hold": self.on_hold,
            "consulting": self.consulting,
            "parties": list(self.parties),
            "transcript": list(self.transcript),
        }


class Simulator(SimulatorControls):
    """Drives simulated calls against the app through `post` (an HTTP client or a test client)."""

    def __init__(
        self, post: Post, *, auth_token: str, public_base_url: str, our_number: str
    ) -> None:
        self._post = post
        self.validator = RequestValidator(auth_token)
        self.base = public_base_url.rstrip("/")
        self.our_number = our_number
        self.calls: dict[str, SimCall] = {}
        # Recent history only, so that a long-running process does not grow without bound.
        self.sms: deque[dict[str, str]] = deque(maxlen=5000)
        self._lock = threading.RLock()
        self._hold_thread: threading.Thread | None = None

    def start_hold_loop(self, app: Any, every_s: float = 8.0) -> None:
        """Play Twilio's part for waiting callers: fetch each queued call's wait URL in turn,
        which is where hold announcements and the callback offer come from. The loop ends by
        itself once nobody is waiting, and starts again with the next call."""
        with self._lock:
            if self._hold_thread is not None and self._hold_thread.is_alive():
                return

            def loop() -> None:
                while True:
                    time.sleep(every_s)
                    waiting = [c for c in list(self.calls.values()) if c.state == "queued"]
                    if not waiting:
                        return
                    for call in waiting:
                        try:
                            with app.app_context():
                                self.wait_step(call)
                        except Exception as exc:  # keep holding the other callers
                            call.say(f"[hold error: {exc}]")

            self._hold_thread = threading.Thread(target=loop, name="simulator-hold", daemon=True)
            self._hold_thread.start()

    def _remember(self, call: SimCall, keep: int = 2000) -> None:
        """Keep the recent calls only: a long-running process must not grow without bound."""
        with self._lock:
            self.calls[call.call_sid] = call
            if len(self.calls) > keep:
                for sid in [s for s, c in self.calls.items() if c.state == "completed"][
                    : len(self.calls) - keep
                ]:
                    del self.calls[sid]

    # -- talking to the app ---------------------------------------------------------------------

    def post(self, url: str, form: dict[str, str]) -> tuple[int, str]:
        full = url if url.startswith("http") else self.base + url
        signature = self.validator.compute_signature(full, form)
        parts = urlsplit(full)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self._post(path, form, signature)

    def _form(self, call: SimCall, **extra: str) -> dict[str, str]:
        return {
            "AccountSid": "AC" + "0" * 32,
            "ApiVersion": "2010-04-01",
            "CallSid": call.call_sid,
            "From": call.from_number,
            "To": call.to_number,
            "Caller": call.from_number,
            "Called": call.to_number,
            "Direction": "inbound",
            "CallStatus": call.state if call.state != "queued" else "in-progress",
            **extra,
        }

    def _status(self, call: SimCall, status: str, **extra: str) -> None:
        self.post("/twilio/voice/status", self._form(call, CallStatus=status, **extra))

    # -- placing calls ----------------------------------------------------------------------------

    def call(self, from_number: str, *, digits: str = "", record_voicemail: bool = True) -> SimCall:
        """Dial in and run the call until it waits in a queue or ends."""
        call = SimCall(
            call_sid=_sid("CA"),
            from_number=from_number,
            to_number=self.our_number,
            digits=deque(d for d in digits if d.strip() and d != ","),
            record_voicemail=record_voicemail,
        )
        self._remember(call)
        status, body = self.post("/twilio/voice", self._form(call))
        if status != 200:
            call.say(f"[the call was refused: HTTP {status}]")
            self._end(call)
            return call
        call.state = "in-progress"
        call.answered_at = time.monotonic()
        self._run(call, body)
        return call

    def press(self, call_sid: str, digits: str) -> None:
        self.calls[call_sid].digits.extend(d for d in digits if d.strip())

    def wait_step(self, call: SimCall) -> None:
        """One round of hold: fetch the wait URL as Twilio does between announcements."""
        if call.state != "queued" or not call.wait_url:
            return
        waited = int(time.monotonic() - call.queued_at)
        form = self._form(
            call,
            QueueSid="QU" + "0" * 32,
            QueuePosition="1",
            QueueTime=str(waited),
            AvgQueueTime="60",
            CurrentQueueSize="1",
        )
        _, body = self.post(call.wait_url, form)
        self._run(call, body, in_queue=True)

    def hang_up(self, call_sid: str) -> SimCall:
        """The caller puts the phone down (in a queue that is an abandon)."""
        call = self.calls[call_sid]
        if call.state == "queued" and call.queue_action:
            self.post(
                call.queue_action,
                self._form(
                    call,
                    QueueResult="hangup",
                    QueueTime=str(int(time.monotonic() - call.queued_at)),
                ),
            )
        self._end(call)
        return call

    def _end(self, call: SimCall) -> None:
        if call.state == "completed":
            return
        call.state = "completed"
        call.ended_at = time.monotonic()
        duration = int(call.ended_at - (call.answered_at or call.ended_at))
        call.say("[call ended]")
        self._status(call, "completed", CallDuration=str(duration))

    # -- the TwiML interpreter ------------------------------------------------------------------

    def _run(self, call: SimCall, twiml: str, *, in_queue: bool = False) -> None:
        steps = 0
        while twiml and steps < MAX_STEPS and call.state != "completed":
            steps += 1
            twiml = self._execute(call, twiml, in_queue=in_queue) or ""
            if call.state == "queued" and not in_queue:
                return  # waiting for an agent: the hold loop takes over
        if steps >= MAX_STEPS:
            call.say("[too many TwiML steps: hanging up]")
            self._end(call)

    def _execute(self, call: SimCall, twiml: str, *, in_queue: bool) -> str | None:
        """Run one TwiML document; returns the next document to run, if any."""
        try:
            root = ET.fromstring(twiml)  # noqa: S314 (our own app's TwiML)
        except ET.ParseError:
            call.say("[an application error has occurred]")
            self._end(call)
            return None
        for verb in root:
            handler = _VERBS.get(verb.tag)
            if handler is None:
                continue  # a verb the simulator does not play is skipped, as Pause is
            done, body = handler(self, call, verb, in_queue)
            if done:
                return body
        return None

    # Each verb answers (done, next document): `done` ends this document, as a verb that posts
    # to the app, queues the caller, connects or hangs up does on Twilio.

    def _say(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        call.say((verb.text or "").strip())
        return GO_ON

    def _play(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        call.say("[music]")
        return GO_ON

    def _gather(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        for child in verb:
            if child.tag == "Say":
                call.say((child.text or "").strip())
        wanted = int(verb.get("numDigits", "1"))
        pressed = "".join(call.digits.popleft() for _ in range(min(wanted, len(call.digits))))
        if not pressed:
            return GO_ON
        call.say(f"[pressed {pressed}]")
        _, body = self.post(verb.get("action", ""), self._form(call, Digits=pressed))
        return True, body

    def _redirect(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        _, body = self.post((verb.text or "").strip(), self._form(call))
        return True, body

    def _enqueue(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        call.state = "queued"
        call.queue = (verb.text or "").strip()
        call.queue_action = verb.get("action")
        call.wait_url = verb.get("waitUrl")
        call.queued_at = time.monotonic()
        call.say(f"[waiting in queue {call.queue}]")
        if not in_queue:
            self.wait_step(call)
        return True, None

    def _leave(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        call.state = "in-progress"
        call.say("[left the queue]")
        waited = str(int(time.monotonic() - call.queued_at))
        _, body = self.post(
            call.queue_action or "", self._form(call, QueueResult="leave", QueueTime=waited)
        )
        return True, body

    def _record(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        if not call.record_voicemail:
            call.say("[hung up instead of leaving a message]")
            self._end(call)
            return True, None
        call.say("[beep] [a 12-second message]")
        _, body = self.post(
            verb.get("action", ""),
            self._form(
                call,
                RecordingSid=_sid("RE"),
                RecordingDuration="12",
                RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}"
                f"/Recordings/{_sid('RE')}",
            ),
        )
        return True, body

    def _dial(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        target = next(iter(verb), None)
        who = (target.text or "").strip() if target is not None else (verb.text or "")
        self._connect(call, who)
        return True, None

    def _hangup(self, call: SimCall, verb: ET.Element, in_queue: bool) -> Step:
        self._end(call)
        return True, None

    def _connect(self, call: SimCall, who: str) -> None:
        call.state = "connected"
        call.bridged_to = who
        call.say(f"[connected to {who}]")

    # -- the gateway's side (what the app asks of "Twilio") ---------------------------------------

    def gateway_bridge(self, call_sid: str, endpoint: str) -> None:
        call = self.calls.get(call_sid)
        if call is None:
            return
        call.say("[an agent picked up]")
        self._connect(call, endpoint.removeprefix("client:"))

    def gateway_redirect(self, call_sid: str, url: str) -> None:
        call = self.calls.get(call_sid)
        if call is not None:
            threading.Thread(
                target=lambda: self._run(call, self.post(url, self._form(call))[1]), daemon=True
            ).start()

    def gateway_hangup(self, call_sid: str) -> None:
        call = self.calls.get(call_sid)
        if call is not None:
            self._end(call)

    def gateway_place_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """An outbound call (a callback): the customer answers and is connected."""
        call = SimCall(call_sid=_sid("CA"), from_number=from_, to_number=to)
        call.state = "in-progress"
        call.answered_at = time.monotonic()
        self._remember(call)
        call.say(f"[calling {to} back]")

        def answer() -> None:
            time.sleep(0.05)  # the app stores the new CallSid before the customer answers
            self._run(call, self.post(url, self._form(call, Direction="outbound-api"))[1])

        threading.Thread(target=answer, daemon=True).start()
        return call.call_sid

    def gateway_send_sms(self, to: str, from_: str, body: str, status_callback: str) -> str:
        sid = _sid("SM")
        self.sms.append(
            {
                "sid": sid,
                "to": to,
                "from": from_,
                "body": body,
                "status_callback": status_callback,
                "at": datetime.now(UTC).isoformat(),
            }
        )
        return sid

    def text(
        self,
        from_number: str,
        body: str,
        *,
        media_urls: tuple[str, ...] = (),
        opt_out_type: str = "",
    ) -> tuple[int, str]:
        """A simulated customer texts the call center."""
        sid = _sid("SM")
        form = {
            "AccountSid": "AC" + "0" * 32,
            "ApiVersion": "2010-04-01",
            "MessageSid": sid,
            "SmsSid": sid,
            "From": from_number,
            "To": self.our_number,
            "Body": body,
            "NumMedia": str(len(media_urls)),
            "NumSegments": "1",
        }
        for i, url in enumerate(media_urls):
            form[f"MediaUrl{i}"] = url
            form[f"MediaContentType{i}"] = "image/jpeg"
        if opt_out_type:
            form["OptOutType"] = opt_out_type
        return self.post("/twilio/sms", form)

    def inbox(self, number: str) -> list[str]:
        """The texts the call center sent to a number, oldest first."""
        return [m["body"] for m in self.sms if m["to"] == number]


# The TwiML verbs the simulator plays (Pause is waited through: nothing to do offline).
_VERBS: dict[str, Callable[[Simulator, SimCall, ET.Element, bool], Step]] = {
    "Say": Simulator._say,
    "Play": Simulator._play,
    "Gather": Simulator._gather,
    "Redirect": Simulator._redirect,
    "Enqueue": Simulator._enqueue,
    "Leave": Simulator._leave,
    "Record": Simulator._record,
    "Dial": Simulator._dial,
    "Hangup": Simulator._hangup,
}


def test_client_post(app: Any) -> Post:
    """Deliver the simulator's webhooks to the app in-process (no network needed)."""

    def post(path: str, form: dict[str, str], signature: str) -> tuple[int, str]:
        with app.test_client() as client:
            r = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
            return r.status_code, r.get_data(as_text=True)

    return post


def http_post(base_url: str, timeout: float = 15.0) -> Post:
    """Deliver the simulator's webhooks over HTTP to a running server."""
    import requests

    session = requests.Session()

    def post(path: str, form: dict[str, str], signature: str) -> tuple[int, str]:
        r = session.post(
            base_url.rstrip("/") + path,
            data=form,
            timeout=timeout,
            headers={"X-Twilio-Signature": signature},
        )
        return r.status_code, r.text

    return post
