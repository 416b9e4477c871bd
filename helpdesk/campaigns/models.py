"""A campaign, the people on its list, the agents who joined it, and the audit of its attempts.

`campaign_attempts` holds every attempt AND every attempt the compliance rules blocked, with
the reason, the rules cited and the callee's local time: it is the per-campaign audit the law
asks a caller to be able to show, and the source of the report. `call_id`, `sms_id` and
`mail_id` name rows of telephony and the mail channel without foreign keys (the core does not
know telephony's tables).
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db

KINDS = ("marketing", "service")
LEGAL_BASES = ("consent", "contract", "none")
CHANNELS = ("call", "sms", "email")
STATUSES = ("draft", "active", "paused", "finished")
MEMBER_STATUSES = ("pending", "in_progress", "done", "excluded")


class Campaign(db.Model):  # type: ignore[name-defined,misc]
    """What is said, to whom, by which channel and when. `dispositions` is the list an agent
    picks from after a call: `[{"code", "label_en", "label_fr", "outcome"}]` where outcome is
    reached, converted, refused or retry (helpdesk.campaigns.dispositions)."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12), default="service")
    legal_basis: Mapped[str] = mapped_column(String(12), default="none")
    channel: Mapped[str] = mapped_column(String(8), default="call")
    skill: Mapped[str | None] = mapped_column(String(64), nullable=True)
    script_en: Mapped[str] = mapped_column(Text, default="")
    script_fr: Mapped[str] = mapped_column(Text, default="")
    subject_en: Mapped[str] = mapped_column(String(200), default="")
    subject_fr: Mapped[str] = mapped_column(String(200), default="")
    message_en: Mapped[str] = mapped_column(Text, default="")
    message_fr: Mapped[str] = mapped_column(Text, default="")
    dispositions: Mapped[list[dict[str, str]]] = mapped_column(
        MutableList.as_mutable(json_type()), default=list
    )
    window_start: Mapped[time | None] = mapped_column(Time, nullable=True)
    window_end: Mapped[time | None] = mapped_column(Time, nullable=True)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    retry_delay_minutes: Mapped[int] = mapped_column(Integer, default=240)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignMember(db.Model):  # type: ignore[name-defined,misc]
    """One person on a campaign's list. `number` and `email` are copied at import (a list is a
    snapshot); `customer_id` links them to the customer when one matched."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        UniqueConstraint("campaign_id", "customer_id"),
        Index("ix_campaign_members_due", "campaign_id", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    )
    number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="fr")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_disposition: Mapped[str | None] = mapped_column(String(32), nullable=True)
    excluded_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # The agent the member is offered to (a call campaign), while `in_progress`.
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignAttempt(db.Model):  # type: ignore[name-defined,misc]
    """Every attempt (allowed: placed or sent) and every blocked one, with why."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (
        Index("ix_campaign_attempts_campaign_at", "campaign_id", "at"),
        Index("ix_campaign_attempts_member", "member_id"),
        Index("ix_campaign_attempts_number", "number", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("campaign_members.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(8))
    # The number or address as attempted (the limit of attempts counts across campaigns by it).
    number: Mapped[str | None] = mapped_column(String(254), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    allowed: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str] = mapped_column(String(40), default="ok")
    rules: Mapped[list[str]] = mapped_column(MutableList.as_mutable(json_type()), default=list)
    local_time: Mapped[str | None] = mapped_column(String(40), nullable=True)
    call_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sms_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mail_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # queued (outbox) → sent | failed | opted_out; placed (a call); blocked
    delivery: Mapped[str] = mapped_column(String(12), default="")
    disposition: Mapped[str | None] = mapped_column(String(32), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class CampaignAgent(db.Model):  # type: ignore[name-defined,misc]
    """An agent who joined a call campaign: the dialer offers its members to them."""

    __tablename__ = "campaign_agents"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
