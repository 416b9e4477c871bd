"""Call queues as an administrator sets them up: the one place that writes `call_queues`.

The API and the console save through `save_queue`, so the checks hold whichever way a queue is
edited: a unique name, skill levels 1-5, routing steps that overflow to another active queue and
never round in a loop (`queue_rules.overflow_loop`), and no deactivation or renaming of a queue
that an IVR key, another queue's overflow or its after-hours route still sends callers to (that
caller would reach no queue). Routing reads the queues afresh at every dispatch, so a saved change
applies to the next decision. The IVR's missing queues are created by
`telephony.ivr_queues.create_missing` at upgrade time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from helpdesk.auth.models import AgentSkill
from helpdesk.db import DbSession
from helpdesk.errors import ValidationFailed
from helpdesk.sla.models import CalendarModel
from telephony import queue_hours, queue_rules
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
    priority: int = 0,
    menu: Mapping[str, str] | None = None,
    known_skills_only: bool = False,
) -> CallQueue:
    """Create or replace a queue and commit. Raises `ValidationFailed` by field.

    `menu` is the IVR's {key: queue name} (`ivr_queues.menu_queues`): the keys a deactivation or
    a new name would leave leading nowhere. `known_skills_only` refuses a skill that no agent
    holds and no queue requires yet (the console's typing mistakes); the API accepts one, so a
    queue may be made before its agents are given the skill."""
    others = {
        q.name: q
        for q in session.scalars(select(CallQueue).where(CallQueue.active))
        if q.id != queue.id or queue.id is None
    }
    errors = _skill_errors(session, skills, known_skills_only)
    errors.update(_step_errors(steps, name, set(others)))
    if active and not any(k.startswith("steps.") for k in errors):
        errors.update(_loop_errors(steps, name, others))
    clash = session.scalar(
        select(CallQueue.id).where(CallQueue.name == name, CallQueue.id != (queue.id or 0))
    )
    if clash:
        errors["name"] = "already taken"
    errors.update(_hours_errors(session, calendar_id, after_hours, set(others) | {name}))
    errors.update(_referrer_errors(queue, name, active, menu or {}, others))
    if not queue_rules.PRIORITY[0] <= priority <= queue_rules.PRIORITY[1]:
        errors["priority"] = "from %d to %d" % queue_rules.PRIORITY
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
    queue.priority = priority
    session.add(queue)
    session.commit()
    return queue


def known_skills(session: DbSession) -> list[str]:
    """The skills agents hold or queues require, sorted: what a queue may ask for."""
    held = set(session.scalars(select(AgentSkill.skill).distinct()))
    for required in session.scalars(select(CallQueue.skills)):
        held.update(required or {})
    return sorted(held)


def _skill_errors(
    session: DbSession, skills: dict[str, int], known_only: bool
) -> dict[str, str]:
    errors: dict[str, str] = {}
    known = set(known_skills(session)) if known_only else set()
    for skill, level in skills.items():
        if not 1 <= level <= 5:
            errors[f"skills.{skill}"] = "level 1-5"
        elif known_only and skill not in known:
            errors[f"skills.{skill}"] = "no agent has this skill"
    return errors


def _step_errors(steps: list[dict[str, Any]], name: str, active: set[str]) -> dict[str, str]:
    """Each step waits a number of seconds, then drops levels and/or overflows to another
    active queue."""
    errors: dict[str, str] = {}
    low, high = queue_rules.STEP_AFTER_S
    for i, step in enumerate(steps):
        after = step.get("after_s")
        if not isinstance(after, int) or isinstance(after, bool) or not low <= after <= high:
            errors[f"steps.{i}.after_s"] = f"seconds waited, {low} to {high}"
        drop = step.get("level_drop", 0)
        if not isinstance(drop, int) or not queue_rules.LEVEL_DROP[0] <= drop <= queue_rules.LEVEL_DROP[1]:
            errors[f"steps.{i}.level_drop"] = "levels dropped, 0 to 4"
        target = step.get("overflow_queue")
        if target and target == name:
            errors[f"steps.{i}.overflow_queue"] = "another queue than this one"
        elif target and target not in active:
            errors[f"steps.{i}.overflow_queue"] = "no such queue"
    return errors


def _loop_errors(
    steps: list[dict[str, Any]], name: str, others: dict[str, CallQueue]
) -> dict[str, str]:
    """The first step whose overflow leads back here, with the loop it makes."""
    edges = {n: queue_rules.overflow_targets(q.steps or []) for n, q in others.items()}
    for i, step in enumerate(steps):
        target = step.get("overflow_queue")
        if not target:
            continue
        loop = queue_rules.overflow_loop({**edges, name: [str(target)]}, name)
        if loop:
            return {f"steps.{i}.overflow_queue": "overflow loop: " + " → ".join(loop)}
    return {}


def _referrer_errors(
    queue: CallQueue,
    name: str,
    active: bool,
    menu: Mapping[str, str],
    others: dict[str, CallQueue],
) -> dict[str, str]:
    """A queue that callers are sent to keeps its name and stays active."""
    if queue.id is None or not queue.active:
        return {}
    found = queue_rules.referrers(
        queue.name,
        menu=menu,
        queues={n: (list(q.steps or []), q.after_hours) for n, q in others.items()},
    )
    if not found:
        return {}
    said = "; ".join(r.describe(queue.name) for r in found)
    errors: dict[str, str] = {}
    if not active:
        errors["active"] = f"still in use: {said}"
    if name != queue.name:
        errors["name"] = f"still in use under its name: {said}"
    return errors


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
