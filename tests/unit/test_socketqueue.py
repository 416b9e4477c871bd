"""The Redis queue's manager delivers what python-socketio's does, and encodes nothing for an
event nobody in this process is to receive."""

from __future__ import annotations

from typing import Any

import pytest
import socketio
from socketio import packet

from helpdesk.socketqueue import RedisQueue

NS = "/agents"


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> tuple[RedisQueue, list[Any], list[Any]]:
    # Nothing here talks to Redis: messages are handed to the manager as its listener would.
    server = socketio.Server(client_manager=RedisQueue("redis://127.0.0.1:1/0", channel="t"))
    manager: RedisQueue = server.manager
    sent: list[Any] = []
    encoded: list[Any] = []
    monkeypatch.setattr(server, "_send_eio_packet", lambda eio_sid, pkt: sent.append(eio_sid))
    original = packet.Packet.encode

    def encode(self: packet.Packet) -> Any:
        encoded.append(self.data)
        return original(self)

    monkeypatch.setattr(packet.Packet, "encode", encode)
    for eio_sid, rooms in (("eio-1", ["user:1", "role:agent"]), ("eio-2", ["user:2"])):
        sid = manager.connect(eio_sid, NS)
        for room in rooms:
            manager.enter_room(sid, NS, room, eio_sid=eio_sid)
    return manager, sent, encoded


def _message(room: str | list[str] | None, namespace: str = NS) -> dict[str, Any]:
    return {
        "method": "emit",
        "event": "e",
        "data": [{"n": 1}],
        "namespace": namespace,
        "room": room,
    }


def test_an_event_for_nobody_here_is_not_encoded(
    queue: tuple[RedisQueue, list[Any], list[Any]],
) -> None:
    manager, sent, encoded = queue
    manager._handle_emit(_message("user:3"))
    manager._handle_emit(_message(["user:3", "role:supervisor"]))
    manager._handle_emit(_message(None, namespace="/other"))
    assert sent == [] and encoded == []


def test_recipients_here_get_the_event_once_whatever_rooms_they_share(
    queue: tuple[RedisQueue, list[Any], list[Any]],
) -> None:
    manager, sent, encoded = queue
    manager._handle_emit(_message("user:2"))
    assert sent == ["eio-2"]
    sent.clear()
    manager._handle_emit(_message(["user:1", "role:agent", "user:3"]))
    assert sent == ["eio-1"]  # in two of the rooms, delivered once
    sent.clear()
    manager._handle_emit(_message(None))  # the whole namespace
    assert sorted(sent) == ["eio-1", "eio-2"]
    assert len(encoded) == 3  # once per event, not per recipient


def test_a_room_emptied_by_leaving_counts_as_nobody(
    queue: tuple[RedisQueue, list[Any], list[Any]],
) -> None:
    manager, sent, encoded = queue
    sid = next(s for s, e in manager.get_participants(NS, "user:2"))
    manager.leave_room(sid, NS, "user:2")
    assert not manager.has_recipients(NS, "user:2")
    manager._handle_emit(_message("user:2"))
    assert sent == [] and encoded == []


def test_an_emit_sends_the_librarys_message_without_walking_the_payload_for_bytes(
    queue: tuple[RedisQueue, list[Any], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message other processes receive is python-socketio's own; a JSON payload for
    nobody here (a worker's screen pop) is not walked for binary parts, and one with bytes
    still goes as the library sends it."""
    import json

    manager, sent, _encoded = queue
    published: list[Any] = []
    monkeypatch.setattr(manager, "publish_many", lambda messages: published.extend(messages))
    walked: list[Any] = []
    is_binary = packet.Packet.data_is_binary
    monkeypatch.setattr(
        packet.Packet,
        "data_is_binary",
        classmethod(lambda cls, d: walked.append(d) or is_binary(d)),
    )
    payload = {"call": {"id": 7, "history": [{"kind": "call", "summary": "<b>hi</b>"}] * 50}}
    manager.emit("call.offer", payload, NS, room="user:3", ignore_queue=False)
    assert walked == [] and sent == []
    assert json.loads(published[0]) == {
        "method": "emit",
        "event": "call.offer",
        "data": [payload],
        "binary": False,
        "namespace": NS,
        "room": "user:3",
        "skip_sid": None,
        "callback": None,
        "host_id": manager.host_id,
    }
    manager.emit("file", {"raw": b"\x00\x01"}, NS, room="user:2", ignore_queue=False)
    assert walked and set(sent) == {"eio-2"}  # the packet and its attachment
    assert published[1]["binary"] is True  # the library's own message, with its attachment
