"""The routing decision, as pure logic: which waiting call goes to which available agent.

No Flask, no Twilio, no database: the service hands in snapshots and applies the answer with an
atomic claim, so the same decision can be tested, benchmarked and replayed on its own.

Queues require skills (with a minimum level) and a language. A call's requirements relax as it
waits, in the manner of Twilio TaskRouter workflow targets: after each escalation step's delay the
minimum levels drop or the call may also go to an overflow queue's agents. Calls are served by
priority (customer value, an SLA at risk, callbacks), then by time waited; among qualified agents
the strategy picks one.

An agent who declines a call (or lets it ring out) passes it to the others: it goes to the free
qualified agents who have not declined it first. With none of those free, it comes back to one
who declined it, once they have been free for a short back-off, so a caller (or a callback) is
never left waiting while an agent who could take it sits available.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from helpdesk.customers.phones import region_of

# Callers from these regions hear French first (and are recorded as French speakers).
FRENCH_REGIONS = frozenset(
    {"FR", "BE", "CH", "LU", "MC", "RE", "GP", "MQ", "GF", "YT", "PM", "NC", "PF"}
)


def language_for(number: str) -> str:
    """The language a new caller or texter is served in, from their number's region."""
    return "fr" if region_of(number) in FRENCH_REGIONS else "en"


class Strategy(enum.StrEnum):
    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS = "fewest_calls"
    ROUND_ROBIN = "round_robin"


class AgentState(enum.StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"  # an offer is ringing on their console
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"


@dataclass(frozen=True)
class EscalationStep:
    """After `after_s` seconds of waiting: lower every required level by `level_drop`, and/or
    let agents of `overflow_queue` take the call."""

    after_s: int
    level_drop: int = 0
    overflow_queue: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    name: str
    skills: Mapping[str, int]  # skill -> minimum level
    language: str | None = None
    strategy: Strategy = Strategy.LONGEST_IDLE
    steps: tuple[EscalationStep, ...] = ()


@dataclass(frozen=True)
class AgentView:
    id: int
    skills: Mapping[str, int]
    languages: frozenset[str]
    state: AgentState
    idle_since: datetime | None = None  # when they last became available
    calls_today: int = 0
    last_offered_at: datetime | None = None


@dataclass(frozen=True)
class WaitingCall:
    id: int
    queue: str
    enqueued_at: datetime
    priority: int = 0  # higher first
    language: str | None = None
    declined_by: frozenset[int] = field(default_factory=frozenset)


# Priority boosts, documented in docs/telephony.md.
SEGMENT_PRIORITY = {"best": 30, "growing": 15, "standard": 0, "at_risk": 20, "costly": -5}
SLA_AT_RISK_PRIORITY = 25
CALLBACK_PRIORITY = 10
# A valuable customer likely to leave goes ahead: up to this many points, scaled by the churn
# model's risk and by the CLV's percentile (docs/customer-models.md). Risk 0.8 at the 90th
# percentile: 22 points, about the "at risk" segment's 20 which the model refines.
VALUE_AT_RISK_PRIORITY = 30
# Seconds an agent who declined a call stays free before it may be offered to them again
# (`HELPDESK_REOFFER_BACKOFF_S`).
REOFFER_AFTER_S = 5.0


def value_at_risk_points(churn_risk: float | None, clv_percentile: float | None) -> int:
    """The customer models' share of the priority: none without a churn model (the segment's
    rule already counts), else risk * CLV percentile * `VALUE_AT_RISK_PRIORITY`."""
    if churn_risk is None or clv_percentile is None:
        return 0
    risk = min(max(churn_risk, 0.0), 1.0)
    share = min(max(clv_percentile, 0.0), 100.0) / 100.0
    return round(VALUE_AT_RISK_PRIORITY * risk * share)


def call_priority(
    *,
    segment: str | None,
    sla_at_risk: bool,
    callback: bool,
    vip: bool,
    churn_risk: float | None = None,
    clv_percentile: float | None = None,
) -> int:
    score = SEGMENT_PRIORITY.get(segment or "standard", 0)
    score += value_at_risk_points(churn_risk, clv_percentile)
    if vip:
        score += 40
    if sla_at_risk:
        score += SLA_AT_RISK_PRIORITY
    if callback:
        score += CALLBACK_PRIORITY
    return score


def effective_requirements(
    queue: QueueSpec, waited_s: float, queues: Mapping[str, QueueSpec]
) -> tuple[dict[str, int], set[str]]:
    """The skill levels a call still needs after waiting `waited_s`, and the queues whose
    agents may take it (its own plus overflows reached)."""
    drop = 0
    eligible = {queue.name}
    for step in queue.steps:
        if waited_s >= step.after_s:
            drop += step.level_drop
            if step.overflow_queue and step.overflow_queue in queues:
                eligible.add(step.overflow_queue)
    return {s: max(1, lvl - drop) for s, lvl in queue.skills.items()}, eligible


def qualifies(agent: AgentView, skills: Mapping[str, int], language: str | None) -> bool:
    if language and language not in agent.languages:
        return False
    return all(agent.skills.get(skill, 0) >= level for skill, level in skills.items())


def _requirements(
    call: WaitingCall, queues: Mapping[str, QueueSpec], waited_s: float
) -> list[tuple[Mapping[str, int], str | None]]:
    """The alternative (skills, language) an agent must meet to take the call now: the call's
    queue, relaxed for the time waited, then each overflow queue reached."""
    queue = queues[call.queue]
    skills, eligible = effective_requirements(queue, waited_s, queues)
    language = call.language or queue.language
    alternatives: list[tuple[Mapping[str, int], str | None]] = [(skills, language)]
    for name in sorted(eligible - {queue.name}):
        over = queues[name]
        alternatives.append((over.skills, language or over.language))
    return alternatives


def _meets(agent: AgentView, alternatives: list[tuple[Mapping[str, int], str | None]]) -> bool:
    return any(qualifies(agent, skills, language) for skills, language in alternatives)


def _qualified_for(
    agent: AgentView, call: WaitingCall, queues: Mapping[str, QueueSpec], waited_s: float
) -> bool:
    return _meets(agent, _requirements(call, queues, waited_s))


def _rank(agent: AgentView, strategy: Strategy) -> tuple[float, ...]:
    idle = agent.idle_since.timestamp() if agent.idle_since else float("-inf")
    if strategy is Strategy.FEWEST_CALLS:
        return (agent.calls_today, idle, agent.id)
    if strategy is Strategy.ROUND_ROBIN:
        # Remembers whom it offered to last: the agent offered to longest ago goes next.
        last = agent.last_offered_at.timestamp() if agent.last_offered_at else float("-inf")
        return (last, agent.id)
    return (idle, agent.id)  # longest idle: the earliest idle_since first


def order_calls(calls: Iterable[WaitingCall]) -> list[WaitingCall]:
    return sorted(calls, key=lambda c: (-c.priority, c.enqueued_at, c.id))


def _may_reoffer(agent: AgentView, now: datetime, reoffer_after_s: float) -> bool:
    """Whether a call this agent declined may come back to them: once they have been free for
    the back-off (a decline frees the agent, so their idle time starts at the decline)."""
    if agent.idle_since is None:
        return True
    return (now - agent.idle_since).total_seconds() >= reoffer_after_s


def choose_agent(
    call: WaitingCall,
    agents: Sequence[AgentView],
    queues: Mapping[str, QueueSpec],
    now: datetime,
    *,
    reoffer_after_s: float = REOFFER_AFTER_S,
) -> AgentView | None:
    """The agent this call should be offered to now, or None if nobody qualified is free.

    Those who have not declined it come first; when none of them is free, one who declined it
    and has been free for `reoffer_after_s` gets it again."""
    # The requirements once per decision, not once per agent.
    alternatives = _requirements(call, queues, (now - call.enqueued_at).total_seconds())
    strategy = queues[call.queue].strategy
    qualified = [a for a in agents if a.state is AgentState.AVAILABLE and _meets(a, alternatives)]
    candidates = [a for a in qualified if a.id not in call.declined_by]
    if not candidates:
        candidates = [a for a in qualified if _may_reoffer(a, now, reoffer_after_s)]
    if not candidates:
        return None
    return min(candidates, key=lambda a: _rank(a, strategy))


def choose_call(
    agent: AgentView,
    calls: Iterable[WaitingCall],
    queues: Mapping[str, QueueSpec],
    now: datetime,
    *,
    reoffer_after_s: float = REOFFER_AFTER_S,
) -> WaitingCall | None:
    """The waiting call a newly available agent should be offered: the first, in priority
    order, that they qualify for and have not declined; failing that, the first they declined,
    once they have been free for `reoffer_after_s`."""
    declined: list[WaitingCall] = []
    for call in order_calls(calls):
        if agent.id in call.declined_by:
            declined.append(call)
        elif _qualified_for(agent, call, queues, (now - call.enqueued_at).total_seconds()):
            return call
    if not declined or not _may_reoffer(agent, now, reoffer_after_s):
        return None
    for call in declined:
        if _qualified_for(agent, call, queues, (now - call.enqueued_at).total_seconds()):
            return call
    return None


def plan(
    calls: Iterable[WaitingCall],
    agents: Sequence[AgentView],
    queues: Mapping[str, QueueSpec],
    now: datetime,
    *,
    reoffer_after_s: float = REOFFER_AFTER_S,
) -> list[tuple[int, int]]:
    """Pairs (call id, agent id) to offer now: calls in priority order, each agent at most once."""
    free = [a for a in agents if a.state is AgentState.AVAILABLE]
    pairs: list[tuple[int, int]] = []
    for call in order_calls(calls):
        if not free:
            break
        agent = choose_agent(call, free, queues, now, reoffer_after_s=reoffer_after_s)
        if agent is not None:
            pairs.append((call.id, agent.id))
            free = [a for a in free if a.id != agent.id]
    return pairs
