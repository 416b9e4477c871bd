"""Customers (people and companies) and their contacts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import UTCDateTime, utcnow
from helpdesk.extensions import db


class CustomerKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class Customer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_name_lower", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CustomerKind] = mapped_column(
        Enum(
            CustomerKind,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=CustomerKind.PERSON,
    )
    name: Mapped[str] = mapped_column(String(200))
    # Lower-cased, accent-free name: a portable, indexable key for prefix search.
    name_key: Mapped[str] = mapped_column(String(200), default="")
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True, nullable=True
    )
    language: Mapped[str] = mapped_column(String(8), default="fr")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    )
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="CustomerPhone.id",
    )
    emails: Mapped[list[CustomerEmail]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="CustomerEmail.id",
    )
    tag_rows: Mapped[list[CustomerTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CustomerTag.tag"
    )
    company: Mapped[Customer | None] = relationship(
        remote_side="Customer.id", foreign_keys=[company_id], lazy="selectin"
    )

    @property
    def tags(self) -> list[str]:
        return [t.tag for t in self.tag_rows]

    @property
    def display_name(self) -> str:
        return self.name


class CustomerTag(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_tag", "tag", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class CustomerPhone(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customer_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    e164: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str] = mapped_column(String(20), default="mobile")

    customer: Mapped[Customer] = relationship(back_populates="phones")


class CustomerEmail(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customer_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    label: Mapped[str] = mapped_column(String(20), default="work")

    customer: Mapped[Customer] = relationship(back_populates="emails")
