"""The live statistics of this deployment: the aggregator, its store, its rebuild from the log
and the wallboard events it pushes to the `supervisors` room.

In the embedded deployment the figures live in this process's memory and are rebuilt from the
log on first use after a start. Scaled out they live in Redis, shared by every process; a
process rebuilds them only when Redis has none (a flushed or new Redis).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from helpdesk.db import DbSession, utcnow
from helpdesk.events import publish_now
from helpdesk.slots import Slot
from helpdesk.supervision.livestats import Aggregator, LogEntry, MemoryStore, Store, Thresholds
from helpdesk.supervision.livestats import alerts as raised_alerts
from helpdesk.supervision.throttle import PushThrottle

log = logging.getLogger(__name__)

ROOM = "supervisors"
REPLAY_DAYS = 2  # today and yesterday: enough for the calls still waiting and agents' states


# Every agent's presence as (user id, state, since): telephony keeps it and the app registers how
# to read it when it is created (`PRESENCES`); a rebuild seeds the agents from it.
Presences = Callable[[DbSession], Iterable[tuple[int, str, datetime]]]
PRESENCES: Slot[Presences] = Slot("presence source")


def _presences(session: DbSession) -> Iterable[tuple[int, str, datetime]]:
    return PRESENCES.get()(session)


class LiveStats:
    def __init__(
        self, store: Store, *, threshold_s: float, limits: Thresholds, push_interval_s: float = 0.0
    ) -> None:
        self.store = store
        self.aggregator = Aggregator(store, threshold_s=threshold_s)
        self.limits = limits
        self.loaded = False
        self._lock = threading.Lock()
        self._apply_lock = threading.Lock()
        # Pushes folded per agent and queue (helpdesk.supervision.throttle); a folded push runs
        # in a timer thread, in the app of the request that deferred it.
        self.throttle = PushThrottle(push_interval_s, self._push)

    # -- loading ---------------------------------------------------------------------------------

    def ensure_loaded(self, session: DbSession) -> None:
        if self.loaded:
            return
        with self._lock:
            if self.loaded:
                return
            if isinstance(self.store, MemoryStore) or self.aggregator.watermark() == 0:
                self.rebuild(session)
            self.loaded = True

    def rebuild(self, session: DbSession, *, now: datetime | None = None) -> int:
        """Replay the log of the last days, then take the agents the log did not mention from
        their presence rows."""
        from helpdesk.supervision.entries import day_and_slot, entry_of
        from helpdesk.supervision.models import CallEvent

        now = now or utcnow()
        first_day, _ = day_and_slot(now - timedelta(days=REPLAY_DAYS - 1))
        rows = session.scalars(
            select(CallEvent)
            .where(CallEvent.day >= first_day)
            .order_by(CallEvent.id)
            .execution_options(yield_per=5000)
        )
        last = self.aggregator.rebuild(entry_of(r) for r in rows)
        for user_id, state, since in _presences(session):
            self.aggregator.seed_agent(user_id, state, since)
        log.info("live statistics rebuilt from the call log up to event %s", last)
        return last

    # -- events ----------------------------------------------------------------------------------

    def committed(self, entries: list[LogEntry]) -> None:
        """A transaction's events committed: count them, then tell the supervisors once per
        agent and queue they touched (an accepted call moves the agent and its queue together),
        folded with the other changes of the same interval (`throttle`)."""
        try:
            # One transaction at a time here. An agent's move only sets that agent's state (the
            # counts per state are derived from them), so two processes moving one agent at once
            # leave one of the two states, never counts that disagree with the agents.
            with self._apply_lock:
                applied = self.aggregator.apply_many(entries)
            if not applied:
                return
            touched: dict[tuple[str, Any], str] = {}
            for entry in applied:
                if entry.agent_id is not None:
                    touched[("agent", entry.agent_id)] = entry.day
                for queue in {entry.queue, entry.data.get("to_queue")} - {None, ""}:
                    touched[("queue", str(queue))] = entry.day
            app = _this_app()
            for key, day in touched.items():
                self.throttle.touch(key, (app, day))
        except Exception:
            # The calls themselves are committed; the figures catch up at the next rebuild.
            log.exception("live statistics failed on events %s", [e.id for e in entries])

    def _push(self, key: Any, value: tuple[Any, str]) -> None:
        """Push an agent's or a queue's figures as they are now."""
        kind, ident = key
        app, day = value
        if app is not None and _this_app() is not app:
            with app.app_context():
                self._push(key, (None, day))
            return
        try:
            now = utcnow()
            if kind == "agent":
                publish_now("wallboard.agent", [ROOM], self.aggregator.agent(ident, day, now))
            else:
                self.push_queue(ident, day, now)
        except Exception:
            log.exception("wallboard push failed for %s %s", kind, ident)

    def rows_committed(self, rows: list[Callable[[], LogEntry]]) -> None:
        """`committed` for log rows whose ids were only known at the commit (calllog.record)."""
        self.committed([row() for row in rows])

    def push_queue(self, queue: str, day: str, now: datetime) -> dict[str, Any]:
        figures = self.aggregator.queue_figures(queue, day, now)
        publish_now("wallboard.queue", [ROOM], figures)
        self.check_alerts(figures)
        return figures

    def check_alerts(self, figures: dict[str, Any]) -> list[str]:
        """Push `wallboard.alert` when a queue's set of alerts changes (raised or cleared)."""
        queue = str(figures["queue"])
        now_raised = raised_alerts(figures, self.limits)
        before = self.store.hget("alerts", queue) or ""
        text = ",".join(now_raised)
        if text != before:
            self.store.hset("alerts", queue, text)
            publish_now(
                "wallboard.alert",
                [ROOM],
                {
                    "queue": queue,
                    "alerts": now_raised,
                    "service_level": figures.get("service_level"),
                    "longest_wait_s": figures.get("longest_wait_s"),
                    "target": self.limits.service_level,
                    "max_wait_s": self.limits.longest_wait_s,
                },
            )
        return now_raised

    def current_alerts(self) -> dict[str, list[str]]:
        return {q: [a for a in v.split(",") if a] for q, v in self.store.hgetall("alerts").items()}


def build(config: Any) -> LiveStats:
    redis_url = config.get("REDIS_URL") or ""
    store: Store
    if redis_url:
        from helpdesk.supervision.stores import RedisStore

        store = RedisStore.from_url(
            redis_url, prefix=config.get("HELPDESK_LIVE_PREFIX") or "helpdesk:live:"
        )
    else:
        store = MemoryStore()
    limits = Thresholds(
        service_level=float(config.get("HELPDESK_SL_TARGET") or 0.8),
        longest_wait_s=float(config.get("HELPDESK_MAX_WAIT_S") or 120),
    )
    push_s = config.get("HELPDESK_WALLBOARD_PUSH_S")
    return LiveStats(
        store,
        threshold_s=float(config.get("HELPDESK_SL_THRESHOLD_S") or 20),
        limits=limits,
        push_interval_s=float(0.5 if push_s is None else push_s),
    )


def _this_app() -> Flask | None:
    if not has_app_context():
        return None
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def current() -> LiveStats | None:
    if not has_app_context():
        return None
    stats = current_app.extensions.get("live_stats")
    if stats is None:
        stats = current_app.extensions["live_stats"] = build(current_app.config)
    return stats


def local_today() -> str:
    from helpdesk.supervision.entries import day_and_slot

    return day_and_slot(utcnow())[0]
