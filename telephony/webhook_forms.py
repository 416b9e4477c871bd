"""Twilio's webhook forms read into small dataclasses, each value checked at the edge.

The routing, IVR and SMS logic behind never see Flask or a raw form, and never a value that no
column holds: on PostgreSQL an over-long `From` or `MessageSid` failed in SQL, and on SQLite an id
past 2⁶³ did, each a 500 that Twilio answers with its fallback. A value out of range is either
harmless and brought within bounds (the queue position Twilio reports for the wait message) or
refused with `BadWebhook`, which the blueprints answer 400 with a message naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helpdesk.api.converters import MAX_ID
from telephony.calls import InboundCall
from telephony.models import STATUS_RANK, Call, SmsMessage
from telephony.sms_inbound import InboundSms

Form = Mapping[str, str]
_INTEGER = re.compile(r"-?[0-9]+")


class BadWebhook(Exception):
    """A webhook value out of range or missing: answered 400 with this message."""


def _length(column: Any) -> int:
    """The column's declared length: the limits below follow the schema."""
    return int(column.type.length)


CALL_SID = _length(Call.call_sid)
NUMBER = _length(Call.from_number)
CALL_STATUS = _length(Call.status)
RECORDING_URL = _length(Call.recording_url)
MESSAGE_SID = _length(SmsMessage.message_sid)
SMS_NUMBER = min(_length(SmsMessage.from_number), _length(SmsMessage.to_number))
SMS_KEY = _length(SmsMessage.idempotency_key)
ERROR_CODE = _length(SmsMessage.error_code)
DIGITS = 64  # keys pressed: our longest <Gather> takes 12
SHORT = 64  # values only compared, never stored (a queue result, a message status)
MEDIA_URL = 2048
MAX_MEDIA = 10  # Twilio sends at most ten media with one message


def text(form: Form, name: str, *, limit: int, required: bool = False) -> str:
    """A text value within `limit` characters; a missing one is empty unless `required`."""
    value = form.get(name) or ""
    if required and not value:
        raise BadWebhook(f"{name} is required")
    if len(value) > limit:
        raise BadWebhook(f"{name} is longer than {limit} characters")
    return value


def count(form: Form, name: str, *, default: int, low: int, high: int) -> int:
    """A number Twilio reports for information only: an unreadable one is `default`, one out of
    [low, high] is brought within it. Nothing is refused for it."""
    raw = (form.get(name) or "").strip()
    if not _INTEGER.fullmatch(raw):
        return default
    if len(raw) > 18:  # past any bound here, and past what int() reads cheaply
        return low if raw.startswith("-") else high
    return min(max(int(raw), low), high)


def record_id(args: Form, name: str) -> int | None:
    """An id of ours carried in a URL we gave Twilio (`?call=12`); None when absent."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_ID)):
        raise BadWebhook(f"{name} must be an id from 1 to {MAX_ID}")
    value = int(raw)
    if not 1 <= value <= MAX_ID:
        raise BadWebhook(f"{name} must be an id from 1 to {MAX_ID}")
    return value


def call_sid(form: Form, *, required: bool = True) -> str:
    return text(form, "CallSid", limit=CALL_SID, required=required)


def _call_status(form: Form) -> str:
    """A status Twilio sends, or "" for anything else (a status callback then changes nothing)."""
    status = text(form, "CallStatus", limit=SHORT)
    return status if status in STATUS_RANK else ""


def inbound_call(form: Form) -> InboundCall:
    """`POST /twilio/voice`: a call arrives."""
    return InboundCall(
        call_sid=call_sid(form),
        from_number=text(form, "From", limit=NUMBER),
        to_number=text(form, "To", limit=NUMBER),
        status=_call_status(form) or "ringing",
    )


@dataclass(frozen=True)
class CallStep:
    """An IVR step of a call: the keys the caller pressed, None when they pressed none."""

    call_sid: str
    digits: str | None

    @classmethod
    def read(cls, form: Form) -> CallStep:
        sid = call_sid(form)
        digits = text(form, "Digits", limit=DIGITS) if "Digits" in form else None
        return cls(call_sid=sid, digits=digits)


@dataclass(frozen=True)
class QueueWait:
    """The wait URL's request: where the caller stands in Twilio's queue. Only the time waited
    is used: Twilio's position and average are first come, first served, and the caller hears
    the helpdesk's own (`telephony.queue_wait`)."""

    call_sid: str
    position: int
    waited_s: int
    average_s: int

    @classmethod
    def read(cls, form: Form) -> QueueWait:
        day = 86_400
        return cls(
            call_sid=call_sid(form),
            position=count(form, "QueuePosition", default=1, low=1, high=10_000),
            waited_s=count(form, "QueueTime", default=0, low=0, high=day),
            average_s=count(form, "AvgQueueTime", default=0, low=0, high=day),
        )


@dataclass(frozen=True)
class QueueResult:
    """How the caller's `<Enqueue>` ended (leave, bridged, hangup, queue-full...)."""

    call_sid: str
    result: str

    @classmethod
    def read(cls, form: Form) -> QueueResult:
        return cls(call_sid=call_sid(form), result=text(form, "QueueResult", limit=SHORT))


@dataclass(frozen=True)
class Recording:
    """The `<Record>` action: the voicemail's URL ("" when nothing was recorded)."""

    call_sid: str
    url: str
    duration_s: int | None

    @classmethod
    def read(cls, form: Form) -> Recording:
        duration = count(form, "RecordingDuration", default=-1, low=0, high=86_400)
        return cls(
            call_sid=call_sid(form),
            url=text(form, "RecordingUrl", limit=RECORDING_URL),
            duration_s=None if "RecordingDuration" not in form or duration < 0 else duration,
        )


@dataclass(frozen=True)
class CallStatusUpdate:
    """A status callback of the caller's leg; an unknown status is ""."""

    call_sid: str
    status: str

    @classmethod
    def read(cls, form: Form) -> CallStatusUpdate:
        return cls(call_sid=call_sid(form, required=False), status=_call_status(form))


@dataclass(frozen=True)
class AgentLegStatus:
    """The status callback of an agent's conference leg: our call (`?call=`) and the leg's own
    CallSid."""

    call_id: int | None
    leg_sid: str
    status: str

    @classmethod
    def read(cls, form: Form, args: Form) -> AgentLegStatus:
        return cls(
            call_id=record_id(args, "call"),
            leg_sid=call_sid(form, required=False),
            status=_call_status(form),
        )


def inbound_sms(form: Form) -> InboundSms:
    """`POST /twilio/sms`: a text arrives."""
    sid = text(form, "MessageSid", limit=MESSAGE_SID) or text(form, "SmsSid", limit=MESSAGE_SID)
    if not sid:
        raise BadWebhook("MessageSid is required")
    media = count(form, "NumMedia", default=0, low=0, high=MAX_MEDIA)
    urls = (text(form, f"MediaUrl{i}", limit=MEDIA_URL) for i in range(media))
    return InboundSms(
        message_sid=sid,
        from_number=text(form, "From", limit=SMS_NUMBER, required=True),
        to_number=text(form, "To", limit=SMS_NUMBER),
        body=form.get("Body") or "",
        media_urls=tuple(u for u in urls if u),
        opt_out_type=text(form, "OptOutType", limit=SHORT),
    )


@dataclass(frozen=True)
class SmsStatusUpdate:
    """A delivery status callback; `key` is the outbox row's idempotency key from our URL."""

    message_sid: str
    status: str
    key: str | None
    error_code: str | None

    @classmethod
    def read(cls, form: Form, args: Form) -> SmsStatusUpdate:
        sid = text(form, "MessageSid", limit=MESSAGE_SID) or text(form, "SmsSid", limit=MESSAGE_SID)
        status = text(form, "MessageStatus", limit=SHORT) or text(form, "SmsStatus", limit=SHORT)
        return cls(
            message_sid=sid,
            status=status,
            key=text(args, "key", limit=SMS_KEY) or None,
            error_code=text(form, "ErrorCode", limit=ERROR_CODE) or None,
        )
