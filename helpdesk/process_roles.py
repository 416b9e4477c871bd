"""What each kind of serving process answers, in the embedded form and in the scaled-out one.

- `web`: everything in one process (pages, API, webhooks and the Socket.IO endpoint). The
  embedded deployment (`make run`, `helpdesk serve`) is this on purpose: one process, no Redis,
  no message queue, reached on any port under any loopback name.
- `api`: the Procfile's `web` line, several gunicorn workers per port. It serves pages, the API
  and the webhooks, and no Socket.IO: several workers behind one port would answer a
  long-polling client's requests from different processes ("Invalid session"). Its events go to
  the Redis queue through a write-only emitter, as a Celery worker's do.
- `sockets`: the Procfile's `sockets` line, one worker with many threads. It serves only the
  Socket.IO endpoint (and `/healthz`, `/metrics` for the operator), so a busy API never holds
  the thread that delivers a screen pop, and thousands of open consoles hold no API thread.

A request that reaches the wrong kind gets a 404 in the API's error format, naming the right one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

SERVING_ROLES = ("web", "api", "sockets")
SOCKETIO_PATH = "/socket.io"
# The sockets process also answers these, so that a load balancer can check it and Prometheus
# can count its connections.
OPERATOR_PATHS = ("/healthz", "/metrics")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _not_here(message: str) -> WSGIApp:
    body = json.dumps({"error": {"code": "not_found", "message": message}}).encode()

    def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(
            "404 NOT FOUND",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return answer


def is_live_path(path: str) -> bool:
    return path == SOCKETIO_PATH or path.startswith(SOCKETIO_PATH + "/")


def live_only(wsgi_app: WSGIApp) -> WSGIApp:
    """The sockets process: what Flask-SocketIO's middleware passes on (anything but
    /socket.io/) is refused, except the operator's paths."""
    refuse = _not_here(
        "this process serves only the live connection (/socket.io/): "
        "pages, the API and the webhooks are on the web processes"
    )

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in OPERATOR_PATHS:
            return wsgi_app(environ, start_response)
        return refuse(environ, start_response)

    return app


def without_live(wsgi_app: WSGIApp) -> WSGIApp:
    """A web process of the scaled-out form: Socket.IO requests are refused at once."""
    refuse = _not_here(
        "the live connection (/socket.io/) is served by the sockets processes, "
        "not by this web process (docs/operations.md)"
    )

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if is_live_path(environ.get("PATH_INFO", "")):
            return refuse(environ, start_response)
        return wsgi_app(environ, start_response)

    return app
