"""The web process's own dispatcher (telephony/dispatching.py): requests fold into a waiting
run, a request during a run gets one more, and a failure is handed to the workers."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from typing import Any

from telephony.dispatching import InlineDispatcher


class App:
    def app_context(self) -> Any:
        return nullcontext()


def wait_idle(d: InlineDispatcher) -> None:
    assert d._executor is not None
    d._executor.submit(lambda: None).result(timeout=5)


def test_requests_made_while_a_run_waits_fold_into_it() -> None:
    gate = threading.Event()
    runs: list[int] = []

    def run() -> None:
        gate.wait(5)
        runs.append(1)

    d = InlineDispatcher(App(), run, fallback=lambda: None)
    d.request()  # starts, and blocks on the gate
    for _ in range(10):
        d.request()  # one more run, waiting
    gate.set()
    wait_idle(d)
    assert len(runs) == 2


def test_a_request_during_a_run_gets_a_run_of_its_own() -> None:
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def run() -> None:
        runs.append(1)
        if len(runs) == 1:
            started.set()
            release.wait(5)

    d = InlineDispatcher(App(), run, fallback=lambda: None)
    d.request()
    assert started.wait(5)
    d.request()  # the running one may have read the state before this change
    release.set()
    wait_idle(d)
    assert len(runs) == 2


def test_a_failed_run_is_handed_to_the_workers() -> None:
    handed: list[int] = []

    def run() -> None:
        raise RuntimeError("database gone")

    d = InlineDispatcher(App(), run, fallback=lambda: handed.append(1))
    d.request()
    wait_idle(d)
    assert handed == [1]
