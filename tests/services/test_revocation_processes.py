"""A role change or a revocation made in one web process closes the live connections that another
web process holds, through the Redis message queue, at once."""

from __future__ import annotations

import threading
import time

import requests
import socketio

from helpdesk.app import create_app
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from tests.services.test_realtime_processes import _port, _up, _web


class Watched:
    """A real Socket.IO client that records when the server closes it."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.reason: str | None = None
        self.client = socketio.Client(reconnection=False)
        self.client.on("disconnect", self._gone, namespace="/agents")

    def _gone(self, reason: str | None = None) -> None:
        self.reason = reason
        self.closed.set()

    def connect(self, port: int, token: str) -> None:
        self.client.connect(
            f"http://127.0.0.1:{port}",
            namespaces=["/agents"],
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=10,
        )


def test_demotion_and_revocation_close_sockets_held_by_another_process(
    settings, database, redis_url, tmp_path
):
    app = create_app(settings)
    with app.app_context():
        admin = auth.create_user(
            session=db.session, email="adm@example.com", password="long enough pw", role=Role.ADMIN
        )
        supervisor = auth.create_user(
            session=db.session,
            email="sup@example.com",
            password="long enough pw",
            role=Role.SUPERVISOR,
        )
        admin_token = auth.issue_token(session=db.session, user=admin)
        first = auth.issue_token(session=db.session, user=supervisor)
        second = auth.issue_token(session=db.session, user=supervisor)
        supervisor_id = supervisor.id
        db.session.remove()
        db.engine.dispose()
    port_a, port_b = _port(), _port()
    procs = [_web(database.url, redis_url, p, tmp_path) for p in (port_a, port_b)]
    headers = {"Authorization": f"Bearer {admin_token}"}
    sockets = [Watched(), Watched()]
    try:
        _up(port_a)
        _up(port_b)
        sockets[0].connect(port_b, first)
        # 1. Demoted through process A: the socket held by B closes, and may come back.
        started = time.monotonic()
        demoted = requests.patch(
            f"http://127.0.0.1:{port_a}/api/v1/users/{supervisor_id}",
            headers=headers,
            json={"role": "agent"},
            timeout=10,
        )
        assert demoted.status_code == 200, demoted.text
        assert sockets[0].closed.wait(10), "the socket on the other process stayed open"
        assert time.monotonic() - started < 5
        assert sockets[0].reason == socketio.Client.reason.SERVER_DISCONNECT
        sockets[1].connect(port_b, second)
        assert sockets[1].client.connected
        # 2. Tokens revoked through A: the socket opened with one on B closes, and cannot return.
        revoked = requests.delete(
            f"http://127.0.0.1:{port_a}/api/v1/users/{supervisor_id}/tokens",
            headers=headers,
            timeout=10,
        )
        assert revoked.json() == {"ended": 2}, revoked.text
        assert sockets[1].closed.wait(10), "the token's socket on the other process stayed open"
        again = Watched()
        try:
            again.connect(port_b, second)
            reconnected = True
        except socketio.exceptions.ConnectionError:
            reconnected = False
        assert not reconnected
    finally:
        for watched in sockets:
            if watched.client.connected:
                watched.client.disconnect()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
    database.reset()
