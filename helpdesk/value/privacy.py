"""Invoices and the customer's value: amounts, dates and the segment stay (revenue and cost to
serve by segment are what the value reports aggregate); the invoice number, the billing system's
key that leads back to the person, is replaced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from helpdesk.db import DbSession
from helpdesk.privacy.registry import Holder, Subject, exempt, register
from helpdesk.value.models import CustomerValue, Invoice

ERASED_PREFIX = "erased-"


def erase(session: DbSession, subject: Subject) -> int:
    changed = 0
    for invoice in session.scalars(
        select(Invoice).where(Invoice.customer_id.in_(subject.customer_ids))
    ):
        number = f"{ERASED_PREFIX}{invoice.id}"
        if invoice.number != number:
            invoice.number = number
            changed += 1
    return changed


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.customer_id.in_(subject.customer_ids))
        .order_by(Invoice.issued_on, Invoice.id)
    )
    value = session.get(CustomerValue, subject.customer_id)
    return {
        "invoices": [
            {
                "number": i.number,
                "amount_cents": i.amount_cents,
                "currency": i.currency,
                "issued_on": i.issued_on,
                "due_on": i.due_on,
                "paid_on": i.paid_on,
            }
            for i in invoices
        ],
        "value": (
            {
                "segment": value.segment,
                "revenue_cents": value.revenue_cents,
                "previous_revenue_cents": value.previous_revenue_cents,
                "cost_cents": value.cost_cents,
                "late_invoices": value.late_invoices,
                "contacts": value.contacts,
                "complaints": value.complaints,
                "sla_breaches": value.sla_breaches,
                "late_payer": value.late_payer,
                "signals": list(value.signals or []),
                "computed_at": value.computed_at,
            }
            if value is not None
            else None
        ),
    }


register(
    Holder(
        name="value",
        covers={"invoices": ("number",)},
        erase=erase,
        export=export,
        parts=("invoices", "value"),
    )
)
exempt(
    "customer_values",
    "customer_id",
    "the computed value holds figures only (revenue, cost, counts, segment): kept, under the "
    "anonymised record, for the reports by segment",
)
