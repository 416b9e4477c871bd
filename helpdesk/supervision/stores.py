"""The Redis store of the live statistics, shared by every web process and worker.

Each operation is one native Redis command (HINCRBYFLOAT, HSET, ZADD, ZREM...), so concurrent
processes add to the same counters without losing updates. Keys carry a prefix so that several
deployments (or test runs) can share a Redis database.

An event changes several counters at once: inside `batch` the writes wait in a MULTI/EXEC
pipeline and go in one round trip, applied together, so a wallboard never reads half an event.
The pipeline is the calling thread's own: a web process serves requests on many threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from helpdesk.socketqueue import carried_along


class RedisStore:
    def __init__(self, client: Any, prefix: str = "helpdesk:live:") -> None:
        self.client = client
        self.prefix = prefix
        self._local = threading.local()

    @classmethod
    def from_url(cls, url: str, prefix: str = "helpdesk:live:") -> RedisStore:
        import redis

        return cls(redis.Redis.from_url(url, decode_responses=True, socket_timeout=5), prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    # -- grouping --------------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        if getattr(self._local, "pipe", None) is not None:
            yield  # already inside a batch: the outermost one sends
            return
        self._local.pipe = self.client.pipeline(transaction=True)
        try:
            yield
            self._send()
        finally:
            self._local.pipe = None

    def _writer(self) -> Any:
        """Where a write goes: the batch's pipeline, or straight to Redis."""
        pipe = getattr(self._local, "pipe", None)
        return self.client if pipe is None else pipe

    def _send(self) -> None:
        """Send the writes queued in the current batch, if any, before reading."""
        pipe = getattr(self._local, "pipe", None)
        if pipe is not None and len(pipe):
            pipe.execute()

    def read(self, reads: Sequence[tuple[str, ...]]) -> list[Any]:
        self._send()
        pipe = self.client.pipeline(transaction=False)
        with carried_along(pipe, self.client) as carried:  # a commit's held events ride along
            for op, key, *args in reads:
                if op == "zmin":
                    pipe.zrange(self._k(key), 0, 0, withscores=True)
                else:
                    getattr(pipe, op)(self._k(key), *args)
            raw = pipe.execute()[len(carried) :]
        return [_READERS[op](value) for (op, *_), value in zip(reads, raw, strict=True)]

    # -- writes ----------------------------------------------------------------------------------

    def hincr(self, key: str, name: str, amount: float) -> None:
        # Always the float form: a field that once took a fraction (a wait, a talk time)
        # refuses HINCRBY afterwards.
        self._writer().hincrbyfloat(self._k(key), name, amount)

    def hset(self, key: str, name: str, value: str) -> None:
        self._writer().hset(self._k(key), name, value)

    def zadd(self, key: str, member: str, score: float) -> None:
        self._writer().zadd(self._k(key), {member: score})

    def zrem(self, key: str, member: str) -> None:
        self._writer().zrem(self._k(key), member)

    def zpop(self, key: str, member: str) -> float | None:
        self._send()
        pipe = self.client.pipeline()
        pipe.zscore(self._k(key), member)
        pipe.zrem(self._k(key), member)
        score, _removed = pipe.execute()
        return None if score is None else float(score)

    # -- reads -----------------------------------------------------------------------------------

    def hget(self, key: str, name: str) -> str | None:
        return self.read([("hget", key, name)])[0]  # type: ignore[no-any-return]

    def hgetall(self, key: str) -> dict[str, str]:
        return self.read([("hgetall", key)])[0]  # type: ignore[no-any-return]

    def zcard(self, key: str) -> int:
        return self.read([("zcard", key)])[0]  # type: ignore[no-any-return]

    def zmin(self, key: str) -> tuple[str, float] | None:
        return self.read([("zmin", key)])[0]  # type: ignore[no-any-return]

    def clear(self) -> None:
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start : start + 500])

    def try_lock(self, name: str, seconds: int) -> bool:
        """One process rebuilds the shared figures; the others wait for it to finish."""
        return bool(self.client.set(self._k("lock:" + name), "1", nx=True, ex=seconds))

    def unlock(self, name: str) -> None:
        self.client.delete(self._k("lock:" + name))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _first(value: Any) -> tuple[str, float] | None:
    if not value:
        return None
    member, score = value[0]
    return str(member), float(score)


_READERS: dict[str, Any] = {
    "hget": _text,
    "hgetall": lambda value: {str(k): str(v) for k, v in value.items()},
    "zcard": int,
    "zmin": _first,
}
