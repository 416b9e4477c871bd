"""Call recordings, each queue's recording policy, and the supervisors on a call.

Kept apart from `telephony.models` so that the recording feature's tables read as one piece.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, utcnow
from helpdesk.extensions import db


class QueueRecording(db.Model):  # type: ignore[name-defined,misc]
    """How a queue records its calls. A queue without a row does not record (`off`)."""

    __tablename__ = "queue_recording"

    queue_id: Mapped[int] = mapped_column(
        ForeignKey("call_queues.id", ondelete="CASCADE"), primary_key=True
    )
    # off | on | announce (on, after telling the caller in their language)
    mode: Mapped[str] = mapped_column(String(10), default="off")
    # Days a recording is kept; None keeps it until it is deleted or its customer erased.
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Only the queue's own agents (and supervisors, administrators) may play its recordings.
    restricted: Mapped[bool] = mapped_column(default=False)


class CallRecording(db.Model):  # type: ignore[name-defined,misc]
    """One recording of a call or a voicemail. `media_url` is the provider's address: it is read
    by the helpdesk only, which streams the audio to staff who may hear it."""

    __tablename__ = "call_recordings"
    __table_args__ = (
        UniqueConstraint("recording_sid"),
        Index("ix_call_recordings_call", "call_id"),
        Index("ix_call_recordings_customer", "customer_id", "created_at"),
        Index("ix_call_recordings_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    recording_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(10), default="call")  # call | voicemail
    # in-progress | paused | completed | erased (waiting for the purge to delete it at the source)
    status: Mapped[str] = mapped_column(String(12), default="in-progress")
    media_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    duration_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    queue_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_queues.id", ondelete="SET NULL"), nullable=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CallMonitor(db.Model):  # type: ignore[name-defined,misc]
    """A supervisor put on a call (listen, whisper, barge). `barge_slot` is "barge" for a barge
    and NULL otherwise: the unique key lets one supervisor at a time barge into a call, whoever
    gets there first, however many processes take the requests."""

    __tablename__ = "call_monitors"
    __table_args__ = (UniqueConstraint("call_id", "barge_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    barge_slot: Mapped[str | None] = mapped_column(String(8), nullable=True)
    leg_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
