"""Calls, queues, agents' presence and offers (reservations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db

# Twilio call statuses in the order a call goes through them: a status callback never moves a
# call backwards (callbacks arrive late, twice, or out of order).
STATUS_RANK = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "failed": 4,
    "no-answer": 4,
    "canceled": 4,
}
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# What an IVR step (a menu choice, a recording, the wait music's keys) tells of its call: the
# caller is on the line.
IN_CALL = "in-progress"


def status_rank(status: str) -> int:
    """Where `status` stands in a call's life (-1 for a status Twilio does not send)."""
    return STATUS_RANK.get(status, -1)


def moves_forward(current: str, status: str) -> bool:
    """Whether a status callback saying `status` moves a call at `current` on. Late, repeated
    and out-of-order callbacks do not: a call never moves backwards."""
    return status_rank(status) > status_rank(current)


def takes_steps(current: str) -> bool:
    """Whether a call at `current` may still act on an IVR step. The step says the caller is in
    the call, so the same never-backwards rule applies: after a final status it would take the
    call back to `in-progress`, and a late or replayed step changes nothing."""
    return not moves_forward(IN_CALL, current)


class CallQueue(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "call_queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)  # also the Twilio queue name
    label_en: Mapped[str] = mapped_column(String(100), default="")
    label_fr: Mapped[str] = mapped_column(String(100), default="")
    skills: Mapped[dict[str, int]] = mapped_column(
        MutableDict.as_mutable(json_type()), default=dict
    )
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    strategy: Mapped[str] = mapped_column(String(20), default="longest_idle")
    # [{"after_s": 60, "level_drop": 1}, {"after_s": 120, "overflow_queue": "support"}]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(
        MutableList.as_mutable(json_type()), default=list
    )
    ring_timeout_s: Mapped[int] = mapped_column(Integer, default=20)
    wrap_up_s: Mapped[int] = mapped_column(Integer, default=30)
    callback_after_s: Mapped[int] = mapped_column(Integer, default=60)
    active: Mapped[bool] = mapped_column(default=True)
    # Opening hours: the queue's own calendar, or the default one when None; and where its
    # callers go while it is closed ({"action": "voicemail"} or {"action": "queue", "queue":
    # name}), voicemail when None. See `telephony.queue_hours`.
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_calendars.id", ondelete="SET NULL"), nullable=True
    )
    after_hours: Mapped[dict[str, str] | None] = mapped_column(json_type(), nullable=True)
    # Added to the place in line of each caller who enters the queue (`telephony.calls.enqueue`):
    # a sales line served before a general one when both wait for the same agents.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AgentPresence(db.Model):  # type: ignore[name-defined,misc]
    """An agent's routing state. Only compare-and-set updates change `state` while routing."""

    __tablename__ = "agent_presence"
    __table_args__ = (Index("ix_agent_presence_state", "state"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(12), default="offline")
    reason: Mapped[str] = mapped_column(String(100), default="")
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wrap_up_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    calls_today: Mapped[int] = mapped_column(Integer, default=0)
    calls_day: Mapped[str] = mapped_column(String(10), default="")
    current_call_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # How to reach the agent: a softphone identity (client:agent-7) or a phone number.
    endpoint: Mapped[str] = mapped_column(String(64), default="")


class Call(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("call_sid"),
        Index("ix_calls_routing", "routing_state", "queue_id", "priority", "enqueued_at"),
        Index("ix_calls_customer", "customer_id", "created_at"),
        Index("ix_calls_agent", "agent_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    from_number: Mapped[str] = mapped_column(String(32), default="")
    to_number: Mapped[str] = mapped_column(String(32), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="fr")
    ivr_path: Mapped[list[str]] = mapped_column(MutableList.as_mutable(json_type()), default=list)
    status: Mapped[str] = mapped_column(String(20), default="ringing")  # Twilio CallStatus
    # none | waiting | offered | connected | done: where the call is in our routing.
    routing_state: Mapped[str] = mapped_column(String(10), default="none")
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("call_queues.id"), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    declined_by: Mapped[list[int]] = mapped_column(
        MutableList.as_mutable(json_type()), default=list
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The CallSid of the agent's own leg when the call is bridged through a conference (Twilio):
    # a supervisor whispers to it, and its status callback tells whether the agent answered.
    agent_call_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The SID (CF...) of the conference `call-<CallSid>` once Twilio has told it: updating or
    # removing a participant addresses the conference by SID, never by name
    # (`telephony.conference_sids`).
    conference_sid: Mapped[str | None] = mapped_column(String(34), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wait_seconds: Mapped[float | None] = mapped_column(nullable=True)
    talk_seconds: Mapped[float | None] = mapped_column(nullable=True)
    # answered | abandoned | voicemail | callback | missed
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)
    callback_requested: Mapped[bool] = mapped_column(default=False)
    recording_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(50), nullable=True)
    wrap_up_notes: Mapped[str] = mapped_column(Text, default="")
    # Hold (`telephony.hold`): since when the caller is on hold (None: not on hold), and the
    # time held before, which the call log's `completed` entry carries so AHT splits talk/hold.
    held_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hold_seconds: Mapped[float] = mapped_column(default=0.0, server_default="0")
    # A transfer under way (`telephony.transfer`): its mode, target, who hands over and their
    # notes, which the receiving agent's caller screen shows. Replaced, never changed in place.
    transfer: Mapped[dict[str, Any] | None] = mapped_column(json_type(), nullable=True)
    # Third parties of the call's conference (`telephony.conference_parties`), replaced whole.
    parties: Mapped[list[dict[str, Any]] | None] = mapped_column(json_type(), nullable=True)

    # Read-only: the queue is set through `queue_id`. Loaded once per call and kept with it, so
    # the several steps of an accept or a hang-up that need the queue read it once.
    queue: Mapped[CallQueue | None] = relationship(viewonly=True, lazy="select")


class CallOffer(db.Model):  # type: ignore[name-defined,misc]
    """A reservation: one call offered to one agent, ringing until accepted, rejected or timed
    out. The claims in `telephony.offers` guarantee one pending offer per call and per agent."""

    __tablename__ = "call_offers"
    __table_args__ = (Index("ix_call_offers_pending", "state", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# Message statuses in order: a status callback never moves a message backwards.
SMS_STATUS_RANK = {
    "queued": 0,
    "retry": 0,
    "sending": 1,
    "accepted": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "received": 4,
    "opted_out": 4,
    "rejected": 4,
}


class SmsMessage(db.Model):  # type: ignore[name-defined,misc]
    """One text, either way. Outbound ones are the outbox: written in the same transaction as
    the action that sends them, then sent once by a task keyed on `idempotency_key`."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        UniqueConstraint("message_sid"),
        UniqueConstraint("idempotency_key"),
        Index("ix_sms_outbox", "direction", "status", "next_attempt_at"),
        Index("ix_sms_customer", "customer_id", "created_at"),
        Index("ix_sms_ticket", "ticket_id", "id"),
        Index("ix_sms_from_created", "from_number", "created_at"),
        Index("ix_sms_work_order", "work_order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound
    kind: Mapped[str] = mapped_column(String(20), default="message")  # message, ack, keyword...
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The visit the text is about: the technician's job sheet and updates, the customer's visit
    # texts. A technician's text names the customer and the address without being the
    # customer's own, and the erasure finds it by this link (helpdesk.privacy).
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text, default="")
    media_urls: Mapped[list[str]] = mapped_column(MutableList.as_mutable(json_type()), default=list)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    status: Mapped[str] = mapped_column(String(12), default="queued")
    error_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    error: Mapped[str] = mapped_column(String(300), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When a worker last claimed the row for sending: a row `sending` since long before any
    # send could take was left by a worker that died (`telephony.sms_recovery.recover`).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    flooded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SmsOptOut(db.Model):  # type: ignore[name-defined,misc]
    """A customer's number asked one of our sending numbers to stop texting it."""

    __tablename__ = "sms_opt_outs"
    __table_args__ = (UniqueConstraint("customer_number", "sending_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(32))
    sending_number: Mapped[str] = mapped_column(String(32))
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(20), default="keyword")
