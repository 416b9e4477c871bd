"""Bulk changes of the ticket list (assign, status, group, tags, merge) and their undo.

One call changes up to `MAX_IDS` tickets, loaded and written `BATCH` at a time: each ticket goes
through `tickets.service.update`, so its history, timeline, SLA clocks, live event and webhook
are those of a change made one by one, and nothing is skipped silently: a ticket the workflow
refuses (a closed one, a transition it does not allow) is listed with the reason. The values
before and after are kept for `UNDO_MINUTES`, so an undo restores exactly those tickets, except
the ones changed again since, which it names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from helpdesk.auth.models import Group, Role, User
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import APIError, Conflict, Forbidden, NotFound, ValidationFailed
from helpdesk.tickets import service, ticket_merge
from helpdesk.tickets.bulk_rules import (
    BATCH,
    MAX_IDS,
    UNDO_MINUTES,
    BulkSet,
    changes_for,
    undo_refusal,
    undoable_diff,
)
from helpdesk.tickets.models import BulkChange, Ticket
from helpdesk.tickets.workflow import InvalidTransition, Status, can_transition

MAX_MERGE = 50  # duplicates folded into one ticket by one call: each tells its customer


@dataclass
class BulkResult:
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # already as asked
    skipped: dict[int, str] = field(default_factory=dict)  # id: why
    change_id: int | None = None  # the undo's handle; None when nothing can be undone
    undo_until: datetime | None = None


@dataclass
class UndoResult:
    restored: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def select_ids(session: DbSession, flt: service.TicketFilter) -> list[int]:
    """The ids a filter matches, refused (naming `filter`) past `MAX_IDS`."""
    where = service.filter_clauses(flt)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    if total > MAX_IDS:
        raise ValidationFailed(
            "too many tickets",
            fields={"filter": f"matches {total} tickets; at most {MAX_IDS} per call"},
        )
    return list(session.scalars(select(Ticket.id).where(*where).order_by(Ticket.id)))


def count_matching(session: DbSession, flt: service.TicketFilter, *, cap: int = MAX_IDS + 1) -> int:
    """How many tickets a filter matches, counted no further than `cap`: the list offers to
    select them all, and a large table is not counted in full for it."""
    capped = select(Ticket.id).where(*service.filter_clauses(flt)).limit(cap).subquery()
    return int(session.scalar(select(func.count()).select_from(capped)) or 0)


def _check(session: DbSession, ids: Sequence[int], wanted: BulkSet) -> None:
    if not ids:
        raise ValidationFailed("no tickets", fields={"ids": "select at least one ticket"})
    if len(ids) > MAX_IDS:
        raise ValidationFailed("too many tickets", fields={"ids": f"at most {MAX_IDS} per call"})
    if wanted.empty:
        raise ValidationFailed("nothing to change", fields={"set": "name at least one change"})
    if not _assignable(session, wanted.fields.get("assignee_id")):
        raise ValidationFailed(
            "invalid assignee", fields={"set.assignee_id": "no such active agent"}
        )
    group_id = wanted.fields.get("group_id")
    if group_id is not None and session.get(Group, group_id) is None:
        raise ValidationFailed("invalid group", fields={"set.group_id": "no such group"})


def _assignable(session: DbSession, user_id: int | None) -> bool:
    """None (unassigned) or an active agent; `session.get` reads the identity map first, so a
    batch naming one assignee asks once."""
    if user_id is None:
        return True
    user = session.get(User, user_id)
    return user is not None and user.active and user.role in service.ASSIGNABLE_ROLES


def _batches(ids: Sequence[int]) -> Iterator[list[int]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), BATCH):
        yield unique[start : start + BATCH]


def apply(session: DbSession, *, actor: User, ids: Sequence[int], wanted: BulkSet) -> BulkResult:
    """Change every ticket of `ids` as `wanted` says, in batches, in one transaction; keep what
    the undo needs. Refusals are per ticket, never for the whole call."""
    _check(session, ids, wanted)
    result = BulkResult()
    before: dict[str, dict[str, Any]] = {}
    after: dict[str, dict[str, Any]] = {}
    for batch in _batches(ids):
        tickets = {
            t.id: t
            for t in session.scalars(
                select(Ticket).where(Ticket.id.in_(batch)).options(selectinload(Ticket.tag_rows))
            )
        }
        for ticket_id in batch:
            ticket = tickets.get(ticket_id)
            if ticket is None:
                result.skipped[ticket_id] = "no such ticket"
                continue
            diff = _change_one(session, ticket, actor=actor, wanted=wanted, result=result)
            if diff:
                before[str(ticket_id)], after[str(ticket_id)] = undoable_diff(diff)
        session.flush()
    if result.changed:
        _keep_for_undo(session, actor=actor, wanted=wanted, before=before, after=after, into=result)
    session.commit()
    return result


def _snapshot(ticket: Ticket) -> dict[str, Any]:
    """The undoable fields' values as the history writes them."""
    return {
        "status": ticket.status.value,
        "assignee_id": ticket.assignee_id,
        "group_id": ticket.group_id,
        "tags": ticket.tags,
    }


def _change_one(
    session: DbSession, ticket: Ticket, *, actor: User, wanted: BulkSet, result: BulkResult
) -> dict[str, list[Any]]:
    """One ticket through the service; the workflow's refusals are checked first, so that one
    refused ticket never undoes its batch."""
    if ticket.status is Status.CLOSED:
        result.skipped[ticket.id] = "closed tickets cannot be changed"
        return {}
    status = wanted.fields.get("status")
    if status is not None and not can_transition(ticket.status, Status(status)):
        result.skipped[ticket.id] = str(InvalidTransition(ticket.status, Status(status)))
        return {}
    was = _snapshot(ticket)
    service.update(
        session,
        ticket,
        actor=actor,
        commit=False,
        note="bulk change",
        **changes_for(ticket.tags, wanted),
    )
    now = _snapshot(ticket)
    diff = {f: [was[f], now[f]] for f in was if was[f] != now[f]}
    if diff:
        result.changed.append(ticket.id)
    else:
        result.unchanged.append(ticket.id)
    return diff


def _keep_for_undo(
    session: DbSession,
    *,
    actor: User,
    wanted: BulkSet,
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
    into: BulkResult,
) -> None:
    now = utcnow()
    row = BulkChange(
        actor_user_id=actor.id,
        fields={
            **dict(wanted.fields),
            "add_tags": list(wanted.add_tags),
            "remove_tags": list(wanted.remove_tags),
        },
        before=before,
        after=after,
        created_at=now,
        expires_at=now + timedelta(minutes=UNDO_MINUTES),
    )
    session.add(row)
    session.flush()
    into.change_id, into.undo_until = row.id, row.expires_at


def latest_undoable(session: DbSession, *, actor_id: int) -> BulkChange | None:
    """The actor's newest bulk change that can still be undone (whatever browser made it)."""
    found: BulkChange | None = session.scalar(
        select(BulkChange)
        .where(
            BulkChange.actor_user_id == actor_id,
            BulkChange.undone_at.is_(None),
            BulkChange.expires_at > utcnow(),
        )
        .order_by(BulkChange.id.desc())
        .limit(1)
    )
    return found


def undo(session: DbSession, *, actor: User, change_id: int) -> UndoResult:
    """Put back the values a bulk change replaced, on the tickets nobody changed since."""
    row = session.get(BulkChange, change_id)
    if row is None:
        raise NotFound(f"no bulk change {change_id}")
    if row.actor_user_id != actor.id and actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("only the agent who made a bulk change (or a supervisor) may undo it")
    if row.undone_at is not None:
        raise Conflict("this bulk change was already undone", fields={"change_id": "undone"})
    now = utcnow()
    if now > row.expires_at:
        raise Conflict(
            f"a bulk change can be undone for {UNDO_MINUTES} minutes",
            fields={"change_id": "expired"},
        )
    result = UndoResult()
    ids = [int(i) for i in row.after]
    for batch in _batches(ids):
        tickets = {
            t.id: t
            for t in session.scalars(
                select(Ticket).where(Ticket.id.in_(batch)).options(selectinload(Ticket.tag_rows))
            )
        }
        for ticket_id in batch:
            _undo_one(session, tickets.get(ticket_id), ticket_id, row=row, actor=actor, into=result)
        session.flush()
    row.undone_at = now
    session.commit()
    return result


def _undo_one(
    session: DbSession,
    ticket: Ticket | None,
    ticket_id: int,
    *,
    row: BulkChange,
    actor: User,
    into: UndoResult,
) -> None:
    if ticket is None:
        into.skipped[ticket_id] = "no such ticket"
        return
    after = row.after[str(ticket_id)]
    current = _snapshot(ticket)
    why = undo_refusal(after, current)
    if why is not None:
        into.skipped[ticket_id] = why
        return
    restore = row.before[str(ticket_id)]
    if not _assignable(session, restore.get("assignee_id")):
        into.skipped[ticket_id] = "the previous assignee is no longer an active agent"
        return
    if restore.get("group_id") is not None and session.get(Group, restore["group_id"]) is None:
        into.skipped[ticket_id] = "the previous group no longer exists"
        return
    service.update(
        session,
        ticket,
        actor=actor,
        commit=False,
        action="undo",
        enforce_workflow=False,
        note=f"bulk change {row.id} undone",
        **restore,
    )
    into.restored.append(ticket_id)


def merge_many(session: DbSession, *, actor: User, ids: Sequence[int], into: int) -> BulkResult:
    """Fold the selected tickets into one; each merge commits on its own, as each tells its
    customer, and a refused one is listed with the reason."""
    others = [i for i in dict.fromkeys(ids) if i != into]
    if not others:
        raise ValidationFailed("nothing to merge", fields={"ids": "select tickets to merge"})
    if len(others) > MAX_MERGE:
        raise ValidationFailed("too many", fields={"ids": f"at most {MAX_MERGE} merged per call"})
    try:
        target = service.get(session, into)
    except NotFound as exc:
        raise ValidationFailed(
            "no such ticket", fields={"set.merge_into": "no such ticket"}
        ) from exc
    target_id = target.id
    result = BulkResult()
    for ticket_id in others:
        try:
            source = service.get(session, ticket_id)
            ticket_merge.merge(
                session, source=source, target=service.get(session, target_id), actor=actor
            )
        except APIError as exc:
            session.rollback()
            result.skipped[ticket_id] = exc.message
            continue
        result.changed.append(ticket_id)
    return result
