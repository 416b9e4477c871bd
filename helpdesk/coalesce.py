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


# Each step of the gate is one script, so one round trip, and atomic: no request can slip in
# between a look at the mark and the release that follows it.
#
# Start: a request from now on queues another run (`request`), since this one may read past its
# change; then take the gate, or leave the mark for whoever holds it. KEYS: gate, mark, queued.
_START = """
redis.call('del', KEYS[3])
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('del', KEYS[2])
  return 1
end
redis.call('set', KEYS[2], '1', 'EX', ARGV[2])
return 0
"""
# After a round: go round again, still holding the gate, if a mark was left meanwhile (1);
# otherwise release it (0). A gate no longer ours (it expired and was taken) is left to its
# holder, with any mark, which it will see (-1). KEYS: gate, mark.
_NEXT = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('del', KEYS[2]) == 1 then
  redis.call('expire', KEYS[1], ARGV[2])
  return 1
end
redis.call('del', KEYS[1])
return 0
"""
# Release the gate if still ours (handing over, or after a failed round), and say whether a
# mark asks for another run. KEYS: gate, mark.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return redis.call('exists', KEYS[2])
"""


class RedisGate:
    """Across processes: the gate is a Redis key holding the holder's token, renewed after each
    round and released only by its holder. A holder that has gone round for `max_s` or
    `max_rounds` hands over (through `requeue`, a fresh task) rather than keeping a worker for
    ever under steady load; a caller that gives no `requeue` keeps going round while marks come.
    A run that goes round once costs two round trips."""

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
        lock, again, queued = (
            self.prefix + key,
            self.prefix + key + ":again",
            self.prefix + key + ":queued",
        )
        token = secrets.token_hex(8)
        if not self.redis.eval(_START, 3, lock, again, queued, token, LOCK_TTL_S):
            return None
        began, rounds, total = time.monotonic(), 0, 0
        try:
            while True:
                total += job()
                rounds += 1
                if requeue is not None and (
                    rounds >= self.max_rounds or time.monotonic() - began >= self.max_s
                ):
                    if self.redis.eval(_RELEASE, 2, lock, again, token):
                        requeue()
                    return total
                if self.redis.eval(_NEXT, 2, lock, again, token, LOCK_TTL_S) != 1:
                    return total
        except BaseException:
            self.redis.eval(_RELEASE, 2, lock, again, token)
            raise

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
