"""The Redis store of the live statistics, shared by every web process and worker.

Each write is one native Redis command (HINCRBYFLOAT, HSET, ZADD, ZREM...), so concurrent
processes add to the same counters without losing updates. Keys carry a prefix so that several
deployments (or test runs) can share a Redis database.

A transaction's log entries change several counters at once, and only if the last rebuild has not
counted them already (the watermark): one script reads the watermark and makes the writes of the
entries above it, atomically, so a wallboard never reads half an event and the commit costs one
round trip (which also carries the commit's held events), not a read and then a MULTI/EXEC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpdesk.socketqueue import carried_along
from helpdesk.supervision.livestats import Write

# KEYS[1] is the meta hash; ARGV holds, for each entry, its id, its number of writes and the
# writes (an operation, the index of its key in KEYS, its arguments; `zmove` names two keys).
# Returns the ids of the entries above the watermark, whose writes were made. Counters always
# take HINCRBYFLOAT: a field that once took a fraction (a wait, a talk time) refuses HINCRBY.
_APPLY = """
local mark = tonumber(redis.call('hget', KEYS[1], 'watermark')) or 0
local applied = {}
local i = 1
while i <= #ARGV do
  local id, n = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local go = id > mark
  if go then applied[#applied + 1] = id end
  i = i + 2
  for _ = 1, n do
    local op, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
    if op == 'zrem' then
      if go then redis.call('zrem', key, ARGV[i + 2]) end
      i = i + 3
    elseif op == 'zmove' then
      if go then
        local score = redis.call('zscore', key, ARGV[i + 2]) or ARGV[i + 4]
        redis.call('zrem', key, ARGV[i + 2])
        redis.call('zadd', KEYS[tonumber(ARGV[i + 3])], score, ARGV[i + 2])
      end
      i = i + 5
    else
      if go then
        if op == 'hincr' then
          redis.call('hincrbyfloat', key, ARGV[i + 2], ARGV[i + 3])
        elseif op == 'hset' then
          redis.call('hset', key, ARGV[i + 2], ARGV[i + 3])
        else
          redis.call('zadd', key, ARGV[i + 3], ARGV[i + 2])
        end
      end
      i = i + 4
    end
  end
end
return applied
"""


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

    # -- writes ----------------------------------------------------------------------------------

    def apply_entries(self, entries: Sequence[tuple[int, Sequence[Write]]]) -> list[int]:
        keys: dict[str, int] = {self._k("meta"): 1}

        def index(key: str) -> int:
            return keys.setdefault(self._k(key), len(keys) + 1)

        args: list[Any] = []
        for entry_id, writes in entries:
            args += (entry_id, len(writes))
            for op, key, *rest in writes:
                if op == "zmove":  # key, member, to, score
                    args += (op, index(key), rest[0], index(rest[1]), rest[2])
                else:
                    args += (op, index(key), *rest)
        pipe = self.client.pipeline(transaction=False)
        with carried_along(pipe, self.client) as carried:  # a commit's held events ride along
            pipe.eval(_APPLY, len(keys), *keys, *args)
            applied = pipe.execute()[len(carried)]
        return [int(i) for i in applied]

    def hset(self, key: str, name: str, value: str) -> None:
        self.client.hset(self._k(key), name, value)

    # -- reads -----------------------------------------------------------------------------------

    def read(self, reads: Sequence[tuple[str, ...]]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        with carried_along(pipe, self.client) as carried:  # a commit's held events ride along
            for op, key, *args in reads:
                if op == "zmin":
                    pipe.zrange(self._k(key), 0, 0, withscores=True)
                else:
                    getattr(pipe, op)(self._k(key), *args)
            raw = pipe.execute()[len(carried) :]
        return [_READERS[op](value) for (op, *_), value in zip(reads, raw, strict=True)]

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
