"""`/api/v1/views`: saved views of the ticket list, their tickets and their live counts."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.audit.recorder import audit_details
from helpdesk.extensions import db
from helpdesk.saved_views import filters as view_filters
from helpdesk.saved_views import service
from helpdesk.saved_views.filters import Sort, ViewFilters
from helpdesk.saved_views.models import SavedView
from helpdesk.tickets import service as tickets
from helpdesk.tickets.api import TicketList, ticket_out

bp = Blueprint("views_api", __name__, url_prefix="/api/v1")
_ONE = "/views/<int:view_id>"


class ViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] = Field(min_length=1, max_length=80)
    filters: ViewFilters = Field(default_factory=ViewFilters)
    sort: Sort = "-created"
    shared: bool = Field(
        default=False, description="Seen by all staff; only supervisors and admins share views."
    )


class ViewPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=80)
    filters: ViewFilters | None = None
    sort: Sort | None = None
    position: int | None = Field(
        default=None, ge=1, description="The view's place in its list (1 = first)."
    )


class ViewOut(BaseModel):
    id: int
    name: str
    shared: bool
    owner_id: int | None = Field(description="The owner of a personal view; null when shared.")
    filters: ViewFilters
    sort: Sort
    position: int
    default: bool = Field(description="The caller's ticket list opens on this view.")
    editable: bool = Field(description="The caller may rename, change, move or delete it.")


class ViewList(BaseModel):
    items: list[ViewOut]


class ViewCount(BaseModel):
    id: int
    count: int = Field(description="Tickets matching the view for the caller, now.")


class ViewCounts(BaseModel):
    items: list[ViewCount]


class ViewTicketsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


class DefaultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    view_id: int | None = Field(description="null: back to the list's own default.")


class DefaultOut(BaseModel):
    view_id: int | None


def view_out(view: SavedView, *, default_id: int | None) -> ViewOut:
    user = current_api_user()
    return ViewOut(
        id=view.id,
        name=view.name,
        shared=view.shared,
        owner_id=view.owner_id,
        filters=ViewFilters.model_validate(view.filters),
        sort=view.sort,  # type: ignore[arg-type]
        position=view.position,
        default=view.id == default_id,
        editable=service.may_change(user, view),
    )


def _default_id() -> int | None:
    found = service.default_of(db.session, user=current_api_user())
    return found.id if found else None


def _audit_shared(view: SavedView) -> None:
    """Shared views are audited (their change reaches every agent's list), personal ones not:
    the audit rule reads `shared` from here, since a change or a deletion does not say."""
    audit_details({"shared": view.shared, "name": view.name})


@operation(bp, "/views", "GET", summary="The saved views I see", response=ViewList, tag="views")
def list_views() -> ViewList:
    default_id = _default_id()
    views = service.visible(db.session, user=current_api_user())
    return ViewList(items=[view_out(v, default_id=default_id) for v in views])


@operation(
    bp,
    "/views",
    "POST",
    summary="Save filters and an order as a view (personal, or shared by a supervisor)",
    body=ViewIn,
    response=ViewOut,
    status=201,
    tag="views",
    errors={403: "Sharing a view is for supervisors and administrators."},
)
def create_view(body: ViewIn) -> ViewOut:
    view = service.create(
        db.session,
        actor=current_api_user(),
        name=body.name,
        filters=body.filters.model_dump(mode="json", exclude_defaults=True),
        sort=body.sort,
        shared=body.shared,
    )
    _audit_shared(view)
    return view_out(view, default_id=_default_id())


@operation(
    bp,
    "/views/counts",
    "GET",
    summary="How many tickets each of my views matches (one query for them all)",
    response=ViewCounts,
    tag="views",
)
def view_counts() -> ViewCounts:
    user = current_api_user()
    views = service.visible(db.session, user=user)
    found = service.counts(db.session, user=user, views=views)
    return ViewCounts(items=[ViewCount(id=v.id, count=found[v.id]) for v in views])


@operation(
    bp,
    "/views/default",
    "PUT",
    summary="Choose the view my ticket list opens on",
    body=DefaultIn,
    response=DefaultOut,
    tag="views",
    errors={404: "No such view among those the caller sees."},
)
def put_default_view(body: DefaultIn) -> DefaultOut:
    user = current_api_user()
    view = None
    if body.view_id is not None:
        view = service.get_visible(db.session, user=user, view_id=body.view_id)
    service.set_default(db.session, user=user, view=view)
    return DefaultOut(view_id=body.view_id)


@operation(bp, _ONE, "GET", summary="One saved view", response=ViewOut, tag="views")
def get_view(view_id: int) -> ViewOut:
    view = service.get_visible(db.session, user=current_api_user(), view_id=view_id)
    return view_out(view, default_id=_default_id())


@operation(
    bp,
    _ONE,
    "PATCH",
    summary="Rename, refilter, reorder or move a view",
    body=ViewPatch,
    response=ViewOut,
    tag="views",
    errors={403: "A shared view is changed by supervisors and administrators only."},
)
def update_view(view_id: int, body: ViewPatch) -> ViewOut:
    user = current_api_user()
    view = service.get_visible(db.session, user=user, view_id=view_id)
    service.update(
        db.session,
        actor=user,
        view=view,
        name=body.name,
        filters=body.filters.model_dump(mode="json", exclude_defaults=True)
        if body.filters is not None
        else None,
        sort=body.sort,
        position=body.position,
    )
    _audit_shared(view)
    return view_out(view, default_id=_default_id())


@operation(
    bp,
    _ONE,
    "DELETE",
    summary="Delete a view",
    status=204,
    tag="views",
    errors={403: "A shared view is deleted by supervisors and administrators only."},
)
def delete_view(view_id: int) -> Response:
    user = current_api_user()
    view = service.get_visible(db.session, user=user, view_id=view_id)
    _audit_shared(view)
    service.delete_view(db.session, actor=user, view=view)
    return Response(status=204)


@operation(
    bp,
    _ONE + "/tickets",
    "GET",
    summary="The tickets a view matches, a page at a time, in the view's order",
    query=ViewTicketsQuery,
    response=TicketList,
    tag="views",
)
def view_tickets(view_id: int, query: ViewTicketsQuery) -> TicketList:
    user = current_api_user()
    view = service.get_visible(db.session, user=user, view_id=view_id)
    flt = view_filters.ticket_filter(view.filters, me_id=user.id)
    # A malformed cursor raises BadCursor, which the error handlers answer with a 422.
    rows, next_cursor = tickets.list_tickets(
        db.session, flt, cursor=query.cursor, limit=query.limit, sort=view.sort
    )
    return TicketList(items=[ticket_out(t) for t in rows], next_cursor=next_cursor)
