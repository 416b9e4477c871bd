"""Merging a duplicate ticket into the one where the request continues.

(`tickets.merge` is the other merge: a customer folded into another takes their tickets along.)

The duplicate keeps its row as a closed, read-only pointer (`merged_into_id`) so that old links
and references still lead somewhere; what was said on it moves to the target: comments, the
timeline entries, and every feature's rows that name the ticket. The tickets feature cannot name
those features (calls and texts are telephony's, e-mails the mail channel's, visits dispatch's):
each registers a follower here when the app is created, and the merge calls each one in its
transaction, so nothing is left behind on the duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select, update

from helpdesk.auth.models import User
from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.errors import Conflict, ValidationFailed
from helpdesk.events import publish
from helpdesk.tickets import delivery, merge_rules, service
from helpdesk.tickets.clocks import CLOCKS
from helpdesk.tickets.models import Comment, Ticket, TicketChange, TicketTag
from helpdesk.tickets.workflow import Status
from helpdesk.timeline import service as timeline
from helpdesk.timeline.models import TimelineEntry
from helpdesk.webhooks import emit as emit_webhook


class MoveTicketRows(Protocol):
    """Points a feature's rows from the duplicate at the target, in the merge's transaction;
    returns how many rows moved."""

    def __call__(self, session: DbSession, *, source_id: int, target_id: int) -> int: ...


_FOLLOWERS: dict[str, MoveTicketRows] = {}


def register_follower(name: str, move: MoveTicketRows) -> None:
    """A feature whose rows name a ticket (`name`: what the merge's note calls them) hands its
    move in here; the last registration under a name wins, as each process creates one app."""
    _FOLLOWERS[name] = move


def followers() -> Mapping[str, MoveTicketRows]:
    return dict(_FOLLOWERS)


@dataclass
class MergeResult:
    source_id: int
    target_id: int
    moved: dict[str, int] = field(default_factory=dict)
    # How the customer was told where the request continues: the channel and where to, or
    # None when no channel can reach them (then nothing was sent, and the duplicate says so).
    notice_channel: str | None = None
    notice_to: str | None = None
    notice_comment_id: int | None = None


def _side(session: DbSession, ticket: Ticket) -> merge_rules.Side:
    company_id = session.scalar(
        select(Customer.company_id).where(Customer.id == ticket.requester_id)
    )
    return merge_rules.Side(
        id=ticket.id,
        requester_id=ticket.requester_id,
        company_id=company_id,
        merged_into_id=ticket.merged_into_id,
        closed=ticket.status is Status.CLOSED,
    )


def check(session: DbSession, *, source: Ticket, target: Ticket) -> None:
    """Raise the refusal (409 for the tickets' state, 422 for the request), naming the field."""
    found = merge_rules.refusal(_side(session, source), _side(session, target))
    if found is None:
        return
    error = Conflict if found.status == 409 else ValidationFailed
    raise error(found.reason, fields={found.field: found.reason})


def merge(session: DbSession, *, source: Ticket, target: Ticket, actor: User) -> MergeResult:
    """Fold `source` into `target`, tell the customer where their request continues, close the
    duplicate as a pointer, and publish both changes once the transaction commits."""
    check(session, source=source, target=target)
    result = MergeResult(source_id=source.id, target_id=target.id)
    result.moved = _move_rows(session, source=source, target=target)
    _merge_tags(source, target)
    _tell_customer(session, source=source, target=target, actor=actor, result=result)
    moved_text = ", ".join(f"{name}: {n}" for name, n in result.moved.items() if n) or "nothing"
    service.add_comment(
        session,
        source,
        body=f"Merged into {target.reference} by {actor.name}. Moved there: {moved_text}.",
        public=False,
        actor=actor,
        status=source.status,
        commit=False,
    )
    service.add_comment(
        session,
        target,
        body=(
            f"{source.reference} ({source.subject}) was merged into this ticket by "
            f"{actor.name}. Moved here: {moved_text}."
        ),
        public=False,
        actor=actor,
        status=target.status,
        commit=False,
    )
    _close_as_pointer(session, source=source, target=target, actor=actor)
    session.commit()
    return result


def _move_rows(session: DbSession, *, source: Ticket, target: Ticket) -> dict[str, int]:
    moved = {
        "comments": rowcount(
            session.execute(
                update(Comment)
                .where(Comment.ticket_id == source.id)
                .values(ticket_id=target.id)
                .execution_options(synchronize_session=False)
            )
        ),
        "timeline entries": rowcount(
            session.execute(
                update(TimelineEntry)
                .where(TimelineEntry.ticket_id == source.id)
                .values(ticket_id=target.id)
                .execution_options(synchronize_session=False)
            )
        ),
    }
    for name, move in _FOLLOWERS.items():
        moved[name] = move(session, source_id=source.id, target_id=target.id)
    return moved


def _merge_tags(source: Ticket, target: Ticket) -> None:
    have = set(target.tags)
    target.tag_rows.extend(TicketTag(tag=t) for t in source.tags if t not in have)


def _tell_customer(
    session: DbSession, *, source: Ticket, target: Ticket, actor: User, result: MergeResult
) -> None:
    """A public reply on the duplicate, carried by the channel its replies take; where none can
    reach the customer (no contact, or they opted out), an internal note says they were not
    told, and nothing claims otherwise."""
    route = delivery.route_for(session, source)
    if not route.deliverable:
        why = route.refusal or "no channel can reach the customer"
        service.add_comment(
            session,
            source,
            body=f"The customer was not told of the merge into {target.reference}: {why}.",
            public=False,
            actor=actor,
            status=source.status,
            commit=False,
        )
        return
    language = session.scalar(select(Customer.language).where(Customer.id == source.requester_id))
    comment = service.add_comment(
        session,
        source,
        body=merge_rules.notice(language or "fr", source=source.reference, target=target.reference),
        public=True,
        actor=actor,
        status=source.status,
        commit=False,
    )
    result.notice_channel = comment.delivery_channel
    result.notice_to = comment.delivery_to
    result.notice_comment_id = comment.id


def _close_as_pointer(session: DbSession, *, source: Ticket, target: Ticket, actor: User) -> None:
    now = utcnow()
    diff: dict[str, list[Any]] = {
        "status": [source.status.value, Status.CLOSED.value],
        "merged_into_id": [None, target.id],
    }
    source.status = Status.CLOSED
    source.closed_at = now
    source.merged_into_id = target.id
    source.updated_at = now
    target.updated_at = now
    session.add_all(
        [
            TicketChange(
                ticket_id=source.id, actor_user_id=actor.id, action="merged", changes=diff, at=now
            ),
            TicketChange(
                ticket_id=target.id,
                actor_user_id=actor.id,
                action="merged_in",
                changes={"merged_from_id": [None, source.id]},
                at=now,
            ),
        ]
    )
    timeline.append(
        session,
        customer_id=target.requester_id,
        kind="ticket_merged",
        occurred_at=now,
        ticket_id=target.id,
        subject_type="ticket",
        subject_id=source.id,
        summary=f"{source.reference} merged into {target.reference}",
        data={"source_id": source.id, "target_id": target.id, "actor_id": actor.id},
    )
    CLOCKS.get().on_changed(session, source, {"status": diff["status"]}, now)
    for ticket, extra in (
        (source, {"changed": ["merged_into_id", "status"], "merged_into_id": target.id}),
        (target, {"changed": ["merged_from"], "merged_from_id": source.id}),
    ):
        payload = service.ticket_payload(ticket, actor_id=actor.id, **extra)
        publish(session, "ticket.updated", service.ticket_rooms(ticket), payload)
        emit_webhook(session, "ticket.updated", payload)
