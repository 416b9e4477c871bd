"""Invoices imported from the billing system, and each customer's computed value."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db


class Invoice(db.Model):  # type: ignore[name-defined,misc]
    """One invoice; `number` is the billing system's key, so a re-import updates in place."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("number"),
        Index("ix_invoices_customer", "customer_id", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerValue(db.Model):  # type: ignore[name-defined,misc]
    """The last computed value of a customer, with the signals that explain its segment."""

    __tablename__ = "customer_values"
    __table_args__ = (Index("ix_customer_values_segment", "segment"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    segment: Mapped[str] = mapped_column(String(12), default="standard")
    revenue_cents: Mapped[int] = mapped_column(Integer, default=0)  # last 12 months
    previous_revenue_cents: Mapped[int] = mapped_column(Integer, default=0)  # the 12 before
    cost_cents: Mapped[int] = mapped_column(Integer, default=0)  # cost to serve, 12 months
    late_invoices: Mapped[int] = mapped_column(Integer, default=0)
    contacts: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    sla_breaches: Mapped[int] = mapped_column(Integer, default=0)
    late_payer: Mapped[bool] = mapped_column(default=False)
    info_only: Mapped[bool] = mapped_column(default=False)
    # [{"code": "falling_revenue", "value": -0.42}, ...] in the order they decided the segment.
    signals: Mapped[list[dict[str, Any]]] = mapped_column(
        MutableList.as_mutable(json_type()), default=list
    )
    # The cost broken down: {"talk": 1234, "tickets": 500, "sms": 20, ...} in cents.
    cost_breakdown: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
