"""At most one wallboard push per agent or queue per interval, with the latest figures.

Every committed call event used to push its queue's figures and its agent's state to the
supervisors at once. At 20 calls a second a queue changes 80 times a second: each push reads the
figures back from the store, publishes them on the Socket.IO queue, and every web process decodes
them, for a screen that a person reads. Here the first change of a key goes out at once (a quiet
wallboard still moves the moment a call arrives); changes within the next `interval_s` wait, and
one push at the end of it carries the figures as they are then. Nothing is lost: the figures
themselves are counted at every event, only the pushes are folded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

MAX_KEYS = 4096  # last-push times kept; older ones are dropped first once past this


class PushThrottle:
    def __init__(
        self,
        interval_s: float,
        push: Callable[[Hashable, Any], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        schedule: Callable[[float, Callable[[], Any]], Any] | None = None,
    ) -> None:
        self.interval_s = interval_s
        self._push = push
        self._clock = clock
        self._schedule = schedule or _timer
        self._last: dict[Hashable, float] = {}
        self._due: dict[Hashable, Any] = {}
        self._scheduled = False
        self._lock = threading.Lock()

    def touch(self, key: Hashable, value: Any) -> bool:
        """`key` changed: push it now (True) or fold it into the push at the interval's end."""
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if self.interval_s > 0 and last is not None and now - last < self.interval_s:
                self._due[key] = value
                if not self._scheduled:
                    self._scheduled = True
                    self._schedule(self.interval_s - (now - last), self.flush)
                return False
            self._remember(key, now)
        self._push(key, value)
        return True

    def flush(self) -> int:
        """Push what is waiting (the timer calls this; so may a shutdown)."""
        with self._lock:
            due, self._due, self._scheduled = self._due, {}, False
            now = self._clock()
            for key in due:
                self._remember(key, now)
        for key, value in due.items():
            self._push(key, value)
        return len(due)

    def pending(self) -> int:
        with self._lock:
            return len(self._due)

    def _remember(self, key: Hashable, now: float) -> None:
        self._last.pop(key, None)  # re-inserted last: the dict stays in push order
        self._last[key] = now
        while len(self._last) > MAX_KEYS:
            del self._last[next(iter(self._last))]


def _timer(delay_s: float, fn: Callable[[], Any]) -> threading.Timer:
    timer = threading.Timer(delay_s, fn)
    timer.daemon = True  # a push still waiting at exit is dropped: the figures are in the store
    timer.start()
    return timer
