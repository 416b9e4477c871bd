"""`helpdesk serve`: the embedded deployment on gunicorn, the server the Procfile runs.

One gthread worker process serving pages, API and the live connection (`helpdesk.wsgi:app`'s
form; the Procfile splits them into `web` and `sockets` processes, helpdesk.process_roles):
Flask-SocketIO's threading mode holds a thread per websocket, and a single process needs no
message queue between workers, so the embedded form runs without Redis. The app is
built in the worker (not the arbiter), so the in-process scheduler's thread lives where the
tasks run. The address and the demo logins are printed once the worker has loaded the app, so
they are the last thing an operator sees and the address answers when they read it.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

DEFAULT_THREADS = 256


def gunicorn_options(*, host: str, port: int, threads: int | None = None) -> dict[str, Any]:
    """The one-process form's gunicorn settings, with a log kept to what an operator needs."""
    return {
        "bind": f"{host}:{port}",
        "worker_class": "gthread",
        "workers": 1,
        "threads": threads or int(os.environ.get("WEB_THREADS", DEFAULT_THREADS)),
        "control_socket_disable": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        # Open websockets would otherwise hold Ctrl-C for the default 30 s.
        "graceful_timeout": 3,
    }


class EmbeddedServer(BaseApplication):  # type: ignore[misc]
    """gunicorn run from Python: `factory` builds the app in the worker, `ready` runs after."""

    def __init__(
        self,
        factory: Callable[[], Flask],
        options: dict[str, Any],
        *,
        ready: Callable[[Flask], None] | None = None,
    ) -> None:
        self.factory = factory
        self.options = options
        self.ready = ready
        self.app: Flask | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_worker_init", self._post_worker_init)

    def load(self) -> Flask:
        self.app = self.factory()
        gc.freeze()  # as in helpdesk.wsgi: long-lived start-up objects out of the collector's way
        return self.app

    def _post_worker_init(self, worker: Any) -> None:
        if self.ready is not None and self.app is not None:
            self.ready(self.app)
