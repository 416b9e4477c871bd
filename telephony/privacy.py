"""Calls and texts: the caller's number, voicemail recordings, wrap-up notes, message bodies.

Calls keep their direction, queue, times, waits, talk time, outcome, disposition and IVR steps
(every figure of the call statistics); the customer's side of the call (the number), the
recording's address and the agent's notes go. Texts keep their direction, kind, status, segment
count and times; the customer's number, the body, media links and provider errors (which quote the
number) go. A text that is still waiting to be sent to the customer is not sent.

Texts that are not the customer's own but speak of them are found too: a technician's job sheet
and updates by their visit, and older texts by the customer's names, numbers and addresses
(which are replaced by `[erased]` there). An opt-out keeps a keyed hash of the number, so that
the STOP is still honoured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select

from helpdesk.db import DbSession
from helpdesk.privacy.registry import ERASED, Holder, Subject, exempt, mentions, redact, register
from telephony.models import Call, CallQueue, SmsMessage, SmsOptOut

UNSENT = ("queued", "retry")


def _work_orders(subject: Subject) -> Any:
    from helpdesk.dispatch.models import WorkOrder

    return select(WorkOrder.id).where(WorkOrder.customer_id.in_(subject.customer_ids))


def _calls(session: DbSession, subject: Subject) -> list[Call]:
    phones = list(subject.phones)
    return list(
        session.scalars(
            select(Call)
            .where(
                or_(
                    Call.customer_id.in_(subject.customer_ids),
                    Call.from_number.in_(phones),
                    Call.to_number.in_(phones),
                )
            )
            .order_by(Call.id)
        )
    )


def _theirs(number: str, subject: Subject, *, customer_side: bool) -> bool:
    return customer_side or number in subject.phones


def erase_calls(session: DbSession, subject: Subject) -> int:
    changed = 0
    for call in _calls(session, subject):
        linked = call.customer_id in subject.customer_ids
        outbound = call.direction == "outbound"
        before = (call.from_number, call.to_number, call.recording_url, call.wrap_up_notes)
        if _theirs(call.from_number, subject, customer_side=linked and not outbound):
            call.from_number = ""
        if _theirs(call.to_number, subject, customer_side=linked and outbound):
            call.to_number = ""
        call.recording_url = None
        call.wrap_up_notes = ""
        if before != (call.from_number, call.to_number, call.recording_url, call.wrap_up_notes):
            changed += 1
    return changed


def erase_sms(session: DbSession, subject: Subject) -> int:
    phones = list(subject.phones)
    linked = list(
        session.scalars(
            select(SmsMessage).where(
                or_(
                    SmsMessage.customer_id.in_(subject.customer_ids),
                    SmsMessage.work_order_id.in_(_work_orders(subject)),
                    SmsMessage.from_number.in_(phones),
                    SmsMessage.to_number.in_(phones),
                )
            )
        )
    )
    changed = 0
    for row in linked:
        before = (row.from_number, row.to_number, row.body, list(row.media_urls), row.error)
        own = row.customer_id in subject.customer_ids
        to_them = _theirs(row.to_number, subject, customer_side=own and row.direction == "outbound")
        if _theirs(row.from_number, subject, customer_side=own and row.direction == "inbound"):
            row.from_number = ""
        if to_them:
            row.to_number = ""
        if row.direction == "outbound" and row.status in UNSENT:
            # Not sent now: it would carry `[erased]` (or reach a number no longer theirs).
            row.status, row.next_attempt_at = "rejected", None
        row.body = ERASED
        row.media_urls = []
        row.error = ""
        if before != (row.from_number, row.to_number, row.body, list(row.media_urls), row.error):
            changed += 1
    seen = {row.id for row in linked}
    # Texts of other people that name the customer (older job sheets sent before texts were
    # linked to their visit, a message forwarded by someone else): the identifiers are redacted.
    for row in session.scalars(select(SmsMessage).where(mentions(SmsMessage.body, subject))):
        if row.id in seen:
            continue
        body = redact(row.body, subject)
        if body != row.body:
            row.body = body
            changed += 1
    return changed


def erase_opt_outs(session: DbSession, subject: Subject) -> int:
    from telephony.sms_optout import opt_out_key

    rows = list(
        session.scalars(select(SmsOptOut).where(SmsOptOut.customer_number.in_(subject.phones)))
    )
    for row in rows:
        row.customer_number = opt_out_key(row.customer_number)
    return len(rows)


def erase(session: DbSession, subject: Subject) -> int:
    return (
        erase_calls(session, subject)
        + erase_sms(session, subject)
        + erase_opt_outs(session, subject)
    )


def _call_out(call: Call, queues: Mapping[int, str]) -> dict[str, Any]:
    return {
        "id": call.id,
        "direction": call.direction,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "status": call.status,
        "outcome": call.outcome,
        "queue": queues.get(call.queue_id) if call.queue_id else None,
        "created_at": call.created_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "disposition": call.disposition,
        "wrap_up_notes": call.wrap_up_notes,
        "recording_url": call.recording_url,
        "callback_requested": call.callback_requested,
        "ticket_id": call.ticket_id,
    }


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    calls = _calls(session, subject)
    queues = {q.id: q.name for q in session.scalars(select(CallQueue))}
    texts = session.scalars(
        select(SmsMessage)
        .where(
            or_(
                SmsMessage.customer_id.in_(subject.customer_ids),
                SmsMessage.from_number.in_(subject.phones),
                SmsMessage.to_number.in_(subject.phones),
            )
        )
        .order_by(SmsMessage.id)
    )
    opt_outs = session.scalars(
        select(SmsOptOut)
        .where(SmsOptOut.customer_number.in_(subject.phones))
        .order_by(SmsOptOut.id)
    )
    return {
        "calls": [_call_out(c, queues) for c in calls],
        "voicemails": [
            _voicemail_out(c) for c in calls if c.outcome == "voicemail" or c.recording_url
        ],
        "callbacks": [_callback_out(c) for c in calls if c.callback_requested],
        "sms": [_sms_out(t) for t in texts],
        "sms_opt_outs": [
            {
                "number": o.customer_number,
                "sending_number": o.sending_number,
                "opted_out_at": o.opted_out_at,
                "source": o.source,
            }
            for o in opt_outs
        ],
    }


def _voicemail_out(c: Call) -> dict[str, Any]:
    return {
        "call_id": c.id,
        "left_at": c.ended_at or c.created_at,
        "from_number": c.from_number,
        "recording_url": c.recording_url,
        "ticket_id": c.ticket_id,
    }


def _callback_out(c: Call) -> dict[str, Any]:
    return {
        "call_id": c.id,
        "requested_at": c.created_at,
        "number": c.from_number if c.direction != "outbound" else c.to_number,
        "outcome": c.outcome,
    }


def _sms_out(t: SmsMessage) -> dict[str, Any]:
    return {
        "id": t.id,
        "direction": t.direction,
        "kind": t.kind,
        "from_number": t.from_number,
        "to_number": t.to_number,
        "body": t.body,
        "media_urls": list(t.media_urls or []),
        "status": t.status,
        "created_at": t.created_at,
        "sent_at": t.sent_at,
        "ticket_id": t.ticket_id,
    }


register(
    Holder(
        name="telephony",
        covers={
            "calls": ("from_number", "to_number", "recording_url", "wrap_up_notes"),
            "sms_messages": ("from_number", "to_number", "body", "media_urls", "error"),
            "sms_opt_outs": ("customer_number",),
        },
        erase=erase,
        export=export,
        parts=("calls", "voicemails", "callbacks", "sms", "sms_opt_outs"),
    )
)
exempt(
    "calls",
    "ivr_path",
    "the menu steps the caller took (language:fr, menu:2, voicemail): kept for IVR statistics; "
    "no caller input beyond menu choices is recorded",
)
exempt(
    "sms_opt_outs",
    "sending_number",
    "one of our own numbers, the one the customer asked to stop texting them",
)
exempt(
    "call_queues",
    "name",
    "configuration: a queue's name (also its Twilio queue name), not a person",
)
exempt("call_queues", "label_en", "configuration: a queue's label shown to agents")
exempt("call_queues", "label_fr", "configuration: a queue's label shown to agents")
exempt("ivr_versions", "note", "configuration: an administrator's note on an IVR version")
exempt(
    "agent_presence",
    "reason",
    "an agent's own break reason: staff data, not a customer's",
)
exempt(
    "agent_presence",
    "endpoint",
    "how to reach an agent (softphone identity or the agent's number): staff data",
)
exempt("sms_messages", "error_code", "the provider's numeric error code (21610 ...)")


def erase_recordings(session: DbSession, subject: Subject) -> int:
    """The customer's recordings leave every list at once and lose their address; the periodic
    purge (`telephony.recordings.purge`) deletes the audio at the source by its id."""
    from telephony.recording_models import CallRecording

    calls = select(Call.id).where(Call.customer_id.in_(subject.customer_ids))
    changed = 0
    for recording in session.scalars(
        select(CallRecording).where(
            or_(
                CallRecording.customer_id.in_(subject.customer_ids),
                CallRecording.call_id.in_(calls),
            )
        )
    ):
        if recording.status != "erased" or recording.media_url is not None:
            recording.status = "erased"
            recording.media_url = None
            changed += 1
    return changed


register(
    Holder(
        name="call_recordings",
        covers={"call_recordings": ("media_url",)},
        erase=erase_recordings,
    )
)
exempt(
    "call_recordings",
    "recording_sid",
    "the provider's id of the audio, kept only until the purge deletes the audio at the source",
)
