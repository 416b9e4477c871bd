"""The routing decision on its own: qualification, strategies, priorities, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from telephony.routing import (
    AgentState,
    AgentView,
    EscalationStep,
    QueueSpec,
    Strategy,
    WaitingCall,
    call_priority,
    choose_agent,
    choose_call,
    effective_requirements,
    plan,
)

NOW = datetime(2026, 6, 8, 10, tzinfo=UTC)
QUEUES = {
    "billing": QueueSpec(
        "billing",
        {"billing": 3},
        language="fr",
        steps=(
            EscalationStep(after_s=60, level_drop=1),
            EscalationStep(after_s=120, overflow_queue="support"),
        ),
    ),
    "support": QueueSpec("support", {"support": 1}),
    "rr": QueueSpec("rr", {"support": 1}, strategy=Strategy.ROUND_ROBIN),
    "fewest": QueueSpec("fewest", {"support": 1}, strategy=Strategy.FEWEST_CALLS),
}


def agent(
    ident,
    skills,
    langs=("fr", "en"),
    state=AgentState.AVAILABLE,
    idle_min=0,
    calls=0,
    offered_min=None,
):
    return AgentView(
        id=ident,
        skills=skills,
        languages=frozenset(langs),
        state=state,
        idle_since=NOW - timedelta(minutes=idle_min),
        calls_today=calls,
        last_offered_at=(NOW - timedelta(minutes=offered_min) if offered_min is not None else None),
    )


def call(ident, queue="billing", waited_s=0, priority=0, language=None, declined=()):
    return WaitingCall(
        id=ident,
        queue=queue,
        enqueued_at=NOW - timedelta(seconds=waited_s),
        priority=priority,
        language=language,
        declined_by=frozenset(declined),
    )


def test_skill_level_and_language_required():
    agents = [
        agent(1, {"billing": 2}),
        agent(2, {"billing": 3}, langs=("en",)),
        agent(3, {"billing": 4}),
    ]
    assert choose_agent(call(1), agents, QUEUES, NOW).id == 3


def test_longest_idle_wins():
    agents = [
        agent(1, {"billing": 5}, idle_min=2),
        agent(2, {"billing": 5}, idle_min=9),
        agent(3, {"billing": 5}, idle_min=5),
    ]
    assert choose_agent(call(1), agents, QUEUES, NOW).id == 2


def test_fewest_calls_and_round_robin():
    agents = [
        agent(1, {"support": 1}, calls=5),
        agent(2, {"support": 1}, calls=1, idle_min=1),
        agent(3, {"support": 1}, calls=1, idle_min=4),
    ]
    assert choose_agent(call(1, "fewest"), agents, QUEUES, NOW).id == 3
    rr = [
        agent(1, {"support": 1}, offered_min=1),
        agent(2, {"support": 1}, offered_min=10),
        agent(3, {"support": 1}, offered_min=5),
    ]
    assert choose_agent(call(1, "rr"), rr, QUEUES, NOW).id == 2


def test_only_available_agents_who_did_not_decline():
    agents = [
        agent(1, {"billing": 5}, state=AgentState.BREAK),
        agent(2, {"billing": 5}, state=AgentState.ON_CALL),
        agent(3, {"billing": 5}, state=AgentState.WRAP_UP),
        agent(4, {"billing": 5}),
    ]
    assert choose_agent(call(1), agents, QUEUES, NOW).id == 4
    assert choose_agent(call(1, declined=[4]), agents, QUEUES, NOW) is None


def test_requirements_relax_as_the_caller_waits():
    junior = [agent(1, {"billing": 2})]
    assert choose_agent(call(1, waited_s=30), junior, QUEUES, NOW) is None
    assert choose_agent(call(1, waited_s=61), junior, QUEUES, NOW).id == 1
    support_only = [agent(2, {"support": 1})]
    assert choose_agent(call(1, waited_s=90), support_only, QUEUES, NOW) is None
    assert choose_agent(call(1, waited_s=121), support_only, QUEUES, NOW).id == 2
    skills, queues = effective_requirements(QUEUES["billing"], 500, QUEUES)
    assert skills == {"billing": 2} and queues == {"billing", "support"}


def test_priority_then_wait_order():
    calls = [call(1, waited_s=300), call(2, waited_s=10, priority=40), call(3, waited_s=200)]
    a = agent(9, {"billing": 5})
    assert choose_call(a, calls, QUEUES, NOW).id == 2
    assert [c for c, _ in plan(calls, [a, agent(8, {"billing": 5})], QUEUES, NOW)] == [2, 1]


def test_priority_scores():
    assert call_priority(segment="best", sla_at_risk=False, callback=False, vip=False) > 0
    assert call_priority(segment=None, sla_at_risk=True, callback=False, vip=False) > call_priority(
        segment=None, sla_at_risk=False, callback=True, vip=False
    )
    assert call_priority(segment="costly", sla_at_risk=False, callback=False, vip=False) < 0


@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(0, 60)), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 100), st.integers(0, 600)), min_size=1, max_size=30),
)
def test_plan_never_gives_an_agent_two_calls_or_a_call_two_agents(agent_specs, call_specs):
    agents = [
        agent(i, {"support": lvl}, idle_min=idle) for i, (lvl, idle) in enumerate(agent_specs)
    ]
    calls = [call(i, "support", waited_s=w, priority=p) for i, (p, w) in enumerate(call_specs)]
    pairs = plan(calls, agents, QUEUES, NOW)
    assert len({c for c, _ in pairs}) == len(pairs) == len({a for _, a in pairs})
    assert len(pairs) == min(len(agents), len(calls))


def test_a_call_declined_by_the_only_free_agent_comes_back_to_them_after_the_back_off():
    """Declining passes the call on; with nobody else free it is not lost for good: the agent
    who declined gets it again once free for the back-off."""
    just_declined = [agent(1, {"billing": 5}, idle_min=0)]
    declined = call(1, declined=[1])
    assert choose_agent(declined, just_declined, QUEUES, NOW, reoffer_after_s=5) is None
    free_a_while = [
        AgentView(
            id=1,
            skills={"billing": 5},
            languages=frozenset({"fr"}),
            state=AgentState.AVAILABLE,
            idle_since=NOW - timedelta(seconds=6),
        )
    ]
    assert choose_agent(declined, free_a_while, QUEUES, NOW, reoffer_after_s=5).id == 1
    assert choose_agent(declined, free_a_while, QUEUES, NOW, reoffer_after_s=10) is None
    assert plan([declined], free_a_while, QUEUES, NOW, reoffer_after_s=5) == [(1, 1)]


def test_agents_who_did_not_decline_have_their_turn_first():
    agents = [agent(1, {"billing": 5}, idle_min=30), agent(2, {"billing": 5}, idle_min=1)]
    assert choose_agent(call(1, declined=[1]), agents, QUEUES, NOW).id == 2
    # Both declined: the one who has been free longest gets it again.
    assert choose_agent(call(1, declined=[1, 2]), agents, QUEUES, NOW).id == 1
    # Still only among those who qualify and are free.
    busy = [agent(1, {"billing": 5}, idle_min=30, state=AgentState.BREAK)]
    assert choose_agent(call(1, declined=[1]), busy, QUEUES, NOW) is None


def test_an_agent_coming_free_takes_a_call_they_declined_only_after_the_back_off():
    a = agent(1, {"billing": 5}, idle_min=0)
    declined = call(1, waited_s=300, priority=50, declined=[1])
    fresh = call(2, waited_s=10)
    assert choose_call(a, [declined, fresh], QUEUES, NOW).id == 2
    assert choose_call(a, [declined], QUEUES, NOW) is None
    later = agent(1, {"billing": 5}, idle_min=1)
    assert choose_call(later, [declined], QUEUES, NOW).id == 1
