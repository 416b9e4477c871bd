"""Call queues as an administrator sets them up: the one place that writes `call_queues`.

The API and any other front end save through `save_queue`, so the checks (skill levels, overflow
steps that name an active queue, a unique name) hold whichever way a queue is edited. The IVR's
missing queues are created by `telephony.ivr_queues.create_missing` at upgrade time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from helpdesk.db import DbSession
from helpdesk.errors import ValidationFailed
from helpdesk.sla.models import CalendarModel
from telephony import queue_hours
from telephony.models import Call, CallQueue


def save_queue(
    session: DbSession,
    queue: CallQueue,
    *,
    name: str,
    label_en: str,
    label_fr: str,
    skills: dict[str, int],
    language: str | None,
    strategy: str,
    steps: list[dict[str, Any]],
    ring_timeout_s: int,
    wrap_up_s: int,
    callback_after_s: int,
    active: bool,
    calendar_id: int | None = None,
    after_hours: dict[str, str] | None = None,
) -> CallQueue:
    """Create or replace a queue and commit. Raises `ValidationFailed` by field: a skill level
    outside 1-5, a step without its wait or overflowing to no active queue, a name taken."""
    errors: dict[str, str] = {}
    for skill, level in skills.items():
        if not 1 <= level <= 5:
            errors[f"skills.{skill}"] = "level 1-5"
    names = set(session.scalars(select(CallQueue.name).where(CallQueue.active))) | {name}
    for i, step in enumerate(steps):
        if not isinstance(step.get("after_s"), int) or step["after_s"] < 0:
            errors[f"steps.{i}.after_s"] = "seconds waited, 0 or more"
        if step.get("overflow_queue") and step["overflow_queue"] not in names:
            errors[f"steps.{i}.overflow_queue"] = "no such queue"
    clash = session.scalar(
        select(CallQueue.id).where(CallQueue.name == name, CallQueue.id != (queue.id or 0))
    )
    if clash:
        errors["name"] = "already taken"
    errors.update(_hours_errors(session, calendar_id, after_hours, names))
    if errors:
        raise ValidationFailed("invalid queue", fields=errors)
    queue.name = name
    queue.label_en = label_en
    queue.label_fr = label_fr
    queue.skills = skills
    queue.language = language
    queue.strategy = strategy
    queue.steps = steps
    queue.ring_timeout_s = ring_timeout_s
    queue.wrap_up_s = wrap_up_s
    queue.callback_after_s = callback_after_s
    queue.active = active
    queue.calendar_id = calendar_id
    queue.after_hours = after_hours
    session.add(queue)
    session.commit()
    return queue


def _hours_errors(
    session: DbSession,
    calendar_id: int | None,
    after_hours: dict[str, str] | None,
    names: set[str],
) -> dict[str, str]:
    """A calendar that exists; an after-hours route that is one, to an active queue."""
    errors: dict[str, str] = {}
    if calendar_id is not None and session.get(CalendarModel, calendar_id) is None:
        errors["calendar_id"] = "no such calendar"
    problem = queue_hours.check_route(after_hours)
    if problem:
        errors["after_hours"] = problem
    elif (
        after_hours
        and after_hours.get("action") == "queue"
        and after_hours.get("queue") not in names
    ):
        errors["after_hours.queue"] = "no such queue"
    return errors


def waiting_by_queue(session: DbSession) -> dict[int, int]:
    """{queue id: callers waiting or being offered}, one grouped query."""
    return {
        qid: n
        for qid, n in session.execute(
            select(Call.queue_id, func.count())
            .where(Call.routing_state.in_(("waiting", "offered")))
            .group_by(Call.queue_id)
        )
        if qid is not None
    }
