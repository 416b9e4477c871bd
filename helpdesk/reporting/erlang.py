"""Erlang C staffing: how many agents an interval needs to answer its calls in time.

Pure and numerically stable for large call centers: the Erlang B recursion
`B(n) = A·B(n-1) / (n + A·B(n-1))` never forms the factorials and powers of the textbook formula,
so hundreds of agents and thousands of erlangs stay exact in floating point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 100_000


class BeyondCalculator(ValueError):
    """The offered traffic needs more agents than the calculator handles.

    Raised before any loop: the work grows with the traffic (one Erlang B step per agent), so a
    request for 10^10 erlangs must be refused at once, not after minutes of arithmetic.
    """


@dataclass(frozen=True)
class Staffing:
    agents: int  # agents answering (before shrinkage)
    scheduled: int  # agents to schedule, once shrinkage is accounted for
    traffic_erlangs: float
    service_level: float  # share of calls answered within the target time
    asa_s: float  # average speed of answer
    occupancy: float
    p_wait: float  # probability that a call waits (Erlang C)


def erlang_b(traffic: float, agents: int) -> float:
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that a call has to wait; 1 when the agents cannot keep up."""
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


def measure(traffic: float, agents: int, aht_s: float, answer_within_s: float) -> Staffing:
    p_wait = erlang_c(traffic, agents)
    if agents <= traffic:
        return Staffing(agents, agents, traffic, 0.0, math.inf, 1.0, 1.0)
    sl = 1 - p_wait * math.exp(-(agents - traffic) * answer_within_s / aht_s)
    asa = p_wait * aht_s / (agents - traffic)
    return Staffing(agents, agents, traffic, sl, asa, traffic / agents, p_wait)


def agents_needed(
    *,
    calls: float,
    interval_s: float,
    aht_s: float,
    answer_within_s: float,
    service_level: float,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
) -> Staffing:
    """The fewest agents meeting the service level (and the occupancy cap) for an interval."""
    if calls < 0 or interval_s <= 0 or aht_s <= 0 or answer_within_s < 0:
        raise ValueError("calls >= 0, interval_s > 0, aht_s > 0, answer_within_s >= 0")
    if not 0 < service_level < 1 or not 0 < max_occupancy <= 1 or not 0 <= shrinkage < 1:
        raise ValueError("service_level in (0, 1), max_occupancy in (0, 1], shrinkage in [0, 1)")
    traffic = calls * aht_s / interval_s
    if traffic >= MAX_AGENTS * max_occupancy or not math.isfinite(traffic):
        raise BeyondCalculator(
            f"{traffic:.0f} erlangs of traffic needs more than {MAX_AGENTS} agents, "
            "more than this calculator handles"
        )
    if traffic == 0:
        return Staffing(0, 0, 0.0, 1.0, 0.0, 0.0, 0.0)
    agents = max(1, math.floor(traffic) + 1, math.ceil(traffic / max_occupancy))
    if agents > MAX_AGENTS:  # refused at once: the recursion below would run `agents` steps
        raise ValueError("more agents than this calculator handles")
    b = erlang_b(traffic, agents - 1)
    while agents <= MAX_AGENTS:
        b = traffic * b / (agents + traffic * b)  # B(agents) from B(agents - 1)
        p_wait = agents * b / (agents - traffic * (1 - b))
        sl = 1 - p_wait * math.exp(-(agents - traffic) * answer_within_s / aht_s)
        if sl >= service_level:
            scheduled = math.ceil(agents / (1 - shrinkage) - 1e-9)
            return Staffing(
                agents,
                scheduled,
                traffic,
                sl,
                p_wait * aht_s / (agents - traffic),
                traffic / agents,
                p_wait,
            )
        agents += 1
    raise BeyondCalculator("more agents than this calculator handles")
