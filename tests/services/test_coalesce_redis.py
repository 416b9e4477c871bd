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


def test_a_holder_under_steady_load_hands_over(redis_url: str) -> None:
    """A holder that keeps finding new requests hands over to a fresh task after its rounds, so
    one worker is not held for ever; the gate it held is released and works for the next."""
    client = redis.Redis.from_url(redis_url)
    gate = RedisGate(client, prefix="test:gate:", max_rounds=3)
    handed: list[bool] = []

    def job() -> int:
        client.set("test:gate:dispatch:again", "1")  # another request, every round
        return 1

    assert gate.run("dispatch", job, requeue=lambda: handed.append(True)) == 3
    assert handed == [True]
    assert not client.exists("test:gate:dispatch")
    assert gate.run("dispatch", lambda: 1) == 1


def test_the_gate_is_released_only_by_its_holder(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    gate = RedisGate(client, prefix="test:gate:")

    def job() -> int:
        # The gate expired meanwhile and another holder took it; a request left its mark.
        client.set("test:gate:dispatch", "someone-else")
        client.set("test:gate:dispatch:again", "1")
        return 1

    assert gate.run("dispatch", job) == 1  # no second round while another holds the gate
    assert client.get("test:gate:dispatch") == b"someone-else"
    assert client.get("test:gate:dispatch:again") == b"1"  # left for the holder to see
    client.delete("test:gate:dispatch", "test:gate:dispatch:again")


def test_a_request_queues_one_run_until_that_run_starts(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.delete("test:gate:dispatch:queued")
    gate = RedisGate(client, prefix="test:gate:")
    sent: list[int] = []
    # A first request sends a task; the next ones, while it waits, need none of their own.
    assert gate.request("dispatch", lambda: sent.append(1)) is True
    assert gate.request("dispatch", lambda: sent.append(2)) is False
    assert gate.request("dispatch", lambda: sent.append(3)) is False
    assert sent == [1]
    # A run going on now is told to go round again, whether or not a task was sent.
    assert client.get("test:gate:dispatch:again") == b"1"
    # Once the queued run starts it may read past a later change: the next request sends again.
    seen: list[bool] = []

    def job() -> int:
        if not seen:  # a change committed during the first round
            seen.append(gate.request("dispatch", lambda: sent.append(4)))
        return 1

    # The run goes round once more for it, and a task was sent all the same.
    assert gate.run("dispatch", job) == 2
    assert seen == [True] and sent == [1, 4]
    # A send that fails leaves no mark behind, so the next request tries again.
    client.delete("test:gate:dispatch:queued")

    def broker_down() -> None:
        raise ConnectionError("broker away")

    with contextlib.suppress(ConnectionError):
        gate.request("dispatch", broker_down)
    assert gate.request("dispatch", lambda: sent.append(5)) is True
    assert sent == [1, 4, 5]
    assert 0 < client.ttl("test:gate:dispatch:queued") <= 10  # never kept for ever
    client.delete("test:gate:dispatch:queued")
    client.close()


def test_direct_gate_sends_each_request() -> None:
    sent: list[int] = []
    assert DirectGate().request("dispatch", lambda: sent.append(1)) is True
    assert DirectGate().request("dispatch", lambda: sent.append(2)) is True
    assert sent == [1, 2]
