"""Wallboard pushes are folded per agent and queue: the first change goes out at once, the rest
of an interval's changes in one push at its end, carrying the figures as they are then."""

from __future__ import annotations

import time
from typing import Any

import pytest

from helpdesk.extensions import db
from helpdesk.supervision import calllog, live
from helpdesk.supervision.throttle import MAX_KEYS, PushThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _throttle(interval: float = 0.5) -> tuple[PushThrottle, Clock, list[Any], list[Any]]:
    clock, pushed, scheduled = Clock(), [], []
    throttle = PushThrottle(
        interval,
        lambda key, value: pushed.append((key, value)),
        clock=clock,
        schedule=lambda delay, fn: scheduled.append(delay),
    )
    return throttle, clock, pushed, scheduled


def test_the_first_change_goes_at_once_and_the_rest_wait_for_one_push():
    throttle, clock, pushed, scheduled = _throttle()
    assert throttle.touch("q", 1) is True
    clock.now += 0.1
    assert throttle.touch("q", 2) is False
    assert throttle.touch("q", 3) is False
    clock.now += 0.05
    assert throttle.touch("a", 1) is True  # another key is not held back by the first
    assert throttle.touch("a", 2) is False
    assert pushed == [("q", 1), ("a", 1)]
    assert scheduled == [pytest.approx(0.4)]  # one timer, due when "q" may go again
    assert throttle.pending() == 2
    clock.now += 0.35
    assert throttle.flush() == 2
    assert pushed[2:] == [("q", 3), ("a", 2)]  # the latest value of each
    assert throttle.pending() == 0 and throttle.flush() == 0
    # Just pushed by the timer: the next change waits again, after a quiet interval it goes.
    assert throttle.touch("q", 4) is False and len(scheduled) == 2
    throttle.flush()
    clock.now += 0.5
    assert throttle.touch("q", 5) is True
    assert [v for k, v in pushed if k == "q"] == [1, 3, 4, 5]


def test_no_interval_pushes_every_change():
    throttle, _clock, pushed, scheduled = _throttle(0.0)
    for n in range(3):
        assert throttle.touch("q", n) is True
    assert [v for _, v in pushed] == [0, 1, 2] and scheduled == []


def test_the_remembered_keys_are_bounded():
    throttle, _clock, _pushed, _ = _throttle()
    for n in range(MAX_KEYS + 10):
        throttle.touch(("agent", n), n)
    assert len(throttle._last) == MAX_KEYS
    assert throttle.touch(("agent", 0), "again") is True  # forgotten: pushed at once


def test_a_burst_of_calls_pushes_the_queue_twice_with_the_final_figures(app, recorded):
    stats = live.current()
    stats.throttle.interval_s = 1.0  # far longer than six commits take
    stats.ensure_loaded(db.session)
    recorded.clear()
    for i in range(6):
        calllog.record(db.session, "entered", call_id=900 + i, queue="support")
        db.session.commit()
    queue_pushes = recorded.named("wallboard.queue")
    assert [e.payload["entered"] for e in queue_pushes] == [1]
    deadline = time.monotonic() + 30  # a bound for a hung timer only
    while len(recorded.named("wallboard.queue")) < 2:
        assert time.monotonic() < deadline, "the folded changes were never pushed"
        time.sleep(0.02)
    assert stats.throttle.pending() == 0  # nothing left to push: no third push can follow
    pushed = recorded.named("wallboard.queue")
    assert [e.payload["entered"] for e in pushed] == [1, 6]
    assert all(e.rooms == ("supervisors",) for e in pushed)
