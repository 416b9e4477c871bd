"""`/api/v1/tickets/bulk`: one change to many tickets (by ids or by filter), and its undo."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.tickets import service, ticket_bulk
from helpdesk.tickets.api import bp
from helpdesk.tickets.bulk_rules import MAX_IDS, UNDO_MINUTES, BulkSet
from helpdesk.tickets.workflow import Channel, Priority, Status

__all__ = ["bp"]  # the tickets API's blueprint, with the bulk operations declared on it


class BulkFilter(BaseModel):
    """The list's filters (as `GET /tickets` takes them)."""

    model_config = ConfigDict(extra="forbid")
    status: list[Status] | None = None
    priority: list[Priority] | None = None
    assignee_id: int | None = None
    assignee: Literal["me", "none"] | None = None
    requester_id: int | None = None
    group_id: int | None = None
    channel: Channel | None = None
    tag: str | None = Field(default=None, max_length=64)
    q: str | None = Field(default=None, max_length=200)


class BulkSetIn(BaseModel):
    """The change. `assignee_id` or `group_id` null clears them; absent leaves them."""

    model_config = ConfigDict(extra="forbid")
    assignee_id: int | None = None
    status: Status | None = None
    group_id: int | None = None
    add_tags: list[str] = Field(default_factory=list, max_length=50)
    remove_tags: list[str] = Field(default_factory=list, max_length=50)
    merge_into: int | None = Field(
        default=None,
        description="Merge every selected ticket into this one (alone: no other field with it).",
    )


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[int] | None = Field(default=None, max_length=MAX_IDS)
    filter: BulkFilter | None = None
    set: BulkSetIn


class Skipped(BaseModel):
    id: int
    reason: str


class BulkOut(BaseModel):
    changed: list[int]
    unchanged: list[int] = Field(description="Already as asked: nothing written.")
    skipped: list[Skipped] = Field(description="Refused tickets, each with the reason.")
    change_id: int | None = Field(
        description=(
            f"Undo with POST /tickets/bulk/{{change_id}}/undo within {UNDO_MINUTES} minutes; "
            "null when nothing can be undone (nothing changed, or a merge)."
        )
    )
    undo_until: datetime | None


class UndoOut(BaseModel):
    restored: list[int]
    skipped: list[Skipped] = Field(description="Tickets changed again since (or closed): kept.")


def _wanted(body: BulkSetIn) -> BulkSet:
    given = body.model_fields_set & {"assignee_id", "status", "group_id"}
    fields = {name: getattr(body, name) for name in given}
    if "status" in fields:
        if fields["status"] is None:
            raise ValidationFailed("invalid status", fields={"set.status": "must not be null"})
        fields["status"] = fields["status"].value
    return BulkSet(
        fields=fields, add_tags=tuple(body.add_tags), remove_tags=tuple(body.remove_tags)
    )


def _selected(body: BulkIn) -> list[int]:
    if (body.ids is None) == (body.filter is None):
        raise ValidationFailed("no selection", fields={"ids": "give either ids or filter"})
    if body.ids is not None:
        return body.ids
    f = body.filter
    assert f is not None
    flt = service.TicketFilter(
        status=f.status,
        priority=f.priority,
        requester_id=f.requester_id,
        group_id=f.group_id,
        tag=f.tag,
        channel=f.channel,
        q=f.q,
        assignee_id=current_api_user().id if f.assignee == "me" else f.assignee_id,
        unassigned=f.assignee == "none",
    )
    return ticket_bulk.select_ids(db.session, flt)


def _out(result: ticket_bulk.BulkResult) -> BulkOut:
    return BulkOut(
        changed=result.changed,
        unchanged=result.unchanged,
        skipped=[Skipped(id=i, reason=r) for i, r in result.skipped.items()],
        change_id=result.change_id,
        undo_until=result.undo_until,
    )


@operation(
    bp,
    "/tickets/bulk",
    "POST",
    summary=f"Change many tickets at once (at most {MAX_IDS}), by ids or by filter",
    body=BulkIn,
    response=BulkOut,
    tag="tickets",
)
def bulk_tickets(body: BulkIn) -> BulkOut:
    ids = _selected(body)
    actor = current_api_user()
    if body.set.merge_into is not None:
        if body.set.model_fields_set - {"merge_into"}:
            raise ValidationFailed(
                "a merge goes alone", fields={"set.merge_into": "no other change with a merge"}
            )
        done = ticket_bulk.merge_many(db.session, actor=actor, ids=ids, into=body.set.merge_into)
        return _out(done)
    return _out(ticket_bulk.apply(db.session, actor=actor, ids=ids, wanted=_wanted(body.set)))


@operation(
    bp,
    "/tickets/bulk/<int:change_id>/undo",
    "POST",
    summary=f"Undo a bulk change (within {UNDO_MINUTES} minutes; tickets changed since are kept)",
    response=UndoOut,
    tag="tickets",
    errors={409: "already undone, or too late", 403: "another agent's change"},
)
def undo_bulk(change_id: int) -> UndoOut:
    done = ticket_bulk.undo(db.session, actor=current_api_user(), change_id=change_id)
    return UndoOut(
        restored=done.restored,
        skipped=[Skipped(id=i, reason=r) for i, r in done.skipped.items()],
    )
