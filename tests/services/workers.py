"""Positive signs that a Celery worker has finished its work, for tests that then assert that
something did NOT happen (no second send): waiting a fixed time proves nothing on a slow machine."""

from __future__ import annotations

import time
from typing import Any

import redis


def _busy(celery: Any, workers: int) -> dict[str, Any]:
    inspect = celery.control.inspect(timeout=2.0, limit=workers)
    active, reserved = inspect.active() or {}, inspect.reserved() or {}
    stats = inspect.stats() or {}
    return {
        "answered": len(active),
        "running": sum(len(tasks) for tasks in active.values()),
        "reserved": sum(len(tasks) for tasks in reserved.values()),
        "done": {
            name: count
            for info in stats.values()
            for name, count in (info.get("total") or {}).items()
        },
    }


def wait_until_idle(
    celery: Any,
    redis_url: str,
    *,
    workers: int = 1,
    done: dict[str, int] | None = None,
    timeout: float = 90.0,
) -> dict[str, Any]:
    """Return once the broker's queue is empty and each of `workers` workers answers that it runs
    and holds no task, twice in a row (a task on its way from the queue to a worker is seen by
    the second look), and, with `done`, once the workers have taken at least that many tasks of
    each name. Fails after `timeout` with what was last seen."""
    broker = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    calm = 0
    seen: dict[str, Any] = {}
    try:
        while calm < 2:
            assert time.monotonic() < deadline, f"the workers never went idle: {seen}"
            seen = {"queued": broker.llen("celery"), **_busy(celery, workers)}
            finished = all(seen["done"].get(n, 0) >= c for n, c in (done or {}).items())
            idle = (
                seen["queued"] == 0
                and seen["answered"] >= workers
                and seen["running"] == 0
                and seen["reserved"] == 0
                and finished
            )
            calm = calm + 1 if idle else 0
            if calm < 2:
                time.sleep(0.2)
    finally:
        broker.close()
    return seen
