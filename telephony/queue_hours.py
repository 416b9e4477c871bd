"""Opening hours per queue, and where a queue's callers go while it is closed.

A queue may keep hours of its own (billing closes at five, support runs late): its calendar,
or the center's default calendar when it names none (`helpdesk.sla`). A caller who chooses a
closed queue takes its after-hours route: voicemail (the default), or another queue, which is
taken only if it is open itself; there is no chain past it, so two queues that send their
callers to each other at night cannot make a loop.

The center is closed, and the caller hears so at once, only when no queue is open: a queue with
its own calendar open around the clock keeps the line open on nights the default calendar is
closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpdesk.db import DbSession
from helpdesk.sla import service as sla
from telephony.queue_config import AnyQueue, active_named, all_queues

VOICEMAIL = "voicemail"
ROUTE_ACTIONS = frozenset({"queue", VOICEMAIL})


def check_route(route: dict[str, str] | None) -> str | None:
    """What is wrong with an after-hours route as an admin gave it, or None."""
    if route is None:
        return None
    action = route.get("action")
    if action not in ROUTE_ACTIONS:
        return "action must be 'voicemail' or 'queue'"
    if action == "queue" and not route.get("queue"):
        return "a queue route names its queue"
    return None


def is_open(session: DbSession, *, queue: AnyQueue, at: datetime) -> bool:
    return sla.is_open(session, at, calendar_id=queue.calendar_id)


def center_open(session: DbSession, *, at: datetime) -> bool:
    """Whether any queue takes calls now: the default calendar, or one of an active queue's."""
    if sla.is_open(session, at):
        return True
    own = {q.calendar_id for q in all_queues(session).values() if q.active and q.calendar_id}
    return any(sla.is_open(session, at, calendar_id=calendar_id) for calendar_id in own)


@dataclass(frozen=True)
class Destination:
    """Where a caller who chose `asked` goes: `queue` (possibly another one), or voicemail
    (`queue` None); `closed` says the queue they chose was closed."""

    queue: AnyQueue | None
    closed: bool


def destination(session: DbSession, *, queue: AnyQueue, at: datetime) -> Destination:
    if is_open(session, queue=queue, at=at):
        return Destination(queue=queue, closed=False)
    route = queue.after_hours or {"action": VOICEMAIL}
    if route.get("action") != "queue" or route.get("queue") == queue.name:
        return Destination(queue=None, closed=True)
    other = active_named(session, str(route.get("queue")))
    if other is None or not is_open(session, queue=other, at=at):
        return Destination(queue=None, closed=True)
    return Destination(queue=other, closed=True)
