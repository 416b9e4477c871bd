"""The Redis store of the live statistics, shared by every web process and worker.

Each operation is one native Redis command (HINCRBYFLOAT, HSET, ZADD, ZREM...), so concurrent
processes add to the same counters without losing updates. Keys carry a prefix so that several
deployments (or test runs) can share a Redis database.
"""

from __future__ import annotations

from typing import Any


class RedisStore:
    def __init__(self, client: Any, prefix: str = "helpdesk:live:") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "helpdesk:live:") -> RedisStore:
        import redis

        return cls(redis.Redis.from_url(url, decode_responses=True, socket_timeout=5), prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def hincr(self, key: str, name: str, amount: float) -> None:
        # Always the float form: a field that once took a fraction (a wait, a talk time)
        # refuses HINCRBY afterwards.
        self.client.hincrbyfloat(self._k(key), name, amount)

    def hget(self, key: str, name: str) -> str | None:
        value = self.client.hget(self._k(key), name)
        return None if value is None else str(value)

    def hset(self, key: str, name: str, value: str) -> None:
        self.client.hset(self._k(key), name, value)

    def hgetall(self, key: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.client.hgetall(self._k(key)).items()}

    def zadd(self, key: str, member: str, score: float) -> None:
        self.client.zadd(self._k(key), {member: score})

    def zpop(self, key: str, member: str) -> float | None:
        pipe = self.client.pipeline()
        pipe.zscore(self._k(key), member)
        pipe.zrem(self._k(key), member)
        score, _removed = pipe.execute()
        return None if score is None else float(score)

    def zcard(self, key: str) -> int:
        return int(self.client.zcard(self._k(key)))

    def zmin(self, key: str) -> tuple[str, float] | None:
        first = self.client.zrange(self._k(key), 0, 0, withscores=True)
        if not first:
            return None
        member, score = first[0]
        return str(member), float(score)

    def clear(self) -> None:
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start : start + 500])

    def try_lock(self, name: str, seconds: int) -> bool:
        """One process rebuilds the shared figures; the others wait for it to finish."""
        return bool(self.client.set(self._k("lock:" + name), "1", nx=True, ex=seconds))

    def unlock(self, name: str) -> None:
        self.client.delete(self._k("lock:" + name))
