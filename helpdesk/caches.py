"""Short-lived per-process caches of what nearly every request reads and almost nothing writes:
an API token's owner, the active SLA policies, the webhook subscriptions.

Why: each of those was a SELECT on every request or every new ticket (the token alone 11-25 % of
an API call's server time), for rows that change a few times a day. A cache is only worth having
if it is never wrong for longer than it takes a message to cross Redis, so:

- every cache names the models it is built from (`watch`); the commit of a change to one of them
  (an ORM flush, or an ORM `update()`/`delete()`) clears the cache in this process before the
  commit returns, and in every other process through one Redis pub/sub message;
- a value loaded while an invalidation happened is not kept (a generation count), so a slow load
  that read the old rows cannot overwrite the clear;
- scaled out (a `REDIS_URL`), a process caches only while it listens for those messages: before
  its subscription is confirmed, and whenever the connection is lost, every read goes to the
  database and the caches are emptied;
- entries also expire after a few seconds, a bound on any path that changes rows without the ORM.

Caches belong to one Flask app (tests build an app, and a fresh database, per test).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

log = logging.getLogger(__name__)
V = TypeVar("V")
CHANNEL = "helpdesk:caches"
MAX_ENTRIES = 10_000
_EXTENSION = "helpdesk.caches"
_PENDING = "helpdesk.caches.pending"

# cache name -> its time to live, and model class -> the caches built from it; filled by `watch`.
_TTL: dict[str, float] = {}
_WATCHED: dict[type, set[str]] = {}


class _Cache:
    """One named cache: key -> (expires at, value), with the generation that guards loads."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.entries: dict[Hashable, tuple[float, Any]] = {}
        self.generation = 0
        self.lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        now = time.monotonic()
        hit = self.entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]  # type: ignore[no-any-return]
        generation = self.generation
        value = load()
        with self.lock:
            if generation == self.generation:
                if len(self.entries) >= MAX_ENTRIES:
                    self.entries.clear()
                self.entries[key] = (now + self.ttl_s, value)
        return value

    def clear(self) -> None:
        with self.lock:
            self.generation += 1
            self.entries = {}

    def forget(self, key: Hashable) -> None:
        with self.lock:
            self.entries.pop(key, None)


class Registry:
    """An app's caches, and whether they may be used (always alone; while listening when scaled
    out)."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.caches: dict[str, _Cache] = {}
        self.listening = not redis_url
        self.attached = False

    def cache(self, name: str) -> _Cache:
        found = self.caches.get(name)
        if found is None:
            found = self.caches.setdefault(name, _Cache(_TTL[name]))
        return found

    def clear(self, names: set[str] | None = None) -> None:
        for name in list(self.caches) if names is None else names:
            if name in self.caches:
                self.caches[name].clear()


def watch(name: str, *models: type, ttl_s: float = 30.0) -> None:
    """Declare cache `name`, built from `models`: a committed change to any of them clears it."""
    _TTL[name] = ttl_s
    for model in models:
        _WATCHED.setdefault(model, set()).add(name)


def cached(name: str, key: Hashable, load: Callable[[], V], *, session: Any = None) -> V:
    """`load()`, or what it returned for `key` a moment ago if nothing it reads has changed.

    With the `session` that `load` reads through: while that session holds changes to the
    models the cache is built from (flushed or not), `load` runs and nothing is kept or served,
    since its transaction sees rows no other one does, and may yet roll them back."""
    registry = _registry()
    if registry is None or (session is not None and _changing(session, name)):
        return load()
    if not registry.listening:
        if registry.redis_url and not registry.attached:
            _attach(registry)
        return load()
    return registry.cache(name).get(key, load)


def forget(name: str, key: Hashable) -> None:
    """Drop `key` from this process's cache `name`: after a write of this process that only
    this process's copy must see at once (a sign-in's last use: another process's copy is at
    most a few seconds old, and the worst it does is write the same thing again)."""
    registry = _registry()
    if registry is not None and name in registry.caches:
        registry.caches[name].forget(key)


def init_app(app: Flask, *, redis_url: str) -> None:
    registry = Registry(redis_url)
    app.extensions[_EXTENSION] = registry
    _REGISTRIES.add(registry)


def _registry() -> Registry | None:
    if not has_app_context():
        return None
    found: Registry | None = current_app.extensions.get(_EXTENSION)
    return found


# -- invalidation on commit ------------------------------------------------------------------------


def _changing(session: Any, name: str) -> bool:
    if name in session.info.get(_PENDING, ()):
        return True
    return name in _names_of([*session.new, *session.dirty, *session.deleted])


def _note(session: Session, names: set[str]) -> None:
    if names:
        session.info.setdefault(_PENDING, set()).update(names)


def _names_of(instances: Any) -> set[str]:
    names: set[str] = set()
    for obj in instances:
        for model, caches in _WATCHED.items():
            if isinstance(obj, model):
                names |= caches
    return names


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if _WATCHED:
        _note(session, _names_of([*session.new, *session.dirty, *session.deleted]))


@event.listens_for(Session, "do_orm_execute")
def _bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        _note(state.session, set(_WATCHED.get(state.bind_mapper.class_, set())))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    names = session.info.pop(_PENDING, None)
    if names:
        invalidate(names)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        names = session.info.pop(_PENDING, None)
        registry = _registry() if names else None
        if registry is not None:
            # A read inside the transaction may have cached its uncommitted rows: here only, as
            # no other process could see them.
            registry.clear(names)


def invalidate(names: set[str]) -> None:
    """Clear `names` here at once, and in every other process through Redis."""
    registry = _registry()
    if registry is None:
        return
    registry.clear(names)
    if registry.redis_url:
        try:
            _publish(registry.redis_url, names)
        except (OSError, RedisError):  # the listeners clear everything when they reconnect
            log.warning("cache invalidation of %s not published", sorted(names), exc_info=True)


# -- the Redis side ------------------------------------------------------------------------------


class _Listener:
    """One subscriber thread per process and Redis URL, clearing every app's caches it is told
    of; while it is not subscribed those apps do not cache at all."""

    def __init__(self, redis_url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        # The subscriber waits for messages as long as there are none: no read timeout, a
        # keep-alive and a periodic PING to notice a dead connection instead.
        self.subscriber = redis.Redis.from_url(
            redis_url, socket_connect_timeout=2, socket_keepalive=True, health_check_interval=15
        )
        self.subscribed = False
        self.registries: weakref.WeakSet[Registry] = weakref.WeakSet()
        self.thread = threading.Thread(target=self._run, name="cache-invalidation", daemon=True)
        self.thread.start()

    def add(self, registry: Registry) -> None:
        registry.attached = True
        registry.listening = self.subscribed
        self.registries.add(registry)

    def publish(self, names: set[str]) -> None:
        self.redis.publish(CHANNEL, ",".join(sorted(names)))

    def _set(self, listening: bool) -> None:
        self.subscribed = listening
        for registry in list(self.registries):
            registry.clear()
            registry.listening = listening

    def _run(self) -> None:
        import redis

        while True:
            pubsub = self.subscriber.pubsub()
            try:
                pubsub.subscribe(CHANNEL)
                for message in pubsub.listen():  # type: ignore[no-untyped-call]
                    if message["type"] == "subscribe":
                        self._set(True)
                    elif message["type"] == "message":
                        names = set(message["data"].decode().split(","))
                        for registry in list(self.registries):
                            registry.clear(names)
            except (redis.RedisError, OSError):
                log.info("cache invalidation channel lost; caches off until it is back")
            finally:
                self._set(False)
                pubsub.close()
            time.sleep(1.0)


_LISTENERS: dict[str, _Listener] = {}
_LISTENERS_LOCK = threading.Lock()
_REGISTRIES: weakref.WeakSet[Registry] = weakref.WeakSet()


def _attach(registry: Registry) -> None:
    """Start (once per process) the listener that keeps `registry` honest."""
    with _LISTENERS_LOCK:
        found = _LISTENERS.get(registry.redis_url)
        if found is None:
            found = _LISTENERS[registry.redis_url] = _Listener(registry.redis_url)
        found.add(registry)


def _publish(redis_url: str, names: set[str]) -> None:
    with _LISTENERS_LOCK:
        found = _LISTENERS.get(redis_url)
    if found is not None:
        found.publish(names)
    else:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).publish(
            CHANNEL, ",".join(sorted(names))
        )


def _after_fork() -> None:
    """A forked child (a Celery pool process) has no listener thread: it starts its own on its
    first read, and caches nothing until that one is subscribed."""
    global _LISTENERS_LOCK
    _LISTENERS_LOCK = threading.Lock()
    _LISTENERS.clear()
    for registry in list(_REGISTRIES):
        registry.clear()
        registry.attached = False
        registry.listening = not registry.redis_url


os.register_at_fork(after_in_child=_after_fork)
