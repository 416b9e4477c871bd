"""Saved views: created, changed, ordered and deleted by their owner (shared ones by supervisors
and administrators), listed with the number of tickets each matches.

Counting runs one query for all the views a user sees (a conditional sum per view), whatever
their number: the console asks for the counts again, debounced, when tickets change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select

from helpdesk.auth import permissions
from helpdesk.auth.models import Group, User
from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import Forbidden, NotFound, ValidationFailed
from helpdesk.saved_views import filters as view_filters
from helpdesk.saved_views.filters import Sort
from helpdesk.saved_views.models import DefaultView, SavedView
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.service import filter_clauses

MAX_VIEWS = 100  # per list (a user's own, or the shared ones): a menu, not a database


def may_share(user: User) -> bool:
    return bool(user.has_role(*permissions.SUPERVISE))


def may_change(user: User, view: SavedView) -> bool:
    return may_share(user) if view.shared else view.owner_id == user.id


def visible(session: DbSession, *, user: User) -> list[SavedView]:
    """The shared views, then the user's own, each list in its order."""
    stmt = (
        select(SavedView)
        .where(or_(SavedView.owner_id.is_(None), SavedView.owner_id == user.id))
        .order_by(SavedView.owner_id.is_not(None), SavedView.position, SavedView.id)
    )
    return list(session.scalars(stmt))


def get_visible(session: DbSession, *, user: User, view_id: int) -> SavedView:
    """Another user's personal view is answered as missing: its name is theirs."""
    view = session.get(SavedView, view_id)
    if view is None or not (view.shared or view.owner_id == user.id):
        raise NotFound(f"no view {view_id}")
    return view


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("invalid name", fields={"name": "must not be empty"})
    if len(name) > 80:
        raise ValidationFailed("invalid name", fields={"name": "at most 80 characters"})
    return name


def _check_references(session: DbSession, filters: dict[str, Any]) -> None:
    """A group or a requester that does not exist would make a view that never matches."""
    group = filters.get("group")
    if group is not None and session.get(Group, group) is None:
        raise ValidationFailed("unknown group", fields={"filters.group": f"no group {group}"})
    requester = filters.get("requester")
    if requester is not None and session.get(Customer, requester) is None:
        raise ValidationFailed(
            "unknown customer", fields={"filters.requester": f"no customer {requester}"}
        )


def _check_share(user: User, shared: bool) -> None:
    if shared and not may_share(user):
        raise Forbidden(
            "only supervisors and administrators share views", fields={"shared": "not allowed"}
        )


def _next_position(session: DbSession, owner_id: int | None) -> int:
    where = SavedView.owner_id.is_(None) if owner_id is None else SavedView.owner_id == owner_id
    count, last = session.execute(
        select(func.count(SavedView.id), func.max(SavedView.position)).where(where)
    ).one()
    if count >= MAX_VIEWS:
        raise ValidationFailed("too many views", fields={"name": f"at most {MAX_VIEWS} views"})
    return (last or 0) + 1 if count else 1


def create(
    session: DbSession,
    *,
    actor: User,
    name: str,
    filters: dict[str, Any],
    sort: Sort = "-created",
    shared: bool = False,
) -> SavedView:
    _check_share(actor, shared)
    stored = view_filters.checked(filters)
    _check_references(session, stored)
    owner_id = None if shared else actor.id
    now = utcnow()
    view = SavedView(
        name=_check_name(name),
        owner_id=owner_id,
        filters=stored,
        sort=sort,
        position=_next_position(session, owner_id),
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(view)
    session.commit()
    return view


def update(
    session: DbSession,
    *,
    actor: User,
    view: SavedView,
    name: str | None = None,
    filters: dict[str, Any] | None = None,
    sort: Sort | None = None,
    position: int | None = None,
) -> SavedView:
    """Change what is given. `position` moves the view to that place (1 = first) in its list,
    the others shifting to make room."""
    if not may_change(actor, view):
        raise Forbidden("only supervisors and administrators change shared views")
    if name is not None:
        view.name = _check_name(name)
    if filters is not None:
        stored = view_filters.checked(filters)
        _check_references(session, stored)
        view.filters = stored
    if sort is not None:
        view.sort = sort
    if position is not None:
        _move(session, view, position)
    view.updated_at = utcnow()
    session.commit()
    return view


def _siblings(session: DbSession, view: SavedView) -> list[SavedView]:
    where = SavedView.owner_id.is_(None) if view.shared else SavedView.owner_id == view.owner_id
    stmt = select(SavedView).where(where).order_by(SavedView.position, SavedView.id)
    return list(session.scalars(stmt))


def _move(session: DbSession, view: SavedView, position: int) -> None:
    if position < 1:
        raise ValidationFailed("invalid position", fields={"position": "must be 1 or more"})
    order = [v for v in _siblings(session, view) if v.id != view.id]
    order.insert(min(position, len(order) + 1) - 1, view)
    for index, item in enumerate(order, start=1):
        item.position = index


def delete_view(session: DbSession, *, actor: User, view: SavedView) -> None:
    if not may_change(actor, view):
        raise Forbidden("only supervisors and administrators delete shared views")
    session.execute(delete(DefaultView).where(DefaultView.view_id == view.id))
    session.delete(view)
    session.commit()


def default_of(session: DbSession, *, user: User) -> SavedView | None:
    row = session.get(DefaultView, user.id)
    if row is None:
        return None
    view = session.get(SavedView, row.view_id)
    return view if view is not None and (view.shared or view.owner_id == user.id) else None


def set_default(session: DbSession, *, user: User, view: SavedView | None) -> None:
    """`None` goes back to the list's own default (the user's unresolved tickets)."""
    row = session.get(DefaultView, user.id)
    if view is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(DefaultView(user_id=user.id, view_id=view.id))
    else:
        row.view_id = view.id
    session.commit()


def counts(session: DbSession, *, user: User, views: Sequence[SavedView]) -> dict[int, int]:
    """How many tickets each view matches for `user`, in one query."""
    if not views:
        return {}
    columns: list[ColumnElement[int]] = []
    for view in views:
        clauses = filter_clauses(view_filters.ticket_filter(view.filters, me_id=user.id))
        if clauses:
            columns.append(func.coalesce(func.sum(case((and_(*clauses), 1), else_=0)), 0))
        else:
            columns.append(func.count(Ticket.id))
    row = session.execute(select(*columns).select_from(Ticket)).one()
    return {view.id: int(value) for view, value in zip(views, row, strict=True)}
