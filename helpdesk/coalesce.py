"""Run a job once however many times it is asked for at once.

The router's dispatch is requested after every change that could free an agent or queue a
caller: at 20 calls a second that is dozens of requests a second, nearly all for the same work.
Run side by side in several worker processes they contend for the same agent rows and mostly find
nothing left to do. A gate lets one run at a time per key; a request that arrives while it runs
leaves a mark, and the running job goes round once more, so no request is lost: every change is
seen by a dispatch that starts after it.

In Redis across Celery workers (scaled out); the embedded deployment runs each job directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

LOCK_TTL_S = 30  # a worker killed mid-run frees the gate after this long


class Gate(Protocol):
    def run(self, key: str, job: Callable[[], int]) -> int | None:
        """`job()`'s total over the rounds this call ran, or None if another caller runs it
        (and will go round again for this request)."""


class DirectGate:
    """The embedded deployment: no gate. Jobs run in the request that asked for them, and
    holding that request while it goes round for others would delay its answer; one process on
    SQLite has no workers to contend with anyway."""

    def run(self, key: str, job: Callable[[], int]) -> int | None:
        return job()


class RedisGate:
    def __init__(self, client: Any, prefix: str = "helpdesk:gate:") -> None:
        self.redis = client
        self.prefix = prefix

    def run(self, key: str, job: Callable[[], int]) -> int | None:
        lock, again = self.prefix + key, self.prefix + key + ":again"
        # Mark first, then try to take the gate: whoever holds it sees the mark.
        self.redis.set(again, "1", ex=LOCK_TTL_S)
        total: int | None = None
        while self.redis.set(lock, "1", nx=True, ex=LOCK_TTL_S):
            try:
                while self.redis.delete(again):
                    total = (total or 0) + job()
            finally:
                self.redis.delete(lock)
            # A mark left between our last look and the release: go round again.
            if not self.redis.exists(again):
                break
        return total


def from_url(redis_url: str) -> Gate:
    if not redis_url:
        return DirectGate()
    import redis

    return RedisGate(redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2))
