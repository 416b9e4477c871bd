"""Timeline entries: a denormalised, append-mostly log per customer.

Tickets, comments, calls, SMS and visits each live in their own tables; the timeline keeps one small
row per event pointing back at them, so a customer's whole history is one index range scan on
`(customer_id, occurred_at, id)` however many kinds of thing there are and however long it grows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import JSONType, UTCDateTime, utcnow
from helpdesk.extensions import db


class TimelineEntry(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "timeline_entries"
    __table_args__ = (
        Index("ix_timeline_customer_time", "customer_id", "occurred_at", "id"),
        Index("ix_timeline_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # ticket_created, ticket_reply, ticket_note, ticket_status; later call, sms, visit ...
    kind: Mapped[str] = mapped_column(String(30))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True
    )
    # The row the entry is about (`comment`, `call`, `sms`, `visit`) and its id.
    subject_type: Mapped[str] = mapped_column(String(20), default="")
    subject_id: Mapped[int | None] = mapped_column(nullable=True)
    summary: Mapped[str] = mapped_column(String(300), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
