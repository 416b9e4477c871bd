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
class SimulatorRecorder:
    """The simulator's recordings, in memory: {RecordingSid: (CallSid, status)}."""

    recordings: dict[str, tuple[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, call_sid: str, status_callback: str) -> str:
        sid = "RE" + secrets.token_hex(16)
        with self.lock:
            self.recordings[sid] = (call_sid, "in-progress")
        return sid

    def set_paused(self, call_sid: str, recording_sid: str, paused: bool) -> None:
        with self.lock:
            if recording_sid not in self.recordings:
                raise LookupError(f"no recording {recording_sid}")
            self.recordings[recording_sid] = (call_sid, "paused" if paused else "in-progress")

    def media(self, recording_sid: str, media_url: str | None) -> tuple[bytes, str]:
        return silent_wav(), "audio/wav"

    def delete(self, recording_sid: str) -> None:
        with self.lock:
            self.recordings.pop(recording_sid, None)


def from_gateway(gateway: Any, api_base_url: str = "") -> Recorder:
    """Twilio's recorder when the gateway drives Twilio, otherwise the simulator's."""
    client = getattr(gateway, "client", None)
    if client is not None and type(gateway).__name__ == "TwilioGateway":
        return TwilioRecorder(client, api_base_url)
    return SimulatorRecorder()
