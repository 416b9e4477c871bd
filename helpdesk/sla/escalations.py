"""What an escalation does. Each action runs inside the scan's transaction; notifications leave
after commit like every other event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask

from helpdesk.db import DbSession
from helpdesk.events import on_commit, publish
from helpdesk.sla.models import SlaClock

if TYPE_CHECKING:
    from helpdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

# Called after commit with (ticket_id, reference, metric, trigger). The SMS channel registers a
# sender here to text the on-call number; until one is registered the alert is logged.
OnCallNotifier = Callable[[int, str, str, str], None]
ONCALL_NOTIFIERS: list[OnCallNotifier] = []
ONCALL = "oncall_notifier"


def register_oncall_notifier(app: Flask, notify: OnCallNotifier) -> None:
    """The app's own on-call notifier: telephony texts the configured number, and registers how
    when the app is created, since the core may not import it."""
    app.extensions[ONCALL] = notify


_RAISE = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}


def run_actions(
    session: DbSession,
    ticket: Ticket,
    clock: SlaClock,
    trigger: str,
    actions: list[dict[str, Any]],
    now: datetime,
) -> None:
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Priority

    alert = {
        "ticket_id": ticket.id,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "metric": clock.metric,
        "trigger": trigger,
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
    }
    for action in actions:
        kind = action.get("type")
        if kind == "notify_assignee" and ticket.assignee_id:
            publish(session, "sla.alert", [f"user:{ticket.assignee_id}"], alert)
        elif kind == "notify_supervisors":
            publish(session, "sla.alert", ["role:supervisor", "role:admin"], alert)
        elif kind == "raise_priority":
            raised = Priority(_RAISE[ticket.priority.value])
            if raised != ticket.priority:
                tickets.update(
                    session,
                    ticket,
                    actor=None,
                    note="SLA escalation",
                    commit=False,
                    priority=raised,
                )
        elif kind == "reassign_group" and action.get("group_id") != ticket.group_id:
            tickets.update(
                session,
                ticket,
                actor=None,
                note="SLA escalation",
                commit=False,
                group_id=action.get("group_id"),
            )
        elif kind == "sms_oncall":
            args = (ticket.id, ticket.reference, clock.metric, trigger)
            on_commit(session, lambda args=args: _notify_oncall(*args))  # type: ignore[misc]


def _notify_oncall(ticket_id: int, reference: str, metric: str, trigger: str) -> None:
    """The app's own notifier (`register_oncall_notifier`, when an on-call number is
    configured), then any registered in ONCALL_NOTIFIERS."""
    from flask import current_app, has_app_context

    notifiers = list(ONCALL_NOTIFIERS)
    own: OnCallNotifier | None = current_app.extensions.get(ONCALL) if has_app_context() else None
    if own is not None:
        notifiers.insert(0, own)
    if not notifiers:
        log.warning("SLA %s on %s (%s): no on-call notifier configured", trigger, reference, metric)
    for notify in notifiers:
        try:
            notify(ticket_id, reference, metric, trigger)
        except Exception:
            log.exception("on-call notifier failed for %s", reference)
