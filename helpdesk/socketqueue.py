"""The Socket.IO message queue between processes, on Redis.

Every process on the queue receives every event that any of them publishes. python-socketio's
Redis manager encodes each one for delivery (a JSON dump, and a walk of the payload looking for
binary parts) before it looks for a recipient, so with several web processes each of them pays for
every screen pop, although only the process holding the agent's socket has anyone to deliver it
to. This manager looks first, and drops an event that has no recipient here.

It also closes every connection in a room, in whichever process holds it (python-socketio only
closes one connection by its id): a revoked sign-in or a changed role ends the sockets opened
with it at once, wherever the load balancer sent them.
"""

from __future__ import annotations

from typing import Any

import socketio


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


class RedisQueue(socketio.RedisManager):  # type: ignore[misc]
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
