"""Tickets' personal data: what the customer wrote and what was written to or about them.

A requester's tickets keep their status, priority, channel, tags, group, assignee and every
timestamp (the workload and service-level figures); their subject, description, every comment
(replies and internal notes alike: both are about the person), where replies were delivered, and
the text of the history go. Comments the customer wrote on other tickets go too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select, update

from helpdesk.db import DbSession, rowcount
from helpdesk.events import publish
from helpdesk.privacy.registry import ERASED, Holder, Subject, exempt, register
from helpdesk.tickets.models import Comment, Ticket, TicketChange

# History entries keep these changes (the figures' inputs); any other changed field's values go.
KEPT_CHANGES = frozenset(
    {"status", "priority", "channel", "assignee_id", "group_id", "requester_id", "comment_id"}
)


def ticket_ids(session: DbSession, subject: Subject) -> list[int]:
    return list(
        session.scalars(select(Ticket.id).where(Ticket.requester_id.in_(subject.customer_ids)))
    )


def erase(session: DbSession, subject: Subject) -> int:
    from helpdesk.tickets.service import ticket_payload, ticket_rooms

    ids = ticket_ids(session, subject)
    changed = 0
    tickets = list(
        session.scalars(
            select(Ticket).where(
                Ticket.id.in_(ids), or_(Ticket.subject != ERASED, Ticket.description != "")
            )
        )
    )
    for ticket in tickets:
        ticket.subject, ticket.description = ERASED, ""
        # Open ticket lists and pages replace the row with what is left.
        publish(
            session,
            "ticket.updated",
            ticket_rooms(ticket),
            ticket_payload(
                ticket, subject=ERASED, changed=["subject", "description"], actor_id=None
            ),
        )
    changed += len(tickets)
    changed += rowcount(
        session.execute(
            update(Comment)
            .where(
                or_(
                    Comment.ticket_id.in_(ids),
                    Comment.author_customer_id.in_(subject.customer_ids),
                ),
                or_(Comment.body != ERASED, Comment.delivery_to.is_not(None)),
            )
            .values(body=ERASED, delivery_to=None)
        )
    )
    for change in session.scalars(select(TicketChange).where(TicketChange.ticket_id.in_(ids))):
        kept = {k: v for k, v in (change.changes or {}).items() if k in KEPT_CHANGES}
        scrubbed = {**kept, **{k: [ERASED, ERASED] for k in change.changes or {} if k not in kept}}
        if scrubbed != change.changes or change.note:
            change.changes, change.note = scrubbed, ""
            changed += 1
    return changed


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    tickets = list(
        session.scalars(
            select(Ticket).where(Ticket.requester_id.in_(subject.customer_ids)).order_by(Ticket.id)
        )
    )
    comments = list(
        session.scalars(
            select(Comment)
            .where(
                or_(
                    Comment.ticket_id.in_([t.id for t in tickets]),
                    Comment.author_customer_id.in_(subject.customer_ids),
                )
            )
            .order_by(Comment.id)
        )
    )
    by_ticket: dict[int, list[Comment]] = {}
    for c in comments:
        by_ticket.setdefault(c.ticket_id, []).append(c)
    return {
        "tickets": [
            {
                "id": t.id,
                "reference": t.reference,
                "subject": t.subject,
                "description": t.description,
                "status": t.status.value,
                "priority": t.priority.value,
                "channel": t.channel.value,
                "tags": t.tags,
                "created_at": t.created_at,
                "solved_at": t.solved_at,
                "closed_at": t.closed_at,
                "comments": [
                    {
                        "id": c.id,
                        "body": c.body,
                        "public": c.public,
                        "from_customer": c.author_customer_id is not None,
                        "channel": c.channel.value,
                        "created_at": c.created_at,
                        "delivered_to": c.delivery_to,
                    }
                    for c in by_ticket.get(t.id, [])
                ],
            }
            for t in tickets
        ]
    }


register(
    Holder(
        name="tickets",
        covers={
            "tickets": ("subject", "description"),
            "ticket_comments": ("body", "delivery_to"),
            "ticket_changes": ("changes", "note"),
        },
        erase=erase,
        export=export,
        parts=("tickets",),
    )
)
exempt(
    "ticket_comments",
    "delivery_ref",
    "the channel's own reference for a reply's delivery (an SMS row id, a Message-ID we made)",
)
