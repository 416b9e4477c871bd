"""Tickets, their tags, comments and change history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.auth.models import Group, User
from helpdesk.customers.models import Customer
from helpdesk.db import JSONType, UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.tickets.workflow import Channel, Priority, Status, reference_for


def _enum(cls: type[Any], length: int = 12) -> Enum:
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Ticket(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "tickets"
    # Each list filter the console and API offer has an index ending in id, so the first page of
    # any filter is a short index range scan in id order (the default, newest-first sort).
    __table_args__ = (
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_assignee_status_id", "assignee_id", "status", "id"),
        Index("ix_tickets_requester_id_id", "requester_id", "id"),
        # The customer portal's list: a customer's tickets, last changed first.
        Index("ix_tickets_requester_updated_id", "requester_id", "updated_at", "id"),
        Index("ix_tickets_group_status_id", "group_id", "status", "id"),
        Index("ix_tickets_priority_status_id", "priority", "status", "id"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        Index("ix_tickets_created_at_id", "created_at", "id"),
        Index("ix_tickets_solved_at", "solved_at"),
        Index("ix_tickets_merged_into_id", "merged_into_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.NEW)
    priority: Mapped[Priority] = mapped_column(_enum(Priority), default=Priority.NORMAL)
    channel: Mapped[Channel] = mapped_column(_enum(Channel), default=Channel.WEB)
    requester_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A duplicate merged into another ticket (`tickets.ticket_merge`): closed, read-only, and a
    # pointer to where the request continues.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )

    requester: Mapped[Customer] = relationship(lazy="raise")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="raise")
    group: Mapped[Group | None] = relationship(lazy="raise")
    tag_rows: Mapped[list[TicketTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TicketTag.tag"
    )

    @property
    def reference(self) -> str:
        return reference_for(self.id)

    @property
    def tags(self) -> list[str]:
        return [t.tag for t in self.tag_rows]


class TicketTag(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag_ticket", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class Comment(db.Model):  # type: ignore[name-defined,misc]
    """A public reply (seen by the customer) or an internal note (agents only)."""

    __tablename__ = "ticket_comments"
    __table_args__ = (
        Index("ix_ticket_comments_ticket_id_id", "ticket_id", "id"),
        Index("ix_ticket_comments_delivery_ref", "delivery_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    author_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(default=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel), default=Channel.WEB)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How an agent's public reply reaches the customer (`tickets.delivery`): the channel that
    # carries it (None: no channel could), where to, the state of its delivery, and the
    # reference the channel reports that state under (an SMS row's id, an e-mail's Message-ID).
    # All None on internal notes and on what the customer wrote.
    delivery_channel: Mapped[str | None] = mapped_column(String(10), nullable=True)
    delivery_to: Mapped[str | None] = mapped_column(String(254), nullable=True)
    delivery_status: Mapped[str | None] = mapped_column(String(14), nullable=True)
    delivery_ref: Mapped[str | None] = mapped_column(String(250), nullable=True)

    author_user: Mapped[User | None] = relationship(lazy="raise")


class TicketChange(db.Model):  # type: ignore[name-defined,misc]
    """One entry of a ticket's history: who changed what, when, from which value to which."""

    __tablename__ = "ticket_changes"
    __table_args__ = (Index("ix_ticket_changes_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(30))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="raise")


class BulkChange(db.Model):  # type: ignore[name-defined,misc]
    """One bulk change of the ticket list, kept so that it can be undone for a while.

    `before` and `after` map each changed ticket's id (as a string: JSON keys) to the values of
    the changed fields before and after, so an undo restores exactly those tickets, and skips
    the ones changed again since.
    """

    __tablename__ = "ticket_bulk_changes"
    __table_args__ = (Index("ix_ticket_bulk_changes_actor_id", "actor_user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    before: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
