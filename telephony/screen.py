"""The caller screen: everything the agent should see before saying hello.

Built with a fixed number of queries whatever the customer's history (the timeline's first page
only; the rest is fetched on demand), and bounded in size, so that a screen pop stays fast for a
customer with tens of thousands of interactions.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import aliased, lazyload

from helpdesk.customers.models import Customer, CustomerEmail, CustomerPhone, CustomerTag
from helpdesk.db import DbSession, utcnow
from helpdesk.sla import service as sla
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import UNRESOLVED
from helpdesk.timeline import service as timeline
from telephony.models import Call, CallQueue

TIMELINE_ITEMS = 20
OPEN_TICKETS = 10
FLAG_TAGS = ("vip", "late-payer", "complaint", "new-caller", "new-texter")


@functools.cache
def _card_queries() -> tuple[Any, Any]:
    """The card's two statements, built once: constructing a statement with an alias and labels
    costs more CPU than PostgreSQL takes to answer it."""
    company = aliased(Customer)
    customer_id: BindParameter[int] = bindparam("customer_id", type_=Integer)
    card = (
        select(
            Customer.id,
            Customer.name,
            Customer.kind,
            Customer.language,
            Customer.notes,
            company.id.label("company_id"),
            company.name.label("company_name"),
        )
        .outerjoin(company, company.id == Customer.company_id)
        .where(Customer.id == customer_id)
    )
    contacts = union_all(
        select(
            literal("phone").label("what"),
            CustomerPhone.e164.label("value"),
            CustomerPhone.label.label("label"),
            CustomerPhone.id.label("position"),
        ).where(CustomerPhone.customer_id == customer_id),
        select(literal("email"), CustomerEmail.email, CustomerEmail.label, CustomerEmail.id).where(
            CustomerEmail.customer_id == customer_id
        ),
        select(literal("tag"), CustomerTag.tag, literal(""), literal(0)).where(
            CustomerTag.customer_id == customer_id
        ),
    )
    return card, contacts


def customer_card(session: DbSession, customer_id: int) -> dict[str, Any] | None:
    # Two plain queries (the customer with their company, then their phones, emails and tags in
    # one UNION ALL) rather than an entity and its four relationships: a dispatch builds a card
    # for every offer it makes, and loading ORM objects cost several times the queries.
    card, contact_rows = _card_queries()
    params = {"customer_id": customer_id}
    row = session.execute(card, params).one_or_none()
    if row is None:
        return None
    contacts = session.execute(contact_rows, params).all()
    ordered = sorted(contacts, key=lambda c: (c.what, c.position, c.value))
    tags = [c.value for c in ordered if c.what == "tag"]
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind.value,
        "language": row.language,
        "company": {"id": row.company_id, "name": row.company_name}
        if row.company_id is not None
        else None,
        "tags": tags,
        "flags": [t for t in tags if t in FLAG_TAGS],
        "phones": [{"number": c.value, "label": c.label} for c in ordered if c.what == "phone"],
        "emails": [{"email": c.value, "label": c.label} for c in ordered if c.what == "email"],
        "notes": (row.notes or "")[:500],
        # Filled by `screen` from the computed customer value (helpdesk.value), if any.
        "segment": None,
    }


def open_tickets(session: DbSession, customer_id: int, now: datetime) -> list[dict[str, Any]]:
    rows = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.requester_id == customer_id, Ticket.status.in_(UNRESOLVED))
            .order_by(Ticket.updated_at.desc())
            .limit(OPEN_TICKETS)
            .options(lazyload(Ticket.tag_rows))  # not read: the screen shows no ticket tags
        )
    )
    clocks = sla.views_for(session, [t.id for t in rows], now) if rows else {}
    return [
        {
            "id": t.id,
            "reference": t.reference,
            "subject": t.subject[:200],
            "status": t.status.value,
            "priority": t.priority.value,
            "channel": t.channel.value,
            "updated_at": t.updated_at.isoformat(),
            "sla": clocks.get(t.id, []),
        }
        for t in rows
    ]


def screen(session: DbSession, call: Call, *, now: datetime | None = None) -> dict[str, Any]:
    """The `screen_pop` payload for a call (documented in docs/realtime.md)."""
    now = now or utcnow()
    queue = session.get(CallQueue, call.queue_id) if call.queue_id else None
    payload: dict[str, Any] = {
        "call_id": call.id,
        "call_sid": call.call_sid,
        "from": call.from_number,
        "direction": call.direction,
        "queue": queue.name if queue else None,
        "language": call.language,
        "ivr_path": list(call.ivr_path or [])[-10:],
        "waited_s": round((now - call.enqueued_at).total_seconds(), 1) if call.enqueued_at else 0.0,
        "callback": call.callback_requested,
        "customer": None,
        "open_tickets": [],
        "timeline": [],
        "timeline_next": None,
        "history": {"tickets": 0, "calls": 0},
    }
    if call.customer_id is None:
        return payload
    payload["customer"] = customer_card(session, call.customer_id)
    payload["open_tickets"] = open_tickets(session, call.customer_id, now)
    entries, cursor = timeline.summary_page(
        session, customer_id=call.customer_id, limit=TIMELINE_ITEMS
    )
    payload["timeline"] = [
        {
            "id": e.id,
            "kind": e.kind,
            "occurred_at": e.occurred_at.isoformat(),
            "summary": e.summary,
            "ticket_id": e.ticket_id,
        }
        for e in entries
    ]
    payload["timeline_next"] = cursor
    tickets, calls = session.execute(_history_query(), {"customer_id": call.customer_id}).one()
    payload["history"] = {"tickets": tickets or 0, "calls": calls or 0}
    payload["value"] = _value(session, call.customer_id)
    if payload["value"] and payload["customer"]:
        card = payload["customer"]
        card["segment"] = payload["value"]["segment"]
        if payload["value"]["late_payer"] and "late-payer" not in card["flags"]:
            card["flags"].append("late-payer")
    return payload


@functools.cache
def _history_query() -> Select[Any]:
    """How many tickets and calls the customer has had, in one statement built once."""
    customer_id: BindParameter[int] = bindparam("customer_id", type_=Integer)
    return select(
        select(func.count(Ticket.id)).where(Ticket.requester_id == customer_id).scalar_subquery(),
        select(func.count(Call.id)).where(Call.customer_id == customer_id).scalar_subquery(),
    )


def _value(session: DbSession, customer_id: int) -> dict[str, Any] | None:
    """The caller's segment and the signals behind it (helpdesk.value), for the caller screen."""
    from helpdesk.value.models import CustomerValue

    v = session.get(CustomerValue, customer_id)
    if v is None:
        return None
    return {
        "segment": v.segment,
        "late_payer": v.late_payer,
        "signals": [s for s in (v.signals or []) if s.get("decisive")],
    }
