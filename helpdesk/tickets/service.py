"""Every change to a ticket goes through here: it records history, the customer's timeline, and
publishes the live event once the transaction commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, inspect, literal, or_, select, tuple_
from sqlalchemy import update as sa_update
from sqlalchemy.orm import joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from helpdesk import caches, written
from helpdesk.auth.models import Group, Role, User
from helpdesk.customers.models import Customer
from helpdesk.customers.service import MERGE_HOPS, normalise_tags
from helpdesk.db import DbSession, UTCDateTime, as_loaded, in_session, rowcount, utcnow
from helpdesk.errors import APIError, Conflict, NotFound, ValidationFailed
from helpdesk.events import FEED_TICKETS, publish
from helpdesk.pagination import decode_cursor, encode_cursor
from helpdesk.tickets import comment_rows, creation, delivery
from helpdesk.tickets.clocks import CLOCKS
from helpdesk.tickets.followups import AFTER_SOLVED
from helpdesk.tickets.models import Comment, Ticket, TicketChange, TicketTag
from helpdesk.tickets.workflow import (
    UNRESOLVED,
    Channel,
    InvalidTransition,
    Priority,
    Status,
    check_transition,
    id_from_reference,
)
from helpdesk.timeline import service as timeline
from helpdesk.webhooks import emit as emit_webhook

ASSIGNABLE_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER)
_R = TypeVar("_R")


def ticket_rooms(ticket: Ticket) -> list[str]:
    """The Socket.IO rooms a ticket's change reaches; erasure publishes to the same ones."""
    rooms = [FEED_TICKETS, f"ticket:{ticket.id}", f"customer:{ticket.requester_id}"]
    if ticket.assignee_id:
        rooms.append(f"user:{ticket.assignee_id}")
    return rooms


def ticket_payload(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """The `ticket.updated` payload; one shape for every change, erasure's included."""
    return {
        "ticket_id": ticket.id,
        "reference": ticket.reference,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "assignee_id": ticket.assignee_id,
        "customer_id": ticket.requester_id,
        "channel": ticket.channel.value,
        **extra,
    }


def _check_assignee(session: DbSession, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = _party(session, User, user_id, "ticket_assignees")
    if user is None or not user.active or user.role not in ASSIGNABLE_ROLES:
        raise ValidationFailed("invalid assignee", fields={"assignee_id": "no such active agent"})
    return user


def _check_group(session: DbSession, group_id: int | None) -> Group | None:
    if group_id is None:
        return None
    group = _party(session, Group, group_id, "ticket_groups")
    if group is None:
        raise ValidationFailed("invalid group", fields={"group_id": "no such group"})
    return group


# Agents and groups change a few times a day and are checked on every new or reassigned ticket:
# their columns are kept per process, cleared when any user or group changes.
caches.watch("ticket_assignees", User, ttl_s=30.0)
caches.watch("ticket_groups", Group, ttl_s=60.0)


def _party(session: DbSession, model: type[_R], row_id: int, cache: str) -> _R | None:
    """The user or group as this transaction sees it: the session's own object when it holds
    one (its pending changes included), else a new object from the cached columns, attached as
    loaded (no read)."""
    held = session.identity_map.get(identity_key(model, row_id))
    if held is not None:
        return held
    columns = caches.cached(
        cache, row_id, lambda: _columns(session, model, row_id), session=session
    )
    return None if columns is None else in_session(session, model, columns)


def _columns(session: DbSession, model: type[Any], row_id: int) -> dict[str, Any] | None:
    """A row's columns by attribute, read from the database (not from the session, whose
    objects may hold changes that are not committed)."""
    attrs = inspect(model).column_attrs
    found = session.execute(
        select(*(a.columns[0].label(a.key) for a in attrs)).where(
            inspect(model).primary_key[0] == row_id
        )
    ).one_or_none()
    return None if found is None else dict(found._mapping)


def _stamp_status(ticket: Ticket, new: Status, now: datetime) -> None:
    if new is Status.SOLVED:
        ticket.solved_at = now
    elif new is Status.CLOSED:
        ticket.closed_at = now
    elif new in UNRESOLVED:
        ticket.solved_at = None


def create(
    session: DbSession,
    *,
    actor: User | None,
    subject: str,
    requester_id: int,
    description: str = "",
    priority: Priority = Priority.NORMAL,
    channel: Channel = Channel.WEB,
    status: Status = Status.NEW,
    assignee_id: int | None = None,
    group_id: int | None = None,
    tags: Iterable[str] = (),
    created_at: datetime | None = None,
    commit: bool = True,
) -> Ticket:
    """Open a ticket: its rows in one statement (`tickets.creation`), then the ticket as a row of
    the session, as if read back, with the requester, assignee and group it was checked against;
    whoever serialises it reads them, not the database."""
    if status not in UNRESOLVED:
        raise ValidationFailed(
            "invalid status", fields={"status": "a new ticket must be unresolved"}
        )
    assignee = _check_assignee(session, assignee_id)
    group = _check_group(session, group_id)
    new = creation.NewTicket(
        subject=subject.strip(),
        description=description,
        status=status,
        priority=priority,
        channel=channel,
        requester_id=requester_id,
        assignee_id=assignee_id,
        group_id=group_id,
        created_by_id=actor.id if actor else None,
        at=created_at or utcnow(),
        tags=tuple(normalise_tags(tags)),
    )
    if session.new or session.dirty or session.deleted:
        session.flush()  # the statement reads the requester's row: a new one must be there
    done = creation.insert_ticket(session, new)
    if done is None:  # a merged requester's tickets go to whom they were merged into
        new = replace(new, requester_id=_live_requester(session, requester_id))
        done = creation.insert_ticket(session, new)
    if done is None:  # erased or merged again between the two statements
        raise ValidationFailed(
            "invalid requester", fields={"requester_id": "customer changed meanwhile: try again"}
        )
    ticket = _as_read(session, new, done, assignee, group)
    CLOCKS.get().on_created(session, ticket)
    publish(
        session,
        "ticket.created",
        ticket_rooms(ticket),
        ticket_payload(ticket, subject=ticket.subject),
    )
    emit_webhook(session, "ticket.created", ticket_payload(ticket))
    if commit:
        session.commit()
    return ticket


def _live_requester(session: DbSession, requester_id: int) -> int:
    """Why a requester could not hold a new ticket: missing or erased (an error), or merged (the
    customer at the end of the merges holds it: a record merged into one that was merged in turn
    is followed, as `customers.service.get` follows it)."""
    requester = session.get(Customer, requester_id, options=[lazyload("*")])
    if requester is None:
        raise ValidationFailed("invalid requester", fields={"requester_id": "no such customer"})
    seen = {requester.id}
    while requester.merged_into_id is not None and len(seen) <= MERGE_HOPS:
        into = session.get(Customer, requester.merged_into_id, options=[lazyload("*")])
        if into is None or into.id in seen:
            break
        seen.add(into.id)
        requester = into
    if requester.erased_at is not None:
        raise ValidationFailed("invalid requester", fields={"requester_id": "customer was erased"})
    if requester.merged_into_id is not None:
        raise ValidationFailed(
            "invalid requester",
            fields={"requester_id": "customer was merged into a record that cannot be found"},
        )
    return requester.id


def _as_read(
    session: DbSession,
    new: creation.NewTicket,
    done: creation.Written,
    assignee: User | None,
    group: Group | None,
) -> Ticket:
    """The ticket just written as a persistent row of the session, no read needed: the values
    are those the statement stored."""
    ticket_id = done.ticket_id
    values = dict(
        id=ticket_id,
        subject=new.subject,
        description=new.description,
        status=new.status,
        priority=new.priority,
        channel=new.channel,
        requester_id=new.requester_id,
        assignee_id=new.assignee_id,
        group_id=new.group_id,
        created_by_id=new.created_by_id,
        created_at=new.at,
        updated_at=new.at,
        solved_at=None,
        closed_at=None,
        merged_into_id=None,
    )
    ticket = written.attach(session, as_loaded(Ticket, values))
    tags = [as_loaded(TicketTag, {"ticket_id": ticket_id, "tag": t}) for t in new.tags]
    set_committed_value(ticket, "tag_rows", [written.attach(session, t) for t in tags])
    requester = session.identity_map.get(identity_key(Customer, new.requester_id))
    if requester is None:
        # Only what the statement read: the rest of the customer loads if someone asks for it.
        requester = as_loaded(
            Customer,
            {
                "id": new.requester_id,
                "name": done.requester_name,
                "merged_into_id": None,
                "erased_at": None,
            },
        )
        session.add(requester)
    for name, row in (("requester", requester), ("assignee", assignee), ("group", group)):
        set_committed_value(ticket, name, row)
    return ticket


_UPDATABLE = (
    "subject",
    "description",
    "status",
    "priority",
    "channel",
    "assignee_id",
    "group_id",
    "tags",
    "requester_id",
)


def update(
    session: DbSession,
    ticket: Ticket,
    *,
    actor: User | None,
    note: str = "",
    commit: bool = True,
    action: str = "updated",
    enforce_workflow: bool = True,
    **changes: Any,
) -> Ticket:
    """Apply changes, enforcing the workflow; one history entry lists every field changed.

    Only an undo (`tickets.ticket_bulk`) passes `enforce_workflow=False`: it puts back the
    status a ticket had a moment ago, which may be one the workflow does not lead back to
    (open back to new). Closed stays final even then."""
    unknown = set(changes) - set(_UPDATABLE)
    if unknown:
        raise ValidationFailed(
            "unknown fields", fields={f: "not updatable" for f in sorted(unknown)}
        )
    now = utcnow()
    diff: dict[str, list[Any]] = {}
    if ticket.status is Status.CLOSED and changes:
        raise APIError("closed tickets cannot be changed", code="ticket_closed", status=409)
    new_status = changes.get("status")
    if new_status is not None and Status(new_status) != ticket.status:
        new_status = Status(new_status)
        try:
            if enforce_workflow or new_status is Status.CLOSED:
                check_transition(ticket.status, new_status)
        except InvalidTransition as exc:
            raise ValidationFailed(str(exc), fields={"status": str(exc)}) from exc
        diff["status"] = [ticket.status.value, new_status.value]
        ticket.status = new_status
        _stamp_status(ticket, new_status, now)
    _change_parties(session, ticket, changes, diff)
    for field, kind in (("priority", Priority), ("channel", Channel)):
        if changes.get(field) is not None and kind(changes[field]) != getattr(ticket, field):
            diff[field] = [getattr(ticket, field).value, kind(changes[field]).value]
            setattr(ticket, field, kind(changes[field]))
    for field in ("subject", "description"):
        if changes.get(field) is not None and changes[field] != getattr(ticket, field):
            # Long texts are not copied into the history: it says that they changed.
            diff[field] = (
                [getattr(ticket, field), changes[field]] if field == "subject" else ["…", "…"]
            )
            setattr(ticket, field, changes[field])
    if changes.get("tags") is not None:
        tags = normalise_tags(changes["tags"])
        if tags != ticket.tags:
            diff["tags"] = [ticket.tags, tags]
            current = {t.tag: t for t in ticket.tag_rows}
            ticket.tag_rows = [current.get(t) or TicketTag(tag=t) for t in tags]
    if not diff:
        return ticket
    ticket.updated_at = now
    session.add(
        TicketChange(
            ticket_id=ticket.id,
            actor_user_id=actor.id if actor else None,
            action=action,
            changes=diff,
            note=note[:500],
            at=now,
        )
    )
    if "status" in diff:
        timeline.append(
            session,
            customer_id=ticket.requester_id,
            kind="ticket_status",
            occurred_at=now,
            ticket_id=ticket.id,
            subject_type="ticket",
            subject_id=ticket.id,
            summary=f"{ticket.reference} {diff['status'][0]} → {diff['status'][1]}",
            data={"from": diff["status"][0], "to": diff["status"][1]},
        )
    CLOCKS.get().on_changed(session, ticket, diff, now)
    if "status" in diff and ticket.status is Status.SOLVED and AFTER_SOLVED.filled:
        AFTER_SOLVED.get()(session, ticket)
    changed = ticket_payload(ticket, changed=sorted(diff), actor_id=actor.id if actor else None)
    publish(session, "ticket.updated", ticket_rooms(ticket), changed)
    emit_webhook(session, "ticket.updated", changed)
    if commit:
        session.commit()
    return ticket


def _change_parties(
    session: DbSession, ticket: Ticket, changes: dict[str, Any], diff: dict[str, list[Any]]
) -> None:
    """A new assignee, group or requester, checked; the ticket's relationship follows its key, so
    the ticket can be answered from memory without a read after the commit."""
    if "assignee_id" in changes and changes["assignee_id"] != ticket.assignee_id:
        assignee = _check_assignee(session, changes["assignee_id"])
        diff["assignee_id"] = [ticket.assignee_id, changes["assignee_id"]]
        ticket.assignee_id = changes["assignee_id"]
        set_committed_value(ticket, "assignee", assignee)
    if "group_id" in changes and changes["group_id"] != ticket.group_id:
        group = _check_group(session, changes["group_id"])
        diff["group_id"] = [ticket.group_id, changes["group_id"]]
        ticket.group_id = changes["group_id"]
        set_committed_value(ticket, "group", group)
    if changes.get("requester_id") is not None and changes["requester_id"] != ticket.requester_id:
        requester = session.get(Customer, changes["requester_id"])
        if requester is None:
            raise ValidationFailed("invalid requester", fields={"requester_id": "no such customer"})
        diff["requester_id"] = [ticket.requester_id, changes["requester_id"]]
        ticket.requester_id = changes["requester_id"]
        set_committed_value(ticket, "requester", requester)


def add_comment(
    session: DbSession,
    ticket: Ticket,
    *,
    body: str,
    public: bool = True,
    actor: User | None = None,
    author_customer_id: int | None = None,
    channel: Channel = Channel.WEB,
    status: Status | None = None,
    commit: bool = True,
    before_delivery: Callable[[Comment], None] | None = None,
) -> Comment:
    """A public reply or an internal note, optionally moving the ticket on in the same step.

    A customer writing on a pending or solved ticket reopens it: they are waiting again.
    `before_delivery` runs once the comment has its id and before its channel carries it: what
    must travel with the reply (the files an agent attached) is tied to it there.
    """
    _check_comment(ticket, body=body, public=public, author_customer_id=author_customer_id)
    # Only an agent's public reply goes out to the customer; decided before anything is written,
    # so a refused reply (the customer opted out of the ticket's channel) leaves no trace.
    route = delivery.route_for(session, ticket) if actor is not None and public else None
    if route is not None and route.refusal is not None:
        raise Conflict(route.refusal)
    now = utcnow()
    comment = Comment(
        ticket_id=ticket.id,
        body=body,
        public=public,
        channel=channel,
        author_user_id=actor.id if actor else None,
        author_customer_id=author_customer_id,
        created_at=now,
        delivery_channel=None,
        delivery_to=None,
        delivery_status=None,
        delivery_ref=None,
    )
    _set_route(comment, route)
    _write_comment(session, ticket, comment, actor=actor)
    if before_delivery is not None:
        before_delivery(comment)
    if route is not None and route.channel is not None:
        deliver = delivery.deliverer(route.channel)
        if deliver is not None:
            comment.delivery_ref = deliver(session, ticket, comment)
    if author_customer_id is not None or actor is not None:
        CLOCKS.get().on_comment(
            session, ticket, from_customer=author_customer_id is not None, public=public, now=now
        )
    status = _status_after_comment(ticket, comment, actor=actor, wanted=status)
    _publish_comment(session, ticket, comment, actor=actor)
    if status is not None and status != ticket.status:
        update(session, ticket, actor=actor, status=status, commit=commit)
    elif commit:
        session.commit()
    return comment


def _publish_comment(
    session: DbSession, ticket: Ticket, comment: Comment, *, actor: User | None
) -> None:
    payload = ticket_payload(
        ticket,
        comment_id=comment.id,
        public=comment.public,
        actor_id=actor.id if actor else None,
        from_customer=comment.author_customer_id is not None,
    )
    publish(session, "ticket.comment", ticket_rooms(ticket), payload)


def _set_route(comment: Comment, route: delivery.Route | None) -> None:
    if route is not None:
        comment.delivery_channel = route.channel
        comment.delivery_to = route.to
        comment.delivery_status = delivery.initial_status(route)


def _status_after_comment(
    ticket: Ticket, comment: Comment, *, actor: User | None, wanted: Status | None
) -> Status | None:
    """The status the ticket moves to: the one asked for, else open again when the customer
    writes on a pending or solved ticket, or when an agent first answers a new one."""
    from_customer = comment.author_customer_id is not None
    if (from_customer and ticket.status in (Status.PENDING, Status.SOLVED)) or (
        actor is not None and comment.public and ticket.status is Status.NEW and wanted is None
    ):
        return Status.OPEN
    return wanted


def _check_comment(
    ticket: Ticket, *, body: str, public: bool, author_customer_id: int | None
) -> None:
    if not body.strip():
        raise ValidationFailed("empty comment", fields={"body": "must not be empty"})
    if ticket.status is Status.CLOSED:
        raise APIError(
            "closed tickets take no more comments; open a new ticket",
            code="ticket_closed",
            status=409,
        )
    if author_customer_id is not None and not public:
        raise ValidationFailed(
            "customers cannot write internal notes", fields={"public": "must be true"}
        )


def _write_comment(
    session: DbSession, ticket: Ticket, comment: Comment, *, actor: User | None
) -> None:
    """Store the comment with its timeline entry and history row and the ticket's new
    `updated_at`, in one statement (`tickets.comment_rows`); the comment then joins the session
    as if read back, with its id, for what follows it (files, delivery)."""
    from_customer = comment.author_customer_id is not None
    if session.new or session.dirty or session.deleted:
        session.flush()  # the rows the statement names (a new ticket, its requester) first
    comment.id = comment_rows.insert_comment(
        session,
        comment_rows.NewComment(
            ticket_id=ticket.id,
            requester_id=ticket.requester_id,
            reference=ticket.reference,
            body=comment.body,
            public=comment.public,
            channel=comment.channel,
            author_user_id=comment.author_user_id,
            author_customer_id=comment.author_customer_id,
            author_name=actor.name if actor else ("customer" if from_customer else "system"),
            at=comment.created_at,
            delivery_channel=comment.delivery_channel,
            delivery_to=comment.delivery_to,
            delivery_status=comment.delivery_status,
        ),
    )
    written.attach(session, comment)
    set_committed_value(comment, "author_user", actor)
    written.stored(session, ticket, updated_at=comment.created_at)


def reply_route(session: DbSession, ticket: Ticket) -> delivery.Route:
    """Where a public reply on this ticket would go, for the reply box to say before sending."""
    return delivery.route_for(session, ticket)


def record_delivery(session: DbSession, *, channel: str, ref: str, status: str) -> int:
    """A channel reports how a reply it carries is doing; a status never moves backwards.

    A compare-and-set on the recorded status, so callbacks that arrive out of order or twice
    change nothing. Returns how many replies changed (0 or 1). The caller commits.
    """
    earlier = delivery.earlier_than(status)
    if not earlier:
        return 0
    found = session.execute(
        select(Comment.id, Comment.ticket_id).where(
            Comment.delivery_channel == channel,
            Comment.delivery_ref == ref,
            Comment.delivery_status.in_(earlier),
        )
    ).first()
    if found is None:
        return 0
    changed = rowcount(
        session.execute(
            sa_update(Comment)
            .where(Comment.id == found.id, Comment.delivery_status.in_(earlier))
            .values(delivery_status=status)
            .execution_options(synchronize_session="fetch")
        )
    )
    if changed:
        publish(
            session,
            "ticket.delivery",
            [f"ticket:{found.ticket_id}"],
            {
                "ticket_id": found.ticket_id,
                "comment_id": found.id,
                "channel": channel,
                "status": status,
            },
        )
    return changed


def get(session: DbSession, ticket_id: int) -> Ticket:
    """The ticket with what its answer shows (requester, assignee, group, tags) in one SELECT."""
    ticket: Ticket | None = (
        session.execute(
            select(Ticket)
            .where(Ticket.id == ticket_id)
            .options(
                joinedload(Ticket.requester).lazyload("*"),
                joinedload(Ticket.assignee).lazyload("*"),
                joinedload(Ticket.group).lazyload("*"),
                joinedload(Ticket.tag_rows),
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def get_by_reference(session: DbSession, reference: str) -> Ticket:
    ticket_id = id_from_reference(reference)
    if ticket_id is None:
        raise NotFound(f"no ticket {reference!r}")
    return get(session, ticket_id)


@dataclass
class TicketFilter:
    status: list[Status] | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    priority: list[Priority] | None = None
    requester_id: int | None = None
    group_id: int | None = None
    tag: str | None = None
    channel: Channel | None = None
    q: str | None = None
    # Requested by this company or by any of its contacts (the company page).
    company_id: int | None = None
    # Only these tickets: a live list asks which of the tickets an event named match its filters.
    ids: list[int] | None = None


SORTS = ("-created", "created", "-updated")


def company_members(company_id: int) -> Select[int]:
    """The ids of a company and of its contacts, as a subquery."""
    return select(Customer.id).where(
        or_(Customer.id == company_id, Customer.company_id == company_id)
    )


def filter_clauses(flt: TicketFilter) -> list[ColumnElement[bool]]:
    """The conditions a ticket meets to match `flt`: one list for the pages and for the counts
    of saved views (one conditional sum per view, in a single query)."""
    found: list[ColumnElement[bool]] = []
    if flt.ids is not None:
        found.append(Ticket.id.in_(flt.ids))
    if flt.status:
        found.append(Ticket.status.in_(flt.status))
    if flt.unassigned:
        found.append(Ticket.assignee_id.is_(None))
    elif flt.assignee_id is not None:
        found.append(Ticket.assignee_id == flt.assignee_id)
    if flt.priority:
        found.append(Ticket.priority.in_(flt.priority))
    if flt.requester_id is not None:
        found.append(Ticket.requester_id == flt.requester_id)
    if flt.group_id is not None:
        found.append(Ticket.group_id == flt.group_id)
    if flt.company_id is not None:
        found.append(Ticket.requester_id.in_(company_members(flt.company_id)))
    if flt.channel is not None:
        found.append(Ticket.channel == flt.channel)
    if flt.tag:
        tagged = select(TicketTag.ticket_id).where(TicketTag.tag == flt.tag.strip().lower())
        found.append(Ticket.id.in_(tagged))
    if flt.q:
        ref_id = id_from_reference(flt.q)
        if ref_id is not None:
            found.append(Ticket.id == ref_id)
        else:
            pattern = (
                "%" + flt.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            found.append(Ticket.subject.ilike(pattern, escape="\\"))
    return found


def list_tickets(
    session: DbSession,
    flt: TicketFilter,
    *,
    cursor: str | None = None,
    limit: int = 25,
    sort: str = "-created",
) -> tuple[list[Ticket], str | None]:
    """A page of tickets and the cursor of the next; a constant number of queries per page."""
    stmt = select(Ticket).options(
        # lazyload, not raiseload: the customer object is shared by the whole session, and a
        # page may read its contacts after listing (the list itself never does).
        joinedload(Ticket.requester).lazyload("*"),
        joinedload(Ticket.assignee).lazyload("*"),
        joinedload(Ticket.group).lazyload("*"),
        selectinload(Ticket.tag_rows),
    )
    stmt = stmt.where(*filter_clauses(flt))
    # Ordered by the time the list shows (when the ticket was created or last updated), the id
    # breaking ties: a ticket imported with last month's date sorts with last month's, whatever
    # its id. Cursors carry the time and the id of the last row.
    column = Ticket.updated_at if sort == "-updated" else Ticket.created_at
    if cursor:
        at, last = decode_cursor(cursor, (datetime, int))
        after = tuple_(column, Ticket.id) > tuple_(literal(at, UTCDateTime), literal(last))
        before = tuple_(column, Ticket.id) < tuple_(literal(at, UTCDateTime), literal(last))
        stmt = stmt.where(after if sort == "created" else before)
    if sort == "created":
        stmt = stmt.order_by(column.asc(), Ticket.id.asc())
    else:
        stmt = stmt.order_by(column.desc(), Ticket.id.desc())
    rows = list(session.scalars(stmt.limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_row = rows[-1]
        shown = last_row.updated_at if sort == "-updated" else last_row.created_at
        next_cursor = encode_cursor(shown, last_row.id)
    return rows, next_cursor


def comments(session: DbSession, ticket: Ticket, *, include_internal: bool = True) -> list[Comment]:
    stmt = (
        select(Comment)
        .where(Comment.ticket_id == ticket.id)
        .options(joinedload(Comment.author_user))
        .order_by(Comment.id)
    )
    if not include_internal:
        stmt = stmt.where(Comment.public)
    return list(session.scalars(stmt))


def history(session: DbSession, ticket: Ticket) -> list[TicketChange]:
    return list(
        session.scalars(
            select(TicketChange)
            .where(TicketChange.ticket_id == ticket.id)
            .options(joinedload(TicketChange.actor))
            .order_by(TicketChange.id)
        )
    )


def auto_close_solved(session: DbSession, *, older_than: timedelta, batch: int = 500) -> int:
    """Close tickets solved more than `older_than` ago; the customer had their chance to reopen."""
    cutoff = utcnow() - older_than
    closed = 0
    while True:
        rows = list(
            session.scalars(
                select(Ticket)
                .where(Ticket.status == Status.SOLVED, Ticket.solved_at < cutoff)
                .order_by(Ticket.id)
                .limit(batch)
            )
        )
        if not rows:
            return closed
        for ticket in rows:
            update(session, ticket, actor=None, status=Status.CLOSED, note="closed automatically")
            closed += 1
