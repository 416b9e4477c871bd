"""One survey sent to a customer, and its answer once they give it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, utcnow
from helpdesk.extensions import db


class Survey(db.Model):  # type: ignore[name-defined,misc]
    """What was asked (after which ticket or call, whose work, by which channel) and the answer.

    `agent_id` and `queue` are kept as they were when the survey was sent, so a reassignment
    later does not move a score from one agent's report to another's. `call_id` names a call of
    telephony's without a foreign key: the core does not know its table. The e-mail link's token
    is stored only as its SHA-256 (`token_hash`): the database alone cannot answer a survey."""

    __tablename__ = "surveys"
    __table_args__ = (
        Index("ix_surveys_customer_sent", "customer_id", "sent_at"),
        Index("ix_surveys_sent_to", "sent_to", "sent_at"),
        Index("ix_surveys_agent_answered", "agent_id", "answered_at"),
        Index("ix_surveys_answered", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True, index=True
    )
    call_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    queue: Mapped[str | None] = mapped_column(String(50), nullable=True)
    trigger: Mapped[str] = mapped_column(String(10))  # ticket | call
    channel: Mapped[str] = mapped_column(String(10))  # email | sms
    language: Mapped[str] = mapped_column(String(8), default="en")
    sent_to: Mapped[str] = mapped_column(String(254))  # the address or number it went to
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    outbox_ref: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(10), nullable=True)  # link | sms
