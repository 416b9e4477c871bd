"""The caller screen: everything the agent should see before saying hello.

Built with a fixed number of queries whatever the customer's history (the timeline's first page
only; the rest is fetched on demand), and bounded in size, so that a screen pop stays fast for a
customer with tens of thousands of interactions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Integer,
    bindparam,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from helpdesk.customers.models import Customer, CustomerEmail, CustomerPhone, CustomerTag
from helpdesk.db import DbSession, utcnow
from helpdesk.sla import service as sla
from helpdesk.surveys import service as surveys
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import UNRESOLVED, reference_for
from helpdesk.timeline import service as timeline
from telephony.callview import CallView, CustomerRef, call_view
from telephony.models import Call
from telephony.queue_config import queue_row

TIMELINE_ITEMS = 20
OPEN_TICKETS = 10
FLAG_TAGS = ("vip", "late-payer", "complaint", "new-caller", "new-texter")


@functools.cache
def _card_queries() -> tuple[Any, Any]:
    """The card's two statements, built once: constructing a statement with an alias and labels
    costs more CPU than PostgreSQL takes to answer it.

    The first also carries what the screen shows beside the card, the customer's value and how
    many tickets and calls they have had: a dispatch builds a screen for every offer it makes,
    one dispatch runs at a time, and each statement less is a round trip less before the offer.
    """
    from helpdesk.value.models import CustomerValue

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
            select(func.count(Ticket.id))
            .where(Ticket.requester_id == customer_id)
            .scalar_subquery()
            .label("tickets"),
            select(func.count(Call.id))
            .where(Call.customer_id == customer_id)
            .scalar_subquery()
            .label("calls"),
            *surveys.summary_columns(customer_id),
            CustomerValue.customer_id.label("valued"),
            CustomerValue.segment,
            CustomerValue.late_payer,
            CustomerValue.signals,
        )
        .outerjoin(company, company.id == Customer.company_id)
        .outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
        .where(Customer.id == customer_id)
    )
    card = _with_scores(card)
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


def _with_scores(card: Any) -> Any:
    """The card's statement with the customer models' scores beside it (same round trip)."""
    from helpdesk.analytics.models import CustomerScore

    return card.add_columns(
        CustomerScore.customer_id.label("scored"),
        CustomerScore.clv_cents,
        CustomerScore.churn_risk,
        CustomerScore.drivers,
        CustomerScore.method.label("score_method"),
    ).outerjoin(CustomerScore, CustomerScore.customer_id == Customer.id)


@dataclass(frozen=True)
class CallerRecord:
    """The customer card and what the screen shows beside it, read together."""

    card: dict[str, Any]
    history: dict[str, int]
    value: dict[str, Any] | None
    # The customer models' scores (helpdesk.analytics): CLV, churn risk and its top drivers.
    scores: dict[str, Any] | None = None
    satisfaction: surveys.Csat | None = None  # their survey answers (helpdesk.surveys)


def caller_record(session: DbSession, customer_id: int) -> CallerRecord | None:
    # Two plain queries (the customer with their company, value and history counts, then their
    # phones, emails and tags in one UNION ALL) rather than entities and their relationships: a
    # dispatch builds a card for every offer it makes, and loading ORM objects cost several
    # times the queries.
    card, contact_rows = _card_queries()
    params = {"customer_id": customer_id}
    row = session.execute(card, params).one_or_none()
    if row is None:
        return None
    contacts = session.execute(contact_rows, params).all()
    ordered = sorted(contacts, key=lambda c: (c.what, c.position, c.value))
    tags = [c.value for c in ordered if c.what == "tag"]
    value = (
        {
            "segment": row.segment,
            "late_payer": row.late_payer,
            "signals": [s for s in (row.signals or []) if s.get("decisive")],
        }
        if row.valued is not None
        else None
    )
    history = {"tickets": row.tickets or 0, "calls": row.calls or 0}
    scores = (
        {
            "clv_cents": row.clv_cents,
            "churn_risk": row.churn_risk,
            "drivers": list(row.drivers or []),
            "method": row.score_method,
        }
        if row.scored is not None
        else None
    )
    csat = surveys.csat_of(row.csat_average, row.csat_responses)
    return CallerRecord(_card(row, ordered, tags), history, value, scores, csat)


def _card(row: Any, ordered: list[Any], tags: list[str]) -> dict[str, Any]:
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


@functools.cache
def _open_tickets_query() -> Any:
    """The caller's open tickets, the columns the screen shows, built once: plain rows, not
    ticket objects, which a dispatch would build (and the session keep) at every offer."""
    return (
        select(
            Ticket.id,
            Ticket.subject,
            Ticket.status,
            Ticket.priority,
            Ticket.channel,
            Ticket.updated_at,
        )
        .where(
            Ticket.requester_id == bindparam("customer_id", type_=Integer),
            Ticket.status.in_(UNRESOLVED),
        )
        .order_by(Ticket.updated_at.desc())
        .limit(OPEN_TICKETS)
    )


def open_tickets(session: DbSession, customer_id: int, now: datetime) -> list[dict[str, Any]]:
    rows = session.execute(_open_tickets_query(), {"customer_id": customer_id}).all()
    clocks = sla.views_for(session, [t.id for t in rows], now) if rows else {}
    return [
        {
            "id": t.id,
            "reference": reference_for(t.id),
            "subject": t.subject[:200],
            "status": t.status.value,
            "priority": t.priority.value,
            "channel": t.channel.value,
            "updated_at": t.updated_at.isoformat(),
            "sla": clocks.get(t.id, []),
        }
        for t in rows
    ]


def screen(
    session: DbSession,
    call: Call,
    *,
    now: datetime | None = None,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """The `screen_pop` payload for a call (documented in docs/realtime.md): the call's view
    (`telephony.callview`) and, beside it, who the caller is: their card (a superset of the
    view's `customer`), open tickets, the first page of their timeline, counts and value."""
    return screen_and_view(session, call, now=now, expires_at=expires_at)[0]


def screen_and_view(
    session: DbSession,
    call: Call,
    *,
    now: datetime | None = None,
    expires_at: datetime | None = None,
) -> tuple[dict[str, Any], CallView]:
    """The screen and the call's view it begins with (the offer event carries the view alone).
    The view takes the customer and the queue from what the screen has read."""
    now = now or utcnow()
    queue = queue_row(session, call.queue_id)
    about = _about(session, call.customer_id, now) if call.customer_id is not None else None
    card = about["customer"] if about else None
    view = call_view(
        session,
        call,
        now=now,
        expires_at=expires_at,
        customer=CustomerRef.from_card(card) if card else None,
        queue=queue.name if queue else None,
    )
    payload: dict[str, Any] = {
        **view.to_json(),
        "customer": None,
        "open_tickets": [],
        "timeline": [],
        "timeline_next": None,
        "history": {"tickets": 0, "calls": 0},
    }
    if about is not None:
        payload.update(about)
    return payload, view


def _about(session: DbSession, customer_id: int, now: datetime) -> dict[str, Any]:
    record = caller_record(session, customer_id)
    entries, cursor = timeline.summary_page(session, customer_id=customer_id, limit=TIMELINE_ITEMS)
    about: dict[str, Any] = {
        "customer": record.card if record else None,
        "open_tickets": open_tickets(session, customer_id, now),
        "timeline": [
            {
                "id": e.id,
                "kind": e.kind,
                "occurred_at": e.occurred_at.isoformat(),
                "summary": e.summary,
                "ticket_id": e.ticket_id,
                "ticket_ref": reference_for(e.ticket_id) if e.ticket_id else None,
                # The facts behind the English summary, for the console to word in its language.
                "data": e.data or {},
            }
            for e in entries
        ],
        "timeline_next": cursor,
        "value": record.value if record else None,
        "scores": record.scores if record else None,
    }
    if record is not None:
        about["history"] = record.history
        csat = record.satisfaction or surveys.Csat(None, 0)
        about["satisfaction"] = {"average": csat.average, "responses": csat.responses}
    card, value = about["customer"], about["value"]
    if value and card:
        card["segment"] = value["segment"]
        if value["late_payer"] and "late-payer" not in card["flags"]:
            card["flags"].append("late-payer")
    return about
