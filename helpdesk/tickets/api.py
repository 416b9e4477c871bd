"""`/api/v1/tickets`: CRUD, comments, history, filtered lists with cursor pagination."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.auth.models import User
from helpdesk.db import kept_after_commit
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.tickets import delivery, reply_actions, service, ticket_merge
from helpdesk.tickets import files as comment_files
from helpdesk.tickets.models import Comment, Ticket, TicketChange
from helpdesk.tickets.workflow import Channel, Priority, Status

bp = Blueprint("tickets_api", __name__, url_prefix="/api/v1")


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Annotated[str, Written] = Field(min_length=1, max_length=250)
    description: str = Field(default="", max_length=100_000)
    requester_id: int
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.WEB
    status: Status = Status.NEW
    assignee_id: int | None = None
    group_id: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)


class TicketUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=250)
    description: str | None = Field(default=None, max_length=100_000)
    requester_id: int | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    status: Status | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    tags: list[str] | None = Field(default=None, max_length=50)


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[str, Written] = Field(min_length=1, max_length=100_000)
    public: bool = True
    status: Status | None = None
    attachment_ids: list[int] = Field(
        default_factory=list,
        max_length=20,
        description="Files uploaded with POST /tickets/{id}/attachments, sent with the reply.",
    )
    macro_id: int | None = Field(
        default=None,
        description="The macro the reply was written with: its status, tags and group are "
        "applied with the reply (see POST /tickets/{id}/macros/{macro_id}/apply). A `status` "
        "given here wins over the macro's.",
    )


class Ref(BaseModel):
    id: int
    name: str


class TicketOut(BaseModel):
    id: int
    reference: str
    subject: str
    description: str
    status: Status
    priority: Priority
    channel: Channel
    requester: Ref
    assignee: Ref | None
    group: Ref | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None
    merged_into_id: int | None = Field(
        default=None,
        description="Set on a duplicate merged into another ticket: closed, read-only, a pointer.",
    )


class TicketList(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    """How a public reply reaches the customer (see `helpdesk.tickets.delivery`).

    `channel` lists the channels that can deliver: a channel registered there is added here.
    """

    channel: Literal["sms", "email"] | None = Field(
        description="The channel carrying the reply; null when no channel can reach the customer."
    )
    status: Literal["queued", "sent", "delivered", "failed", "bounced", "undeliverable"] = Field(
        description=(
            "`queued`: waiting to leave; `sent`: handed to the provider (Twilio, the SMTP "
            "server); `delivered`: the provider confirmed it arrived; `failed`: the provider "
            "gave up or the number refused it; `bounced`: the e-mail came back; "
            "`undeliverable`: no channel can reach the customer, the reply was saved but not sent."
        )
    )
    to: str | None = Field(description="Where it goes: an E.164 number or an e-mail address.")
    simulated: bool = Field(
        default=False,
        description=(
            "True when the channel ends in this installation's simulator (no SMTP server or no "
            "Twilio account configured): `sent` then means handed to the simulator, and nothing "
            "left the machine."
        ),
    )


class CommentOut(BaseModel):
    id: int
    body: str
    public: bool
    channel: Channel
    author: Ref | None
    from_customer: bool
    created_at: datetime
    delivery: DeliveryOut | None = Field(
        description=(
            "An agent's public reply: how it reaches the customer. Null on internal notes, on "
            "what the customer wrote, and on replies written before delivery was recorded."
        )
    )
    attachments: list[AttachmentOut] = Field(default_factory=list)


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str = Field(description="Sniffed from the bytes, not the declared type.")
    size: int
    sha256: str
    ticket_id: int | None
    comment_id: int | None


class CommentList(BaseModel):
    items: list[CommentOut]


class ChangeOut(BaseModel):
    id: int
    action: str
    actor: Ref | None
    changes: dict[str, Any]
    note: str
    at: datetime


class HistoryOut(BaseModel):
    items: list[ChangeOut]


class TicketQuery(BaseModel):
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
    sort: Literal["-created", "created", "-updated"] = "-created"
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


def ticket_out(t: Ticket) -> TicketOut:
    return TicketOut(
        id=t.id,
        reference=t.reference,
        subject=t.subject,
        description=t.description,
        status=t.status,
        priority=t.priority,
        channel=t.channel,
        requester=Ref(id=t.requester.id, name=t.requester.name),
        assignee=Ref(id=t.assignee.id, name=t.assignee.name) if t.assignee else None,
        group=Ref(id=t.group.id, name=t.group.name) if t.group else None,
        tags=t.tags,
        created_at=t.created_at,
        updated_at=t.updated_at,
        solved_at=t.solved_at,
        closed_at=t.closed_at,
        merged_into_id=t.merged_into_id,
    )


def attachment_out(a: comment_files.FileRow) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        sha256=a.sha256,
        ticket_id=a.ticket_id,
        comment_id=a.comment_id,
    )


def comment_out(c: Comment, files: Sequence[comment_files.FileRow] = ()) -> CommentOut:
    return CommentOut(
        attachments=[attachment_out(a) for a in files],
        id=c.id,
        body=c.body,
        public=c.public,
        channel=c.channel,
        created_at=c.created_at,
        author=Ref(id=c.author_user.id, name=c.author_user.name) if c.author_user else None,
        from_customer=c.author_customer_id is not None,
        delivery=delivery_out(c),
    )


def delivery_out(c: Comment) -> DeliveryOut | None:
    if c.delivery_status is None:
        return None
    return DeliveryOut.model_validate(
        {
            "channel": c.delivery_channel,
            "status": c.delivery_status,
            "to": c.delivery_to,
            "simulated": delivery.simulated(c.delivery_channel),
        }
    )


def change_out(ch: TicketChange) -> ChangeOut:
    return ChangeOut(
        id=ch.id,
        action=ch.action,
        changes=ch.changes,
        note=ch.note,
        at=ch.at,
        actor=Ref(id=ch.actor.id, name=ch.actor.name) if ch.actor else None,
    )


@operation(
    bp,
    "/tickets",
    "GET",
    summary="Filter tickets (cursor pagination, newest first by creation time)",
    query=TicketQuery,
    response=TicketList,
    tag="tickets",
)
def list_tickets(query: TicketQuery) -> TicketList:
    flt = service.TicketFilter(
        status=query.status,
        priority=query.priority,
        requester_id=query.requester_id,
        group_id=query.group_id,
        tag=query.tag,
        channel=query.channel,
        q=query.q,
        assignee_id=current_api_user().id if query.assignee == "me" else query.assignee_id,
        unassigned=query.assignee == "none",
    )
    # A malformed cursor raises BadCursor, which the error handlers answer with a 422.
    rows, next_cursor = service.list_tickets(
        db.session, flt, cursor=query.cursor, limit=query.limit, sort=query.sort
    )
    return TicketList(items=[ticket_out(t) for t in rows], next_cursor=next_cursor)


@operation(
    bp,
    "/tickets",
    "POST",
    summary="Create a ticket",
    body=TicketCreate,
    response=TicketOut,
    status=201,
    tag="tickets",
)
def create_ticket(body: TicketCreate) -> TicketOut:
    ticket = service.create(db.session, actor=current_api_user(), commit=False, **body.model_dump())
    # Serialised from what the transaction holds, then committed: the answer needs no second
    # read of the ticket (a commit expires every loaded row). A commit that fails answers an
    # error, never this body.
    out = ticket_out(ticket)
    with kept_after_commit(db.session):  # answered already: expiring its rows is work for nothing
        db.session.commit()
    return out


@operation(
    bp, "/tickets/<int:ticket_id>", "GET", summary="One ticket", response=TicketOut, tag="tickets"
)
def get_ticket(ticket_id: int) -> TicketOut:
    return ticket_out(service.get(db.session, ticket_id))


@operation(
    bp,
    "/tickets/by-reference/<string:reference>",
    "GET",
    summary="One ticket by its reference (T-10234)",
    response=TicketOut,
    tag="tickets",
)
def get_ticket_by_reference(reference: str) -> TicketOut:
    return ticket_out(service.get_by_reference(db.session, reference))


@operation(
    bp,
    "/tickets/<int:ticket_id>",
    "PATCH",
    summary="Change a ticket (status workflow enforced)",
    body=TicketUpdate,
    response=TicketOut,
    tag="tickets",
)
def update_ticket(ticket_id: int, body: TicketUpdate) -> TicketOut:
    ticket = service.get(db.session, ticket_id)
    service.update(
        db.session,
        ticket,
        actor=current_api_user(),
        commit=False,
        **body.model_dump(exclude_unset=True),
    )
    out = ticket_out(ticket)  # as the transaction holds it: no read after the commit
    db.session.commit()
    return out


@operation(
    bp,
    "/tickets/<int:ticket_id>/comments",
    "GET",
    summary="Replies and internal notes",
    response=CommentList,
    tag="tickets",
)
def list_comments(ticket_id: int) -> CommentList:
    ticket = service.get(db.session, ticket_id)
    comments = service.comments(db.session, ticket)
    files = comment_files.by_comment(db.session, [c.id for c in comments])
    return CommentList(items=[comment_out(c, files.get(c.id, ())) for c in comments])


@operation(
    bp,
    "/tickets/<int:ticket_id>/comments",
    "POST",
    summary="Add a public reply or an internal note",
    body=CommentCreate,
    response=CommentOut,
    status=201,
    tag="tickets",
)
def add_comment(ticket_id: int, body: CommentCreate) -> CommentOut:
    ticket = service.get(db.session, ticket_id)
    user = current_api_user()
    tie = None
    if body.attachment_ids:
        store = comment_files.FILES.get()
        rows = store.pending(db.session, body.attachment_ids, ticket_id=ticket.id, user_id=user.id)
        tie = store.tie(rows)
    if body.macro_id is not None:
        comment = reply_actions.reply_with_actions(
            db.session,
            ticket,
            actions=_macro_actions(body.macro_id, user),
            body=body.body,
            public=body.public,
            actor=user,
            status=body.status,
            before_delivery=tie,
        )
        return _saved_comment(comment.id)
    comment = service.add_comment(
        db.session,
        ticket,
        body=body.body,
        public=body.public,
        actor=user,
        status=body.status,
        before_delivery=tie,
        commit=False,
    )
    if comment.delivery_status is not None or body.attachment_ids:
        # What its channel and its files say once committed is part of the answer: read back.
        db.session.commit()
        return _saved_comment(comment.id)
    out = comment_out(comment)  # a note or a reply no channel carries: answered from memory
    db.session.commit()
    return out


def _saved_comment(comment_id: int) -> CommentOut:
    saved = db.session.scalars(
        select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.author_user))
    ).one()
    return comment_out(saved, comment_files.by_comment(db.session, [saved.id]).get(saved.id, ()))


def _macro_actions(macro_id: int, user: User) -> reply_actions.ReplyActions:
    try:
        return reply_actions.MACRO_ACTIONS.get()(db.session, macro_id, user)
    except NotFound as exc:
        raise ValidationFailed("unknown macro", fields={"macro_id": "no such macro"}) from exc


@operation(
    bp,
    "/tickets/<int:ticket_id>/history",
    "GET",
    summary="Every change to the ticket: who, when, what",
    response=HistoryOut,
    tag="tickets",
)
def ticket_history(ticket_id: int) -> HistoryOut:
    ticket = service.get(db.session, ticket_id)
    return HistoryOut(items=[change_out(ch) for ch in service.history(db.session, ticket)])


class TicketMergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: int = Field(description="The id of the ticket where the request continues.")


class MergeNoticeOut(BaseModel):
    channel: Literal["sms", "email"] = Field(description="The channel carrying the notice.")
    to: str | None
    comment_id: int = Field(description="The public reply on the duplicate that carries it.")


class TicketMergeOut(BaseModel):
    ticket: TicketOut = Field(description="The duplicate, now closed and pointing at `into`.")
    into: TicketOut
    moved: dict[str, int] = Field(
        description="How many rows moved to the target, by kind (comments, calls, texts, ...)."
    )
    customer_notice: MergeNoticeOut | None = Field(
        description=(
            "How the customer was told where the request continues; null when no channel can "
            "reach them (nothing was sent; an internal note on the duplicate says so)."
        )
    )


@operation(
    bp,
    "/tickets/<int:ticket_id>/merge",
    "POST",
    summary="Merge this duplicate into another ticket of the same customer",
    body=TicketMergeIn,
    response=TicketMergeOut,
    tag="tickets",
    errors={
        409: "a ticket was already merged or is closed",
        422: "into itself, or tickets of different customers (the field names which)",
    },
)
def merge_ticket(ticket_id: int, body: TicketMergeIn) -> TicketMergeOut:
    source = service.get(db.session, ticket_id)
    try:
        target = service.get(db.session, body.into)
    except NotFound as exc:
        raise ValidationFailed("no such ticket", fields={"into": "no such ticket"}) from exc
    done = ticket_merge.merge(db.session, source=source, target=target, actor=current_api_user())
    notice = None
    if done.notice_channel is not None and done.notice_comment_id is not None:
        notice = MergeNoticeOut.model_validate(
            {
                "channel": done.notice_channel,
                "to": done.notice_to,
                "comment_id": done.notice_comment_id,
            }
        )
    return TicketMergeOut(
        ticket=ticket_out(service.get(db.session, done.source_id)),
        into=ticket_out(service.get(db.session, done.target_id)),
        moved=done.moved,
        customer_notice=notice,
    )
