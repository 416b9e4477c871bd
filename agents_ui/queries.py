"""Read-only look-ups the console pages need for their menus and which no service offers yet."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session

from helpdesk.auth.models import Group, User
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
