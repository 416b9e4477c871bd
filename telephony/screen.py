"""The caller screen: everything the agent should see before saying hello.

Built with a fixed number of queries whatever the customer's history (the timeline's first page
only; the rest is fetched on demand), and bounded in size, so that a screen pop stays fast for a
customer with tens of thousands of interactions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, utcnow
from helpdesk.sla import service as sla
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import UNRESOLVED
from helpdesk.timeline import service as timeline
from telephony.models import Call, CallQueue

TIMELINE_ITEMS = 20
OPEN_TICKETS = 10
FLAG_TAGS = ("vip", "late-payer", "complaint", "new-caller", "new-texter")


def customer_card(session: DbSession, customer_id: int) -> dict[str, Any] | None:
    customer = session.scalar(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(
            selectinload(Customer.phones),
            selectinload(Customer.emails),
            selectinload(Customer.tag_rows),
            selectinload(Customer.company),
        )
    )
    if customer is None:
        return None
    tags = customer.tags
    return {
        "id": customer.id,
        "name": customer.name,
        "kind": customer.kind.value,
        "language": customer.language,
        "company": {"id": customer.company.id, "name": customer.company.name}
        if customer.company
        else None,
        "tags": tags,
        "flags": [t for t in tags if t in FLAG_TAGS],
        "phones": [{"number": p.e164, "label": p.label} for p in customer.phones],
        "emails": [{"email": e.email, "label": e.label} for e in customer.emails],
        "notes": customer.notes[:500],
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
    entries, cursor = timeline.page(session, customer_id=call.customer_id, limit=TIMELINE_ITEMS)
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
    payload["history"] = {
        "tickets": session.scalar(
            select(func.count(Ticket.id)).where(Ticket.requester_id == call.customer_id)
        )
        or 0,
        "calls": session.scalar(
            select(func.count(Call.id)).where(Call.customer_id == call.customer_id)
        )
        or 0,
    }
    payload["value"] = _value(session, call.customer_id)
    if payload["value"] and payload["customer"]:
        card = payload["customer"]
        card["segment"] = payload["value"]["segment"]
        if payload["value"]["late_payer"] and "late-payer" not in card["flags"]:
            card["flags"].append("late-payer")
    return payload


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
