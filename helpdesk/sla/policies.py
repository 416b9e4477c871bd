"""Administrators' writes to the SLA set-up: policies, and removing calendars.

The API and the console both save through these, so a policy saved from a form is exactly what
the API would have saved. Saving a calendar re-plans running clocks and lives with them in
`helpdesk.sla.service.save_calendar`. A policy edit re-plans nothing: tickets pick it up at
their next change (the API's summary says so).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.db import DbSession
from helpdesk.errors import Conflict, ValidationFailed
from helpdesk.sla import rules
from helpdesk.sla.models import CalendarModel, SlaPolicy


def save_policy(
    session: DbSession,
    policy: SlaPolicy,
    *,
    name: str,
    position: int,
    active: bool,
    calendar_id: int,
    conditions: dict[str, list[Any]],
    targets: dict[str, dict[str, int]],
    pause_statuses: list[str],
    at_risk_ratio: float,
    escalations: list[dict[str, Any]],
) -> SlaPolicy:
    """Create or replace a policy and commit. Raises `ValidationFailed` by field (targets,
    conditions, escalations the rules refuse, or a calendar that does not exist) and `Conflict`
    when another policy has the name."""
    errors = {
        **rules.validate_targets(targets),
        **rules.validate_conditions(conditions),
        **rules.validate_escalations(escalations),
    }
    if session.get(CalendarModel, calendar_id) is None:
        errors["calendar_id"] = "no such calendar"
    if errors:
        raise ValidationFailed("invalid policy", fields=errors)
    clash = session.scalar(
        select(SlaPolicy.id).where(SlaPolicy.name == name, SlaPolicy.id != (policy.id or 0))
    )
    if clash:
        raise Conflict("a policy with this name exists", fields={"name": "already taken"})
    policy.name = name
    policy.position = position
    policy.active = active
    policy.calendar_id = calendar_id
    policy.conditions = conditions
    policy.targets = targets
    policy.pause_statuses = pause_statuses
    policy.at_risk_ratio = at_risk_ratio
    policy.escalations = escalations
    session.add(policy)
    session.commit()
    return policy


def delete_policy(session: DbSession, policy: SlaPolicy) -> None:
    """Remove a policy; clocks it started keep running on their own deadlines."""
    session.delete(policy)
    session.commit()


def delete_calendar(session: DbSession, calendar: CalendarModel) -> None:
    """Remove a calendar. Raises `Conflict` while a policy still counts time with it: its
    tickets' clocks would have no hours left to count."""
    if session.scalar(select(SlaPolicy.id).where(SlaPolicy.calendar_id == calendar.id).limit(1)):
        raise Conflict("a policy uses this calendar")
    session.delete(calendar)
    session.commit()
