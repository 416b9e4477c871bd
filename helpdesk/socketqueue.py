"""The Socket.IO message queue between processes, on Redis.

Every process on the queue receives every event that any of them publishes. python-socketio's
Redis manager encodes each one for delivery (a JSON dump, and a walk of the payload looking for
binary parts) before it looks for a recipient, so with several web processes each of them pays for
every screen pop, although only the process holding the agent's socket has anyone to deliver it
to. This manager looks first, and drops an event that has no recipient here.

It also closes every connection in a room, in whichever process holds it (python-socketio only
closes one connection by its id): a revoked sign-in or a changed role ends the sockets opened
with it at once, wherever the load balancer sent them.

And it sends the messages of one commit together (`one_round_trip`): a transaction that offers a
call publishes the offer, the caller's screen and the queue's change, and each publish on its
own is a round trip to Redis that the request waits for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import socketio
from celery.signals import before_task_publish
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

_batch = threading.local()


@contextmanager
def one_round_trip() -> Iterator[None]:
    """Hold this thread's publishes on the queue and send them in one pipeline at the end.

    The local delivery to this process's own connections still happens at once; only the
    message to the other processes waits, in order. Nested use joins the outer batch.
    """
    if getattr(_batch, "held", None) is not None:
        yield
        return
    _batch.held = []
    try:
        yield
    finally:
        try:
            send_held()
        finally:
            _batch.held = None


def send_held() -> None:
    """Send what this thread holds now, keeping the batch open (before a task is sent, say,
    whose worker's events must not overtake these)."""
    held: list[tuple[RedisQueue, dict[str, Any] | str]] | None = getattr(_batch, "held", None)
    if not held:
        return
    taken = list(held)
    held.clear()
    start = 0
    for i in range(1, len(taken) + 1):  # consecutive messages of one queue go together
        if i == len(taken) or taken[i][0] is not taken[start][0]:
            taken[start][0].publish_many([data for _queue, data in taken[start:i]])
            start = i


def disconnect_room(server: Any, room: str, namespace: str) -> None:
    """Close every connection in `room`: here, and through the queue in the other processes."""
    manager = server.manager
    if isinstance(manager, socketio.PubSubManager):
        message = {"method": "disconnect", "room": room, "namespace": namespace}
        message["host_id"] = manager.host_id
        if not manager.write_only:
            _disconnect_here(server, room, namespace)
        manager._publish(message)
        return
    _disconnect_here(server, room, namespace)


def _disconnect_here(server: Any, room: str, namespace: str) -> None:
    for sid, _eio_sid in list(server.manager.get_participants(namespace, room)):
        server.disconnect(sid, namespace=namespace, ignore_queue=True)


@contextmanager
def carried_along(pipe: Any, client: Any) -> Iterator[list[Any]]:
    """Put this thread's held publishes first in `pipe`, a fresh pipeline of `client`.

    Other after-commit work (the dispatch gate's mark, the live statistics' reads) then takes
    them along in its own round trip, when `client` talks to the same Redis server (Pub/Sub is
    the server's, whatever the database). Yields what it put there: the caller skips their
    results. Should the connection fail, they are published again on their own, with the
    queue's retry, before the error goes on.
    """
    held: list[tuple[RedisQueue, dict[str, Any] | str]] | None = getattr(_batch, "held", None)
    carried: list[tuple[RedisQueue, dict[str, Any] | str]] = []
    while held and _same_server(held[0][0].redis, client):
        queue, data = held.pop(0)
        pipe.publish(queue.channel, queue.encoded(data))
        carried.append((queue, data))
    try:
        yield carried
    except (RedisConnectionError, RedisTimeoutError):
        for queue, data in carried:
            queue.publish_many([data])
        raise


def _same_server(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    keys = ("host", "port", "path", "username", "password")
    ka, kb = a.connection_pool.connection_kwargs, b.connection_pool.connection_kwargs
    return all(ka.get(k) == kb.get(k) for k in keys)


@before_task_publish.connect
def _before_task_publish(**_kwargs: Any) -> None:
    # A task may emit events of its own in a worker: this thread's held ones go out first, as
    # they would have one by one.
    send_held()


class RedisQueue(socketio.RedisManager):  # type: ignore[misc]
    connected: bool  # set by python-socketio's manager; false once a publish has failed

    def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        """python-socketio's emit, without its walk of the whole payload for binary parts (a
        screen pop is hundreds of values): the JSON text the queue needs anyway is made first,
        and the standard encoder refuses bytes, so a payload it takes has none. One it refuses,
        and an emit with an acknowledgement, go the library's way."""
        if callback is not None or kwargs.get("ignore_queue") or self.json.dumps is not json.dumps:
            return super().emit(event, data, namespace, room, skip_sid, callback, to, **kwargs)
        message = {
            "method": "emit",
            "event": event,
            "data": list(data) if isinstance(data, tuple) else [data],
            "binary": False,
            "namespace": namespace or "/",
            "room": to or room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": self.host_id,
        }
        try:
            text = json.dumps(message)
        except TypeError:
            return super().emit(event, data, namespace, room, skip_sid, callback, to, **kwargs)
        self._handle_emit(message)  # this process's own connections
        self._publish(text)
        return None

    def encoded(self, data: dict[str, Any] | str) -> str:
        return data if isinstance(data, str) else str(self.json.dumps(data))

    def _publish(self, data: dict[str, Any] | str) -> Any:
        held: list[tuple[RedisQueue, dict[str, Any] | str]] | None = getattr(_batch, "held", None)
        if held is None:
            return self.publish_many([data])
        held.append((self, data))
        return None

    def publish_many(self, messages: list[dict[str, Any] | str]) -> None:
        """`_publish` for several messages in one pipeline, with its retry: a dropped
        connection is opened again once, and a second failure is logged, never raised."""
        for retries_left in (1, 0):
            try:
                if not self.connected:
                    self._redis_connect()
                pipe = self.redis.pipeline(transaction=False)
                for data in messages:
                    pipe.publish(self.channel, self.encoded(data))
                pipe.execute()
                return
            except Exception as exc:
                if retries_left:
                    self._get_logger().error(
                        "Cannot publish to redis... retrying", extra={"redis_exception": str(exc)}
                    )
                    self.connected = False
                else:
                    self._get_logger().error(
                        "Cannot publish to redis... giving up", extra={"redis_exception": str(exc)}
                    )

    def _handle_disconnect(self, message: dict[str, Any]) -> None:
        room = message.get("room")
        if isinstance(room, str):
            _disconnect_here(self.server, room, message.get("namespace") or "/")
            return
        super()._handle_disconnect(message)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("callback") is None and not self.has_recipients(
            message.get("namespace") or "/", message.get("room")
        ):
            return
        super()._handle_emit(message)

    def has_recipients(self, namespace: str, room: str | list[str] | None) -> bool:
        """Whether a connection of this process is in `room` (any of them, for a list)."""
        rooms = self.rooms.get(namespace)
        if not rooms:
            return False
        if room is None:  # the whole namespace
            return any(rooms.values())
        names = [room] if isinstance(room, str) else room
        return any(rooms.get(name) for name in names)
