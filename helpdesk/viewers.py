"""Who is looking at a ticket right now, across every web process.

Each socket that watches a ticket is one entry (an agent with two tabs counts once). Entries live
in Redis when scaled out (a hash per ticket, expiring if a process dies without cleaning up) and
in memory otherwise.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

TTL_S = 3600


class Viewers(Protocol):
    def add(self, ticket_id: int, sid: str, user: dict[str, Any]) -> list[dict[str, Any]]: ...

    def remove(self, ticket_id: int, sid: str) -> list[dict[str, Any]]: ...


def _unique(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    for entry in entries:
        seen.setdefault(int(entry["id"]), {"id": int(entry["id"]), "name": entry["name"]})
    return sorted(seen.values(), key=lambda v: str(v["name"]))


class MemoryViewers:
    def __init__(self) -> None:
        self._by_ticket: dict[int, dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def add(self, ticket_id: int, sid: str, user: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            self._by_ticket.setdefault(ticket_id, {})[sid] = user
            return _unique(list(self._by_ticket[ticket_id].values()))

    def remove(self, ticket_id: int, sid: str) -> list[dict[str, Any]]:
        with self._lock:
            entries = self._by_ticket.get(ticket_id, {})
            entries.pop(sid, None)
            if not entries:
                self._by_ticket.pop(ticket_id, None)
            return _unique(list(entries.values()))


class RedisViewers:
    def __init__(self, client: Any) -> None:
        self.redis = client

    @staticmethod
    def _key(ticket_id: int) -> str:
        return f"helpdesk:viewers:ticket:{ticket_id}"

    def _all(self, ticket_id: int) -> list[dict[str, Any]]:
        raw = self.redis.hvals(self._key(ticket_id))
        return _unique([json.loads(v) for v in raw])

    def add(self, ticket_id: int, sid: str, user: dict[str, Any]) -> list[dict[str, Any]]:
        key = self._key(ticket_id)
        pipe = self.redis.pipeline()
        pipe.hset(key, sid, json.dumps(user))
        pipe.expire(key, TTL_S)
        pipe.execute()
        return self._all(ticket_id)

    def remove(self, ticket_id: int, sid: str) -> list[dict[str, Any]]:
        self.redis.hdel(self._key(ticket_id), sid)
        return self._all(ticket_id)


def from_url(redis_url: str) -> Viewers:
    if not redis_url:
        return MemoryViewers()
    import redis

    return RedisViewers(redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2))
