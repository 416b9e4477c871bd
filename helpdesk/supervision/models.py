"""The call event log, in the manner of Asterisk's queue_log: one row per step of a call and per
agent state change, written in the transaction that makes the change. Live and historical
statistics are both computed from it and from nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db

# What happens to a call once at most, and is counted: keyed on (call, event), so that no copy
# of a webhook, however it races the first, counts one twice in the reports or on the wallboard.
ONCE_PER_CALL = ("entered", "callback", "abandoned", "completed")
ONCE_PER_CALL_SQL = "event IN ({})".format(", ".join(f"'{e}'" for e in ONCE_PER_CALL))


class CallEvent(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "call_events"
    __table_args__ = (
        Index("ix_call_events_day_queue", "day", "queue", "event"),
        Index("ix_call_events_at", "at"),
        Index("ix_call_events_call", "call_id"),
        Index(
            "uq_call_events_once",
            "call_id",
            "event",
            unique=True,
            postgresql_where=text(ONCE_PER_CALL_SQL),
            sqlite_where=text(ONCE_PER_CALL_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The local day (HELPDESK_TIMEZONE) and its 15-minute interval (0-95), fixed when written so
    # that reports group by them on any database without time-zone arithmetic.
    day: Mapped[str] = mapped_column(String(10))
    slot: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    queue: Mapped[str | None] = mapped_column(String(50), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    wait_s: Mapped[float | None] = mapped_column(nullable=True)
    talk_s: Mapped[float | None] = mapped_column(nullable=True)
    # Of `talk_s`, the time the caller spent on hold (a `completed` entry only).
    hold_s: Mapped[float | None] = mapped_column(nullable=True)
    # The agent's wrap-up after the call (a `completed` entry only), set when the wrap-up ends.
    wrap_s: Mapped[float | None] = mapped_column(nullable=True)
    # from/to states of an agent, a reason, the queue a call was moved to, callback flag.
    data: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
