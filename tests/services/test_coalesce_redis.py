"""The dispatch gate on a real Redis: one run at a time, requests folded together, none lost."""

from __future__ import annotations

import contextlib
import threading
import time

import redis

from helpdesk.coalesce import DirectGate, RedisGate


def test_redis_gate_folds_requests_and_loses_none(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    gate = RedisGate(client, prefix="test:gate:")
    running = most = runs = requested = 0
    seen_at_start: list[int] = []
    lock = threading.Lock()

    def job() -> int:
        nonlocal running, most, runs
        with lock:
            running += 1
            most = max(most, running)
            runs += 1
            seen_at_start.append(requested)
        time.sleep(0.02)
        with lock:
            running -= 1
        return 1

    def ask() -> None:
        nonlocal requested
        with lock:
            requested += 1
        gate.run("dispatch", job)

    threads = [threading.Thread(target=ask) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1  # never two at once
    assert 1 <= runs < 40  # requests were folded together
    # No request is lost: the last run started after the last request was made.
    assert seen_at_start[-1] == 40
    assert not client.exists("test:gate:dispatch")  # released
    # A lone request runs at once and reports what the job did.
    assert gate.run("other", lambda: 3) == 3

    def boom() -> int:
        raise RuntimeError("database went away")

    with contextlib.suppress(RuntimeError):
        gate.run("dispatch", boom)
    assert gate.run("dispatch", lambda: 1) == 1  # a failed job frees the gate
    client.close()


def test_direct_gate_runs_each_request() -> None:
    assert DirectGate().run("dispatch", lambda: 2) == 2
