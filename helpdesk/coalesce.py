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

import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol, cast

from helpdesk.socketqueue import carried_along

LOCK_TTL_S = 30  # a worker killed mid-run frees the gate after this long
QUEUED_TTL_S = 10  # a queued run not started after this long is asked for again


class Gate(Protocol):
    def run(
        self, key: str, job: Callable[[], int], requeue: Callable[[], Any] | None = None
    ) -> int | None:
        """`job()`'s total over the rounds this call ran, or None if another caller runs it
        (and will go round again for this request)."""

    def request(self, key: str, send: Callable[[], Any]) -> bool:
        """Ask for a run: `send()` queues one (a task), unless one is already queued and not
        yet started, which will see whatever was committed before this. True if sent."""


class DirectGate:
    """The embedded deployment: no gate. Jobs run in the request that asked for them, and
    holding that request while it goes round for others would delay its answer; one process on
    SQLite has no workers to contend with anyway."""

    def run(
        self, key: str, job: Callable[[], int], requeue: Callable[[], Any] | None = None
    ) -> int | None:
        return job()

    def request(self, key: str, send: Callable[[], Any]) -> bool:
        send()
        return True


# Release or renew the gate only while it is still ours (it may have expired and been taken).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('expire', KEYS[1], ARGV[2]) end"
)


class RedisGate:
    """Across processes: the gate is a Redis key holding the holder's token, renewed after each
    round and released only by its holder. A holder that has gone round for `max_s` hands over
    (through `requeue`, a fresh task) rather than keeping a worker for ever under steady load."""

    def __init__(
        self, client: Any, prefix: str = "helpdesk:gate:", max_rounds: int = 50, max_s: float = 5.0
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.max_rounds = max_rounds
        self.max_s = max_s

    def run(
        self, key: str, job: Callable[[], int], requeue: Callable[[], Any] | None = None
    ) -> int | None:
        lock, again = self.prefix + key, self.prefix + key + ":again"
        token = secrets.token_hex(8)
        # Started: a request from now on queues another run (see `request`), since this one may
        # already have read past its change. Then mark, and only then try to take the gate:
        # whoever holds it sees the mark. All in one round trip, in this order.
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(self.prefix + key + ":queued")
        pipe.set(again, "1", ex=LOCK_TTL_S)
        pipe.set(lock, token, nx=True, ex=LOCK_TTL_S)
        taken = pipe.execute()[2]
        total: int | None = None
        while taken:
            ran, handed_over, marked = self._hold(lock, again, token, job, requeue is not None)
            if ran is not None:
                total = (total or 0) + ran
            if handed_over and requeue is not None:
                requeue()
                break
            # A mark left between our last look and the release: go round again.
            if not marked:
                break
            taken = self.redis.set(lock, token, nx=True, ex=LOCK_TTL_S)
        return total

    def _hold(
        self, lock: str, again: str, token: str, job: Callable[[], int], can_hand_over: bool
    ) -> tuple[int | None, bool, bool]:
        """Go round while marked, holding the gate; then release it. Returns the rounds' total
        (None if none ran), whether it hands over, and whether a mark is left after release.
        Each renewal goes with the next look at the mark, the release with the last one."""
        began, rounds, handed_over = time.monotonic(), 0, False
        total: int | None = None
        try:
            marked = self.redis.delete(again)
            while marked:
                total = (total or 0) + job()
                rounds += 1
                if rounds >= self.max_rounds or time.monotonic() - began >= self.max_s:
                    self.redis.eval(_RENEW, 1, lock, token, LOCK_TTL_S)
                    handed_over = can_hand_over and bool(self.redis.exists(again))
                    break
                pipe = self.redis.pipeline(transaction=False)
                pipe.eval(_RENEW, 1, lock, token, LOCK_TTL_S)
                pipe.delete(again)
                marked = pipe.execute()[1]
        except BaseException:
            self.redis.eval(_RELEASE, 1, lock, token)
            raise
        pipe = self.redis.pipeline(transaction=False)
        pipe.eval(_RELEASE, 1, lock, token)
        pipe.exists(again)
        left = bool(pipe.execute()[1])
        return total, handed_over, left

    def request(self, key: str, send: Callable[[], Any]) -> bool:
        # At 20 calls a second a dispatch is asked for about 40 times a second; while one task
        # waits in the broker, the requests behind it need no task of their own. The mark
        # expires, and the periodic dispatch (every 2 s) runs anyway, should a queued task be
        # lost with its worker. The request also leaves the mark `run` looks for, so that a run
        # going on now goes round once more at once, rather than leaving the change to the
        # queued task, which may wait for a free worker.
        pipe = self.redis.pipeline(transaction=False)
        # The commit's events go first, in the same round trip: a run that sees the mark finds
        # them already published.
        with carried_along(pipe, self.redis):
            pipe.set(self.prefix + key + ":again", "1", ex=LOCK_TTL_S)
            pipe.set(self.prefix + key + ":queued", "1", nx=True, ex=QUEUED_TTL_S)
            queued = pipe.execute()[-1]
        if not queued:
            return False
        try:
            send()
        except Exception:
            self.redis.delete(self.prefix + key + ":queued")
            raise
        return True


def from_url(redis_url: str) -> Gate:
    if not redis_url:
        return DirectGate()
    import redis

    return RedisGate(redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2))


GATE = "dispatch_gate"


def current_gate() -> Gate:
    """The application's dispatch gate (`helpdesk.wiring` puts it in place)."""
    from flask import current_app

    return cast(Gate, current_app.extensions[GATE])
