"""The place in line and the expected wait a caller hears: the helpdesk's own, not Twilio's.

Twilio's `QueuePosition` is first come, first served, while the router serves by priority (a VIP,
an SLA at risk, a callback) and then by time waited: a VIP who arrives last is served first and
must hear "number 1". So the position is counted in the router's order (`telephony.routing`:
priority, then the earliest in line, then the lowest id), among the calls of the same queue still
waiting or ringing an agent. The expected wait comes from the queue's measured average wait
(answered calls over the last `window_s` seconds, `queue_wait` in `ivr.json`), one such wait per
place in line, with `default_average_s` until the queue has answered anything in the window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from helpdesk.db import DbSession
from telephony.models import Call

IN_LINE = ("waiting", "offered")
DEFAULT_WINDOW_S = 3600
DEFAULT_AVERAGE_S = 60


@dataclass(frozen=True)
class WaitSettings:
    window_s: int
    default_average_s: int

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> WaitSettings:
        raw = config.get("queue_wait") or {}
        return cls(
            window_s=_positive(raw.get("window_s"), DEFAULT_WINDOW_S),
            default_average_s=_positive(raw.get("default_average_s"), DEFAULT_AVERAGE_S),
        )


def _positive(value: Any, default: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return int(value) if ok else default


def expected_minutes(average_wait_s: float, position: int) -> int:
    """Whole minutes, half a minute rounded up, at least 1: "about 0 minutes" tells a caller
    nothing they can use."""
    return max(1, math.floor(average_wait_s * max(position, 1) / 60 + 0.5))


def position(session: DbSession, *, call: Call) -> int:
    """1 + the calls of the caller's queue ahead of them in the router's order (one query)."""
    if call.queue_id is None or call.enqueued_at is None:
        return 1
    ahead = or_(
        Call.priority > call.priority,
        and_(Call.priority == call.priority, Call.enqueued_at < call.enqueued_at),
        and_(
            Call.priority == call.priority,
            Call.enqueued_at == call.enqueued_at,
            Call.id < call.id,
        ),
    )
    query = select(func.count(Call.id)).where(
        Call.queue_id == call.queue_id,
        Call.routing_state.in_(IN_LINE),
        Call.id != call.id,
        ahead,
    )
    return 1 + int(session.scalar(query) or 0)


def average_wait_s(
    session: DbSession, *, queue_id: int, now: datetime, settings: WaitSettings
) -> float:
    """The queue's measured average wait of answered calls in the window (one query)."""
    since = now - timedelta(seconds=settings.window_s)
    query = select(func.avg(Call.wait_seconds)).where(
        Call.queue_id == queue_id,
        Call.answered_at >= since,
        Call.wait_seconds.is_not(None),
    )
    measured = session.scalar(query)
    return float(measured) if measured is not None else float(settings.default_average_s)


@dataclass(frozen=True)
class Announcement:
    position: int
    minutes: int


def announcement(
    session: DbSession, *, call: Call, now: datetime, config: dict[str, Any]
) -> Announcement:
    """What the wait message says to `call`: its place in line and the expected minutes."""
    place = position(session, call=call)
    settings = WaitSettings.from_config(config)
    if call.queue_id is None:
        return Announcement(place, expected_minutes(settings.default_average_s, place))
    average = average_wait_s(session, queue_id=call.queue_id, now=now, settings=settings)
    return Announcement(place, expected_minutes(average, place))
