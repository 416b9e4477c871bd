"""Every change to a macro goes through here, with who may make it; and a macro rendered for a
ticket, with the changes it would bring along.

Shared macros are written by supervisors and administrators and seen by all staff; a personal one
is seen and written by its owner alone (to anyone else it does not exist: 404, not 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from helpdesk.auth import permissions
from helpdesk.auth.models import Group, User
from helpdesk.customers.models import Customer
from helpdesk.customers.service import normalise_tags
from helpdesk.db import DbSession, utcnow
from helpdesk.dispatch import texts as visit_texts
from helpdesk.dispatch.models import WorkOrder
from helpdesk.dispatch.settings import current_settings
from helpdesk.dispatch.workflow import ACTIVE
from helpdesk.errors import Forbidden, NotFound, ValidationFailed
from helpdesk.macros import placeholders
from helpdesk.macros.models import LANGUAGES, PERSONAL, SHARED, VISIBILITIES, Macro
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.reply_actions import ReplyActions
from helpdesk.tickets.workflow import Status

# A macro may move a ticket on, never back to "new" nor straight to "closed" (closing follows
# solving: helpdesk.tickets.workflow).
SETTABLE_STATUSES: tuple[Status, ...] = (
    Status.OPEN,
    Status.PENDING,
    Status.ON_HOLD,
    Status.SOLVED,
)
TAG_MAX = 64
_FIELDS = ("title", "body", "language", "visibility", "set_status", "add_tags", "set_group_id")


def may_share(user: User) -> bool:
    """Supervisors and administrators write the macros everyone sees."""
    return user.has_role(*permissions.SUPERVISE)


def may_edit(user: User, macro: Macro) -> bool:
    return may_share(user) if macro.visibility == SHARED else macro.owner_id == user.id


def _seen_by(user: User) -> Any:
    return or_(Macro.visibility == SHARED, Macro.owner_id == user.id)


def visible(
    session: DbSession, *, user: User, q: str | None = None, language: str | None = None
) -> list[Macro]:
    """The macros `user` can use, by title: the shared ones and their own."""
    stmt = select(Macro).where(_seen_by(user))
    if language:
        stmt = stmt.where(Macro.language == language)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Macro.title.ilike(like), Macro.body.ilike(like)))
    return list(session.scalars(stmt.order_by(Macro.title, Macro.id)))


def get_visible(session: DbSession, macro_id: int, *, user: User) -> Macro:
    macro = session.get(Macro, macro_id)
    if macro is None or not (macro.visibility == SHARED or macro.owner_id == user.id):
        raise NotFound(f"no macro {macro_id}")
    return macro


def _check(session: DbSession, values: dict[str, Any]) -> dict[str, Any]:
    """The fields as saved (tags normalised), or ValidationFailed naming each refused field."""
    errors: dict[str, str] = {}
    if not str(values.get("title") or "").strip():
        errors["title"] = "must not be empty"
    body = str(values.get("body") or "")
    if not body.strip():
        errors["body"] = "must not be empty"
    bad = placeholders.unknown(body)
    if bad:
        names = ", ".join("{{" + name + "}}" for name in bad)
        errors["body"] = f"unknown placeholder {names}"
    if values.get("language") not in LANGUAGES:
        errors["language"] = f"must be one of {', '.join(LANGUAGES)}"
    if values.get("visibility") not in VISIBILITIES:
        errors["visibility"] = f"must be one of {', '.join(VISIBILITIES)}"
    status = values.get("set_status")
    if status is not None and status not in {s.value for s in SETTABLE_STATUSES}:
        allowed = ", ".join(s.value for s in SETTABLE_STATUSES)
        errors["set_status"] = f"must be one of {allowed}"
    tags = normalise_tags(values.get("add_tags") or [])
    if any(len(t) > TAG_MAX for t in tags):
        errors["add_tags"] = f"each tag is at most {TAG_MAX} characters"
    group_id = values.get("set_group_id")
    if group_id is not None and session.get(Group, group_id) is None:
        errors["set_group_id"] = "no such group"
    if errors:
        raise ValidationFailed("invalid macro", fields=errors)
    return {**values, "title": str(values["title"]).strip(), "add_tags": tags}


def _check_sharing(actor: User, visibility: str) -> None:
    if visibility == SHARED and not may_share(actor):
        raise Forbidden(
            "only supervisors and administrators write shared macros",
            fields={"visibility": "must be personal"},
        )


def create(
    session: DbSession,
    *,
    actor: User,
    title: str,
    body: str,
    language: str = "en",
    visibility: str = PERSONAL,
    set_status: str | None = None,
    add_tags: list[str] | None = None,
    set_group_id: int | None = None,
) -> Macro:
    values = _check(
        session,
        {
            "title": title,
            "body": body,
            "language": language,
            "visibility": visibility,
            "set_status": set_status,
            "add_tags": add_tags or [],
            "set_group_id": set_group_id,
        },
    )
    _check_sharing(actor, visibility)
    macro = Macro(owner_id=actor.id, **values)
    session.add(macro)
    session.commit()
    return macro


def update(session: DbSession, macro: Macro, *, actor: User, **changes: Any) -> Macro:
    """Change some fields. Making a shared macro personal makes it the actor's own."""
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise ValidationFailed("unknown fields", fields={f: "not updatable" for f in unknown})
    if not may_edit(actor, macro):
        raise Forbidden("only supervisors and administrators change shared macros")
    values = _check(session, {**{f: getattr(macro, f) for f in _FIELDS}, **changes})
    _check_sharing(actor, values["visibility"])
    if macro.visibility == SHARED and values["visibility"] == PERSONAL:
        macro.owner_id = actor.id
    for name, value in values.items():
        setattr(macro, name, value)
    macro.updated_at = utcnow()
    session.commit()
    return macro


def delete(session: DbSession, macro: Macro, *, actor: User) -> None:
    if not may_edit(actor, macro):
        raise Forbidden("only supervisors and administrators delete shared macros")
    session.delete(macro)
    session.commit()


@dataclass(frozen=True)
class Preview:
    """A macro as it would go out on a ticket: its text filled in, and what it would change."""

    macro: Macro
    text: str
    actions: ReplyActions
    group: Group | None


def values_for(
    session: DbSession, ticket: Ticket, *, agent: User, language: str, now: datetime | None = None
) -> dict[str, str]:
    """Each placeholder's value on `ticket`, as plain text."""
    customer = session.get(Customer, ticket.requester_id)
    name = customer.name if customer is not None else ""
    return {
        "customer.name": name,
        "customer.first_name": placeholders.first_name(name),
        "ticket.reference": ticket.reference,
        "agent.name": agent.name,
        "technician.eta": _visit_eta(session, ticket.id, language, now or utcnow()),
    }


def _visit_eta(session: DbSession, ticket_id: int, language: str, now: datetime) -> str:
    """When the technician of the ticket's next active visit should arrive (their planned ETA,
    else the start of the window promised), or "not scheduled yet" in the macro's language."""
    wo = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.ticket_id == ticket_id, WorkOrder.status.in_(list(ACTIVE)))
        .order_by(WorkOrder.window_start, WorkOrder.id)
        .limit(1)
    ).first()
    if wo is None:
        return placeholders.NOT_SCHEDULED.get(language, placeholders.NOT_SCHEDULED["en"])
    at = wo.eta_at or wo.window_start
    return visit_texts.eta(at, current_settings().timezone, language, now=now)


def actions_of(macro: Macro) -> ReplyActions:
    return ReplyActions(
        source=f"macro: {macro.title}"[:500],
        status=Status(macro.set_status) if macro.set_status else None,
        add_tags=tuple(macro.add_tags or ()),
        group_id=macro.set_group_id,
    )


def preview(session: DbSession, ticket: Ticket, macro: Macro, *, agent: User) -> Preview:
    values = values_for(session, ticket, agent=agent, language=macro.language)
    group = session.get(Group, macro.set_group_id) if macro.set_group_id is not None else None
    return Preview(
        macro=macro,
        text=render(macro, values),
        actions=actions_of(macro),
        group=group,
    )


def reply_actions(session: DbSession, macro_id: int, user: User) -> ReplyActions:
    """The actions of a macro `user` can see, for a reply sent with it (tickets' MACRO_ACTIONS)."""
    return actions_of(get_visible(session, macro_id, user=user))


def render(macro: Macro, values: dict[str, str]) -> str:
    """The macro's text with `values` (from `values_for`) filled in."""
    return placeholders.render(macro.body, values)
