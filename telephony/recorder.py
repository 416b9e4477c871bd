"""Recording calls at the network: start, pause, resume, fetch the audio, delete.

`TwilioRecorder` uses Twilio's Call Recordings API on the caller's call (which carries both sides
of the conference); `SimulatorRecorder` keeps the recordings of the built-in simulator, whose
audio is a short silent WAV so that the console's player has something to play offline. Chosen
from the app's gateway like the monitor (`telephony.monitoring.from_gateway`).
"""

from __future__ import annotations

import io
import secrets
import threading
import time
import wave
from dataclasses import dataclass, field
from typing import Any, Protocol

from telephony.gateway import TWILIO_TIMEOUT_S

# Twilio's media: the recording's address with an extension says which format to send.
MEDIA_SUFFIX = ".mp3"
TWILIO_API = "https://api.twilio.com"


class Recorder(Protocol):
    def start(self, call_sid: str, status_callback: str) -> str:
        """Start recording a live call; returns the RecordingSid."""

    def set_paused(self, call_sid: str, recording_sid: str, paused: bool) -> None:
        """Pause (the paused part is skipped) or resume a recording."""

    def media(self, recording_sid: str, media_url: str | None) -> tuple[bytes, str]:
        """The recording's audio and its content type."""

    def delete(self, recording_sid: str) -> None:
        """Delete the recording at the source; one already gone counts as deleted."""


class TwilioRecorder:
    def __init__(self, client: Any, api_base_url: str = "") -> None:
        self.client = client
        # A stand-in of Twilio's API (tests, load runs), as the gateway's HTTP client is aimed.
        self.api_base_url = api_base_url.rstrip("/")

    def start(self, call_sid: str, status_callback: str) -> str:
        recording = self.client.calls(call_sid).recordings.create(
            recording_status_callback=status_callback,
            recording_status_callback_method="POST",
            recording_status_callback_event=["completed", "absent"],
            recording_channels="dual",
        )
        return str(recording.sid)

    def set_paused(self, call_sid: str, recording_sid: str, paused: bool) -> None:
        recording = self.client.calls(call_sid).recordings(recording_sid)
        if paused:
            recording.update(status="paused", pause_behavior="skip")
        else:
            recording.update(status="in-progress")

    def media(self, recording_sid: str, media_url: str | None) -> tuple[bytes, str]:
        """Fetched with the account's credentials. The address is built from the account and
        the RecordingSid, not taken from a callback, so nothing sent to a webhook can make the
        helpdesk fetch another address with those credentials."""
        import requests

        account = self.client.account_sid
        url = f"{TWILIO_API}/2010-04-01/Accounts/{account}/Recordings/{recording_sid}"
        if self.api_base_url:
            url = url.replace(TWILIO_API, self.api_base_url, 1)
        response = requests.get(
            url + MEDIA_SUFFIX,
            auth=(self.client.username, self.client.password),
            timeout=TWILIO_TIMEOUT_S,
        )
        if response.status_code >= 400:
            raise LookupError(f"the provider answered {response.status_code}")
        return response.content, "audio/mpeg"

    def delete(self, recording_sid: str) -> None:
        from twilio.base.exceptions import TwilioRestException

        try:
            self.client.recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:
                raise


def silent_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short silent WAV: what a simulated recording sounds like."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(b"\x80" * int(seconds * rate))
    return out.getvalue()


@dataclass
class _SimRecording:
    call_sid: str
    status: str
    status_callback: str
    started: float = field(default_factory=time.monotonic)


@dataclass
class SimulatorRecorder:
    """The simulator's recordings, in memory. When a recorded simulated call ends, the recorder
    sends the signed recording status callback Twilio would send, so the recording becomes
    playable offline as it would with Twilio."""

    simulator: Any = None
    recordings: dict[str, _SimRecording] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    watch_every_s: float = 0.25
    _watcher: threading.Thread | None = None

    def start(self, call_sid: str, status_callback: str) -> str:
        sid = "RE" + secrets.token_hex(16)
        with self.lock:
            self.recordings[sid] = _SimRecording(call_sid, "in-progress", status_callback)
            if self.simulator is not None and self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._watch, name="simulator-recordings", daemon=True
                )
                self._watcher.start()
        return sid

    def set_paused(self, call_sid: str, recording_sid: str, paused: bool) -> None:
        with self.lock:
            recording = self.recordings.get(recording_sid)
            if recording is None:
                raise LookupError(f"no recording {recording_sid}")
            recording.status = "paused" if paused else "in-progress"

    def media(self, recording_sid: str, media_url: str | None) -> tuple[bytes, str]:
        return silent_wav(), "audio/wav"

    def delete(self, recording_sid: str) -> None:
        with self.lock:
            self.recordings.pop(recording_sid, None)

    def _watch(self) -> None:
        """Until no recording is running: complete those whose call the simulator has ended."""
        while True:
            time.sleep(self.watch_every_s)
            with self.lock:
                running = [(s, r) for s, r in self.recordings.items() if r.status != "completed"]
                ended = [(s, r) for s, r in running if self._ended(r.call_sid)]
                for _, recording in ended:
                    recording.status = "completed"
                done = len(ended) == len(running)
                if done:  # decided under the lock, so a recording started next gets a watcher
                    self._watcher = None
            for sid, recording in ended:
                self._send_completed(sid, recording)
            if done:
                return

    def _ended(self, call_sid: str) -> bool:
        call = self.simulator.calls.get(call_sid)
        return call is None or call.state == "completed"

    def _send_completed(self, sid: str, recording: _SimRecording) -> None:
        account = "AC" + "0" * 32
        seconds = max(1, int(time.monotonic() - recording.started))
        self.simulator.post(
            recording.status_callback,
            {
                "AccountSid": account,
                "CallSid": recording.call_sid,
                "RecordingSid": sid,
                "RecordingStatus": "completed",
                "RecordingUrl": f"{TWILIO_API}/2010-04-01/Accounts/{account}/Recordings/{sid}",
                "RecordingDuration": str(seconds),
            },
        )


def from_gateway(gateway: Any, api_base_url: str = "") -> Recorder:
    """Twilio's recorder when the gateway drives Twilio, otherwise the simulator's."""
    client = getattr(gateway, "client", None)
    if client is not None and type(gateway).__name__ == "TwilioGateway":
        return TwilioRecorder(client, api_base_url)
    return SimulatorRecorder(simulator=getattr(gateway, "simulator", None))
