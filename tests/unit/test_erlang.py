from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.reporting.erlang import MAX_AGENTS, BeyondCalculator, agents_needed, erlang_c, measure


def test_the_textbook_example():
    # 100 calls per 30 minutes, 180 s handle time, 80 % answered within 20 s.
    s = agents_needed(calls=100, interval_s=1800, aht_s=180, answer_within_s=20, service_level=0.8)
    assert s.traffic_erlangs == 10
    assert s.agents == 14
    assert s.service_level == pytest.approx(0.888, abs=0.001)
    assert s.occupancy == pytest.approx(10 / 14)
    assert measure(10, 13, 180, 20).service_level < 0.8  # one fewer is not enough


def test_erlang_c_reference_values():
    # Published values: A = 10 erlangs.
    assert erlang_c(10, 11) == pytest.approx(0.6821, abs=1e-4)
    assert erlang_c(10, 14) == pytest.approx(0.1741, abs=1e-4)
    assert erlang_c(10, 10) == 1.0


def test_large_call_center_is_stable():
    # 8,000 calls an hour at 5 minutes each: about 667 erlangs, several hundred agents.
    s = agents_needed(calls=8000, interval_s=3600, aht_s=300, answer_within_s=20, service_level=0.9)
    assert 667 < s.agents < 720
    assert 0.9 <= s.service_level < 1 and math.isfinite(s.asa_s)
    assert measure(s.traffic_erlangs, s.agents - 1, 300, 20).service_level < 0.9


def test_occupancy_cap_and_shrinkage():
    s = agents_needed(
        calls=100,
        interval_s=1800,
        aht_s=180,
        answer_within_s=20,
        service_level=0.8,
        max_occupancy=0.65,
        shrinkage=0.3,
    )
    assert s.occupancy <= 0.65 and s.agents == 16
    assert s.scheduled == math.ceil(16 / 0.7)


def test_no_calls_no_agents():
    assert (
        agents_needed(
            calls=0, interval_s=1800, aht_s=180, answer_within_s=20, service_level=0.8
        ).agents
        == 0
    )


@pytest.mark.parametrize(
    "kwargs", [{"service_level": 1.0}, {"aht_s": 0}, {"calls": -1}, {"shrinkage": 1.0}]
)
def test_bad_input(kwargs):
    base = {
        "calls": 10,
        "interval_s": 1800,
        "aht_s": 180,
        "answer_within_s": 20,
        "service_level": 0.8,
    }
    with pytest.raises(ValueError):
        agents_needed(**(base | kwargs))


@given(st.floats(1, 2000), st.floats(30, 900), st.floats(0.5, 0.99))
def test_more_agents_never_hurt(calls, aht, target):
    s = agents_needed(
        calls=calls, interval_s=1800, aht_s=aht, answer_within_s=20, service_level=target
    )
    assert s.service_level >= target
    better = measure(s.traffic_erlangs, s.agents + 1, aht, 20)
    assert better.service_level >= s.service_level and better.asa_s <= s.asa_s


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    ("calls", "aht_s", "interval_s"),
    [(999_999, 86_400, 1), (1_000_000, 3600, 1800), (1e300, 1e300, 1e-300)],
)
def test_traffic_beyond_the_calculator_is_refused_before_any_loop(
    calls: float, aht_s: float, interval_s: float
) -> None:
    """Refused at once: the work grows with the traffic, so it must not start at all."""
    with pytest.raises(BeyondCalculator, match="more than"):
        agents_needed(
            calls=calls, interval_s=interval_s, aht_s=aht_s, answer_within_s=20, service_level=0.8
        )


@pytest.mark.timeout(5)
def test_the_largest_traffic_handled_is_answered() -> None:
    s = agents_needed(
        calls=99_000, interval_s=3600, aht_s=3600, answer_within_s=20, service_level=0.8
    )
    assert 99_000 < s.agents < MAX_AGENTS
