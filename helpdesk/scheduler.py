"""Runs the periodic jobs on a thread when there is no Celery beat (the embedded deployment)."""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery

from helpdesk.celery_app import PERIODIC

log = logging.getLogger(__name__)


class InProcessScheduler:
    def __init__(self, celery: Celery, jobs: dict[str, dict[str, object]] | None = None) -> None:
        self.celery = celery
        self.jobs = PERIODIC if jobs is None else jobs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="helpdesk-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def run_due(self, due: dict[str, float], now: float) -> None:
        for name, job in self.jobs.items():
            if now < due.get(name, 0.0):
                continue
            due[name] = now + float(job["schedule"])  # type: ignore[arg-type]
            try:
                self.celery.tasks[str(job["task"])].apply()
            except Exception:
                log.exception("periodic job %s failed", name)

    def _run(self) -> None:
        # First runs a little after start-up, so a restart does not compete with the first requests.
        due = {name: time.monotonic() + 30.0 for name in self.jobs}
        while not self._stop.wait(1.0):
            self.run_due(due, time.monotonic())
