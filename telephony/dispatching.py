"""Where the router's dispatch runs once a change commits.

Scaled out, a change made in a web process (a caller queued by the menu webhook, an agent going
available, an offer declined) was handed to a Celery worker: a broker round trip and a worker's
pickup on the path of every screen pop. The dispatch now runs in the process that made the change,
on a background thread, as soon as the transaction has committed and without holding the answer
to Twilio or the agent. The Redis gate (helpdesk.coalesce) still lets one dispatch run at a time
across every process, and a dispatch that fails here is handed to a worker, so no change is left
unseen. Workers, beat and the embedded deployment (where Celery runs tasks in place) keep using
the task; `HELPDESK_DISPATCH_IN_WEB=false` sends web processes' dispatches to workers again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class InlineDispatcher:
    """One background thread per process running dispatches in an application context.

    Requests that arrive while one is waiting to start fold into it (it reads the state after
    all of them committed); a request that arrives while one runs schedules one more, since that
    run may have read the state before the request's commit.
    """

    def __init__(self, app: Any, run: Callable[[], Any], fallback: Callable[[], Any]) -> None:
        self.app = app
        self.run = run
        self.fallback = fallback
        self._lock = threading.Lock()
        self._pending = False
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0

    def request(self) -> None:
        import os

        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                # Created in the process that serves (a preloaded app forks after start-up,
                # and a fork keeps no threads).
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="dispatch")
                self._pid = os.getpid()
                self._pending = False
            if self._pending:
                return
            self._pending = True
            executor = self._executor
        try:
            executor.submit(self._run)
        except RuntimeError:  # shutting down: a worker takes it
            with self._lock:
                self._pending = False
            self.fallback()

    def _run(self) -> None:
        with self._lock:
            self._pending = False
        try:
            with self.app.app_context():
                self.run()
        except Exception:
            log.exception("dispatch in the web process failed; handing it to a worker")
            try:
                self.fallback()
            except Exception:
                log.exception("could not hand the dispatch to a worker; the periodic one will")


def dispatcher_for(app: Any) -> InlineDispatcher:
    """The application's dispatcher, made on first use."""
    found: InlineDispatcher | None = app.extensions.get("inline_dispatcher")
    if found is None:
        from telephony import tasks

        found = InlineDispatcher(app, tasks.dispatch_once, lambda: tasks.dispatch.delay())
        app.extensions["inline_dispatcher"] = found
    return found
