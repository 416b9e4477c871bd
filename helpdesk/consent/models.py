"""Consents to marketing, numbers not to call, and refusals heard during a conversation.

A consent must be provable (art. L.223-1 Code de la consommation): who recorded it, when, from
where, with a proof note; withdrawing it keeps the row (its history is the proof that nothing was
done after the withdrawal). A do-not-call entry is keyed by number, not by customer: it comes from
an opposition list (Bloctel), from the customer's own request, or from staff, and it outlives the
customer's erasure (it is a refusal to be called).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, utcnow
from helpdesk.extensions import db

CHANNELS = ("call", "sms", "email")
PURPOSES = ("marketing",)
# How a consent was given. Staff say which on the customer page ("call" only by default when
# they are on a call with the customer); "agent" is what rows recorded before they were asked
# say, without the way.
STAFF_CONSENT_SOURCES = ("call", "paper", "email", "other")
CONSENT_SOURCES = ("agent", "portal", "import", "form", *STAFF_CONSENT_SOURCES)
DNC_SOURCES = ("bloctel", "customer", "manual")
DNC_CHANNELS = ("call", "sms")
EMAIL_OPT_OUT_SOURCES = ("link", "reply", "staff")


class ContactConsent(db.Model):  # type: ignore[name-defined,misc]
    """A customer's consent to marketing on one channel; active while `withdrawn_at` is empty."""

    __tablename__ = "contact_consents"
    __table_args__ = (Index("ix_contact_consents_customer_channel", "customer_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16), default="marketing")
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(8))
    proof: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class DoNotCall(db.Model):  # type: ignore[name-defined,misc]
    """A number not to contact on the channels named (comma-separated), from one source."""

    __tablename__ = "do_not_call"
    __table_args__ = (UniqueConstraint("number", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(8))
    channels: Mapped[str] = mapped_column(String(16), default="call")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    note: Mapped[str] = mapped_column(String(300), default="")


class ContactRefusal(db.Model):  # type: ignore[name-defined,misc]
    """A refusal heard during a conversation: no marketing contact for a quiet period after it."""

    __tablename__ = "contact_refusals"
    __table_args__ = (
        Index("ix_contact_refusals_customer", "customer_id"),
        Index("ix_contact_refusals_number", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=True
    )
    number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    channel: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The campaign it was heard in (its table belongs to the campaigns feature: no key here).
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EmailOptOut(db.Model):  # type: ignore[name-defined,misc]
    """An address that asked for no more campaign e-mails (the link in every campaign e-mail, or
    a reply with the keyword). Permanent until the person gives an e-mail consent again. Keyed
    by a keyed hash of the lower-cased address, never the address: like a do-not-call entry
    after an erasure, it is a refusal that must outlive the customer's erasure."""

    __tablename__ = "email_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(8))
    # The campaign whose e-mail carried the link (its table belongs to the campaigns feature).
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
