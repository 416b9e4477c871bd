"""What the e-mail channel stores: every message either way, and the files they carry.

One table holds both directions, as `sms_messages` does for texts: threading looks a reply's
`In-Reply-To` and `References` up among the Message-IDs we sent and the ones we received alike.
Outbound rows are the outbox: written in the same transaction as the reply they carry, then sent
once by a worker that claims them (`idempotency_key` is the comment's, so a retried request or a
redelivered task cannot write or send a second message).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db


class MailMessage(db.Model):  # type: ignore[name-defined,misc]
    """One e-mail, in or out."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        UniqueConstraint("message_id"),
        UniqueConstraint("idempotency_key"),
        Index("ix_mail_outbox", "direction", "status", "next_attempt_at"),
        Index("ix_mail_ticket", "ticket_id", "id"),
        Index("ix_mail_customer", "customer_id", "created_at"),
        Index("ix_mail_from_created", "from_address", "created_at"),
        Index("ix_mail_comment", "comment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The RFC 5322 Message-ID without its angle brackets: ours for outbound mail (made when the
    # row is written), the sender's for inbound mail (or one we derive from the raw bytes when a
    # message has none, so a retried delivery of the same bytes is still recognised).
    message_id: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound
    # message (a reply or a customer's mail), ack (automatic acknowledgement), bounce (a DSN),
    # auto (an out-of-office or other automatic mail taken in without acknowledgement), survey...
    kind: Mapped[str] = mapped_column(String(20), default="message")
    from_address: Mapped[str] = mapped_column(String(254))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    to_addresses: Mapped[list[str]] = mapped_column(
        MutableList.as_mutable(json_type()), default=list
    )
    cc_addresses: Mapped[list[str]] = mapped_column(
        MutableList.as_mutable(json_type()), default=list
    )
    subject: Mapped[str] = mapped_column(String(998), default="")
    in_reply_to: Mapped[str | None] = mapped_column(String(255), nullable=True)
    references: Mapped[list[str]] = mapped_column(MutableList.as_mutable(json_type()), default=list)
    # The new part of the message (quoted history taken off) and the whole of it, as text, and
    # the sanitised HTML where the message had HTML. The raw bytes of inbound mail are kept in
    # the attachment store (`raw_key`) so the original can always be shown again.
    body_text: Mapped[str] = mapped_column(Text, default="")
    full_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Campaign mail only: the one-click unsubscribe address sent as `List-Unsubscribe` (RFC 8058).
    list_unsubscribe: Mapped[str | None] = mapped_column(String(500), nullable=True)
    raw_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="SET NULL"), nullable=True
    )
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Where an inbound message came from: "imap:<mailbox>:<uidvalidity>:<uid>" or "ingress".
    source: Mapped[str] = mapped_column(String(255), default="")
    # Outbox state: queued, sending, sent, failed, bounced; inbound: received, ignored (loops,
    # junk, floods), bounced (a DSN).
    status: Mapped[str] = mapped_column(String(12), default="queued")
    error: Mapped[str] = mapped_column(String(300), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Attachment(db.Model):  # type: ignore[name-defined,misc]
    """A file that came with a message or that an agent attached to a reply.

    The bytes live in the attachment store (`storage_key`), never in the database; the type is
    the one sniffed from the bytes, the declared one kept beside it only for display.
    """

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_message", "mail_message_id"),
        Index("ix_attachments_comment", "comment_id"),
        Index("ix_attachments_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="CASCADE"), nullable=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="CASCADE"), nullable=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    declared_type: Mapped[str] = mapped_column(String(127), default="")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    # An inline part (a signature's logo) is kept but not listed with the files.
    inline: Mapped[bool] = mapped_column(default=False)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailboxState(db.Model):  # type: ignore[name-defined,misc]
    """How far the IMAP worker has read one mailbox: a UID is taken once per UIDVALIDITY."""

    __tablename__ = "mailbox_states"
    __table_args__ = (UniqueConstraint("mailbox"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BouncingAddress(db.Model):  # type: ignore[name-defined,misc]
    """An address a server sent our mail back from: shown on the customer card."""

    __tablename__ = "bouncing_addresses"
    __table_args__ = (UniqueConstraint("address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(300), default="")
    bounces: Mapped[int] = mapped_column(Integer, default=1)
    last_bounced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
