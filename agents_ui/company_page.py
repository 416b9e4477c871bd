"""What the customer page adds for a company: its contacts (a page at a time), the latest calls
of the company and its contacts, and what its contacts are worth together beside the company's
own value. The tickets of the company and its contacts are listed by the customer page itself
(`TicketFilter(company_id=...)`)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import func, select

from agents_ui.value_labels import money
from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer
from helpdesk.db import DbSession
from helpdesk.tickets.service import company_members
from helpdesk.value.models import CustomerValue
from telephony.models import Call

CONTACTS_PAGE = 25
CALLS_ON_PAGE = 10


def contacts_page(
    session: DbSession, company: Customer, *, after_id: int | None
) -> tuple[list[Customer], str | None]:
    """A page of contacts, by id, and the link to the next page (None on the last)."""
    rows = customers.search(
        session, company_id=company.id, limit=CONTACTS_PAGE + 1, after_id=after_id
    )
    if len(rows) <= CONTACTS_PAGE:
        return rows, None
    rows = rows[:CONTACTS_PAGE]
    more = url_for("console.customer", customer_id=company.id, contacts_after=rows[-1].id)
    return rows, more + "#contacts"


def latest_calls(session: DbSession, company: Customer) -> list[tuple[Call, str]]:
    """The latest calls of the company and its contacts, each with the caller's name."""
    stmt = (
        select(Call, Customer.name)
        .join(Customer, Customer.id == Call.customer_id)
        .where(Call.customer_id.in_(company_members(company.id)))
        .order_by(Call.created_at.desc(), Call.id.desc())
        .limit(CALLS_ON_PAGE)
    )
    return [(call, name) for call, name in session.execute(stmt).all()]


def contacts_value(session: DbSession, company: Customer) -> dict[str, Any] | None:
    """The contacts' revenue and cost to serve over 12 months, summed (None when none of them
    has a computed value yet)."""
    row = session.execute(
        select(
            func.count(CustomerValue.customer_id),
            func.coalesce(func.sum(CustomerValue.revenue_cents), 0),
            func.coalesce(func.sum(CustomerValue.cost_cents), 0),
        ).where(
            CustomerValue.customer_id.in_(
                select(Customer.id).where(Customer.company_id == company.id)
            )
        )
    ).one()
    counted, revenue, cost = row
    if not counted:
        return None
    return {"counted": counted, "revenue": money(revenue), "cost": money(cost)}


def company_sections(
    session: DbSession, company: Customer, *, contacts_after: int | None
) -> dict[str, Any]:
    contacts, more_contacts = contacts_page(session, company, after_id=contacts_after)
    return {
        "contacts": contacts,
        "more_contacts": more_contacts,
        "contacts_from_start": contacts_after is not None,
        "calls": latest_calls(session, company),
        "contacts_value": contacts_value(session, company),
    }
