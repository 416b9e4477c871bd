"""A reply that brings ticket changes along (a macro's status, tags and group), in one step.

Macros sit above tickets (they read tickets to fill their placeholders), so the tickets API
reaches them through `MACRO_ACTIONS`, which the app fills with `helpdesk.macros.service`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helpdesk.auth.models import User
from helpdesk.db import DbSession
from helpdesk.slots import Slot
from helpdesk.tickets import service
from helpdesk.tickets.models import Comment, Ticket
from helpdesk.tickets.workflow import Status


@dataclass(frozen=True)
class ReplyActions:
    """What changes with the reply; `source` names where they come from in the history."""

    source: str
    status: Status | None = None
    add_tags: tuple[str, ...] = field(default_factory=tuple)
    group_id: int | None = None


# (session, macro id, the agent) -> the macro's actions; NotFound for a macro the agent cannot see.
MacroActions = Callable[[DbSession, int, User], ReplyActions]
MACRO_ACTIONS: Slot[MacroActions] = Slot("macros")


def reply_with_actions(
    session: DbSession,
    ticket: Ticket,
    *,
    actions: ReplyActions,
    body: str,
    public: bool,
    actor: User,
    status: Status | None = None,
    before_delivery: Callable[[Comment], None] | None = None,
) -> Comment:
    """The reply, then the actions, committed together: a refused change (a status the workflow
    forbids) leaves no reply behind, and a resent form cannot apply them without a reply.

    A status the agent chose for this reply (`status`) wins over the macro's.
    """
    comment = service.add_comment(
        session,
        ticket,
        body=body,
        public=public,
        actor=actor,
        status=status or actions.status,
        commit=False,
        before_delivery=before_delivery,
    )
    changes: dict[str, Any] = {}
    if actions.add_tags:
        changes["tags"] = [*ticket.tags, *(t for t in actions.add_tags if t not in ticket.tags)]
    if actions.group_id is not None:
        changes["group_id"] = actions.group_id
    if changes:
        service.update(session, ticket, actor=actor, note=actions.source, commit=False, **changes)
    session.commit()
    return comment
