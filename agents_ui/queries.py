"""Read-only look-ups the console pages need for their menus and which no service offers yet."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, scoped_session

from helpdesk.auth.models import Group, User
from helpdesk.sla.models import CalendarModel, SlaClock, SlaPolicy
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.service import ASSIGNABLE_ROLES

# A plain session or Flask-SQLAlchemy's scoped proxy for one, as the services accept.
AnySession = Session | scoped_session[Any]


def assignable_staff(session: AnySession) -> list[User]:
    """Active staff a ticket can be given to, by name: the service refuses anyone else."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES))
            .order_by(User.name, User.id)
        )
    )


def all_groups(session: AnySession) -> list[Group]:
    return list(session.scalars(select(Group).order_by(Group.name)))


def user_names(session: AnySession, ids: Iterable[int]) -> dict[int, str]:
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    return {
        row.id: row.name
        for row in session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    }


def at_risk_clocks(
    session: AnySession, *, now: datetime, within: timedelta, limit: int = 200
) -> list[tuple[SlaClock, Ticket]]:
    """Running targets at risk or late now, or due before `now + within`, with each ticket's
    assignee and group loaded (one query).

    Most urgent first: the longest overdue, then the soonest due. A late clock that was paused
    and resumed has a deadline of its resumption, so it sorts by when it became late instead.
    """
    horizon = now + within
    deadline = func.coalesce(SlaClock.breached_at, SlaClock.due_at)
    stmt = (
        select(SlaClock, Ticket)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .options(joinedload(Ticket.assignee), joinedload(Ticket.group))
        .where(
            SlaClock.running_since.is_not(None),
            SlaClock.due_at.is_not(None),
            or_(SlaClock.at_risk_at <= now, SlaClock.due_at <= horizon),
        )
        .order_by(deadline, SlaClock.id)
        .limit(limit)
    )
    return [(clock, ticket) for clock, ticket in session.execute(stmt).unique()]


def calendars(session: AnySession) -> list[CalendarModel]:
    return list(session.scalars(select(CalendarModel).order_by(CalendarModel.name)))


def policies(session: AnySession) -> list[SlaPolicy]:
    """In matching order: the first active policy whose conditions hold is the one applied."""
    return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)))
