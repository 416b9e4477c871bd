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

# The start of the refusal of a deactivation or a renaming while callers are still sent here.
IN_USE = "still in use"
# The start of the refusal of an overflow that leads back to its queue.
LOOP = "overflow loop"
# The start of the refusal of a deactivation while callers wait in the queue.
WAITING = "callers waiting"


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
    settings: dict[str, Any] = {
        "name": name,
        "label_en": label_en,
        "label_fr": label_fr,
        "skills": skills,
        "language": language,
        "strategy": strategy,
        "steps": steps,
        "ring_timeout_s": ring_timeout_s,
        "wrap_up_s": wrap_up_s,
        "callback_after_s": callback_after_s,
        "active": active,
        "calendar_id": calendar_id,
        "after_hours": after_hours,
        "priority": priority,
    }
    errors = _errors(session, queue, settings, menu or {}, known_skills_only)
    if errors:
        raise ValidationFailed("invalid queue", fields=errors)
    for key, value in settings.items():
        setattr(queue, key, value)
    session.add(queue)
    session.commit()
    return queue


def _errors(
    session: DbSession,
    queue: CallQueue,
    settings: dict[str, Any],
    menu: Mapping[str, str],
    known_only: bool,
) -> dict[str, str]:
    """What is wrong with `settings` for `queue`, by field."""
    name, steps, active = settings["name"], settings["steps"], settings["active"]
    others = _others(session, queue)
    errors = _skill_errors(session, settings["skills"], known_only)
    errors.update(_step_errors(steps, name, set(others)))
    if active and not any(k.startswith("steps.") for k in errors):
        errors.update(_loop_errors(steps, name, others))
    clash = session.scalar(
        select(CallQueue.id).where(CallQueue.name == name, CallQueue.id != (queue.id or 0))
    )
    if clash:
        errors["name"] = "already taken"
    calendar_id, after_hours = settings["calendar_id"], settings["after_hours"]
    errors.update(_hours_errors(session, calendar_id, after_hours, set(others) | {name}))
    errors.update(_referrer_errors(queue, name, active, menu, others))
    if queue.id is not None and queue.active and not active:
        errors.update(_waiting_errors(session, queue))
    if not queue_rules.PRIORITY[0] <= settings["priority"] <= queue_rules.PRIORITY[1]:
        errors["priority"] = "from {} to {}".format(*queue_rules.PRIORITY)
    return errors


def deactivate(session: DbSession, queue: CallQueue, *, menu: Mapping[str, str]) -> None:
    """Take a queue out of routing, its settings kept, and commit. Refused (`active`) while an
    IVR key or another active queue sends callers to it, or callers wait in it: routing reads
    the active queues only, so they would wait for no agent."""
    errors = _referrer_errors(queue, queue.name, False, menu, _others(session, queue))
    errors.update(_waiting_errors(session, queue))
    if errors:
        raise ValidationFailed("queue in use", fields=errors)
    queue.active = False
    session.commit()


def _others(session: DbSession, queue: CallQueue) -> dict[str, CallQueue]:
    """The active queues but this one."""
    return {
        q.name: q
        for q in session.scalars(select(CallQueue).where(CallQueue.active))
        if q.id != queue.id or queue.id is None
    }


def known_skills(session: DbSession) -> list[str]:
    """The skills agents hold or queues require, sorted: what a queue may ask for."""
    held = set(session.scalars(select(AgentSkill.skill).distinct()))
    for required in session.scalars(select(CallQueue.skills)):
        held.update(required or {})
    return sorted(held)


def _skill_errors(session: DbSession, skills: dict[str, int], known_only: bool) -> dict[str, str]:
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
        least, most = queue_rules.LEVEL_DROP
        if not isinstance(drop, int) or not least <= drop <= most:
            errors[f"steps.{i}.level_drop"] = f"levels dropped, {least} to {most}"
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
            return {f"steps.{i}.overflow_queue": f"{LOOP}: " + " → ".join(loop)}
    return {}


def referrers_of(
    session: DbSession, queue: CallQueue, *, menu: Mapping[str, str]
) -> list[queue_rules.Referrer]:
    """What sends callers to this queue now: IVR keys and the other active queues' overflow
    steps and after-hours routes. A page warns of them before a deactivation is asked for."""
    if queue.id is None:
        return []
    others = session.scalars(select(CallQueue).where(CallQueue.active, CallQueue.id != queue.id))
    return _referrers(queue.name, menu, {q.name: q for q in others})


def _referrers(
    name: str, menu: Mapping[str, str], others: dict[str, CallQueue]
) -> list[queue_rules.Referrer]:
    return queue_rules.referrers(
        name,
        menu=menu,
        queues={n: (list(q.steps or []), q.after_hours) for n, q in others.items()},
    )


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
    found = _referrers(queue.name, menu, others)
    if not found:
        return {}
    said = "; ".join(r.describe(queue.name) for r in found)
    errors: dict[str, str] = {}
    if not active:
        errors["active"] = f"{IN_USE}: {said}"
    if name != queue.name:
        errors["name"] = f"{IN_USE}: {said}"
    return errors


def _waiting_errors(session: DbSession, queue: CallQueue) -> dict[str, str]:
    """Callers in line in a queue about to be deactivated: no agent would be offered them."""
    waiting = waiting_by_queue(session).get(queue.id, 0)
    if not waiting:
        return {}
    return {"active": f"{WAITING}: {waiting}"}


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
