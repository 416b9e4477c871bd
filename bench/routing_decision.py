"""The routing decision on its own (`telephony.routing`): 1,000 agents online, 500 calls waiting.

Pure functions, timed in the benchmark's process with no database: `choose_agent` (a call arrives
or its requirements relax: which free agent gets it), `choose_call` (an agent frees up: which
waiting call is theirs), and `plan` (the whole batch, as the dispatcher runs it).

The call center has eight queues on six skills with levels 1 to 5, French and English, three
strategies and escalation steps (levels that drop after a minute or two, overflow queues after a
few); agents hold one to three skills each and speak French, English or both. Calls have waited up
to ten minutes, so the steps are reached for some and not others, carry priorities from the
customer's value, an SLA at risk or a callback, and one in ten has been declined by an agent.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tqdm import tqdm

from bench.datagen import NOW, SEED
from bench.report import Figure, Run
from bench.stats import Summary, summarise
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
    plan,
)

DECISION_TARGET_MS = 5.0
SKILLS = ("billing", "technical", "sales", "retention", "fibre", "mobile")
STATES = (
    (AgentState.AVAILABLE, 30),
    (AgentState.ON_CALL, 45),
    (AgentState.WRAP_UP, 10),
    (AgentState.RESERVED, 5),
    (AgentState.BREAK, 10),
)
QUEUE_SHARE = (
    ("support", 30),
    ("billing", 20),
    ("fibre", 12),
    ("mobile", 12),
    ("sales", 8),
    ("retention", 6),
    ("english", 7),
    ("general", 5),
)


def queues() -> dict[str, QueueSpec]:
    def step(after: int, drop: int = 0, overflow: str | None = None) -> EscalationStep:
        return EscalationStep(after_s=after, level_drop=drop, overflow_queue=overflow)

    specs = [
        QueueSpec("support", {"technical": 2}, steps=(step(60, 1), step(180, 0, "general"))),
        QueueSpec("billing", {"billing": 2}, steps=(step(90, 1), step(240, 0, "support"))),
        QueueSpec(
            "fibre",
            {"technical": 3, "fibre": 2},
            steps=(step(120, 1), step(300, 0, "support")),
        ),
        QueueSpec("mobile", {"mobile": 2}, strategy=Strategy.FEWEST_CALLS, steps=(step(120, 1),)),
        QueueSpec(
            "sales",
            {"sales": 2},
            strategy=Strategy.ROUND_ROBIN,
            steps=(step(60, 0, "retention"),),
        ),
        QueueSpec("retention", {"retention": 4}, steps=(step(60, 2), step(180, 0, "sales"))),
        QueueSpec("english", {"technical": 1}, language="en", steps=(step(120, 0, "support"),)),
        QueueSpec("general", {}),
    ]
    return {q.name: q for q in specs}


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def agents(count: int, rng: random.Random, all_available: bool = False) -> list[AgentView]:
    out = []
    for aid in range(1, count + 1):
        skills = {s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(1, 3))}
        fr, en = rng.random() < 0.85, rng.random() < 0.45
        languages = frozenset(
            {"fr"} if fr and not en else {"en"} if en and not fr else {"fr", "en"}
        )
        state = AgentState.AVAILABLE if all_available else _weighted(rng, STATES)
        out.append(
            AgentView(
                id=aid,
                skills=skills,
                languages=languages,
                state=state,
                idle_since=NOW - timedelta(seconds=rng.uniform(0, 1_800)),
                calls_today=rng.randint(0, 40),
                last_offered_at=NOW - timedelta(seconds=rng.uniform(0, 3_600)),
            )
        )
    return out


def calls(count: int, rng: random.Random, agent_ids: int) -> list[WaitingCall]:
    segments = ("best", "growing", "standard", "standard", "standard", "at_risk", "costly")
    out = []
    for cid in range(1, count + 1):
        queue = _weighted(rng, QUEUE_SHARE)
        declined = (
            frozenset(rng.sample(range(1, agent_ids + 1), rng.randint(1, 2)))
            if rng.random() < 0.1
            else frozenset()
        )
        out.append(
            WaitingCall(
                id=cid,
                queue=queue,
                enqueued_at=NOW - timedelta(seconds=rng.uniform(0, 600)),
                priority=call_priority(
                    segment=rng.choice(segments),
                    sla_at_risk=rng.random() < 0.1,
                    callback=rng.random() < 0.05,
                    vip=rng.random() < 0.03,
                ),
                language="en" if queue == "english" or rng.random() < 0.2 else "fr",
                declined_by=declined,
            )
        )
    return out


@dataclass
class Decisions:
    summary: Summary
    found: int
    total: int


def time_decisions(decide: Callable[[int], object], count: int) -> Decisions:
    gc.collect()
    timings, found = [], 0
    for i in range(count):
        t0 = time.perf_counter()
        answer = decide(i)
        timings.append(time.perf_counter() - t0)
        found += answer is not None
    return Decisions(summarise(timings), found, count)


def measure(run: Run, decisions: int, agent_count: int = 1_000, call_count: int = 500) -> None:
    tqdm.write(
        f"\n[3] routing decision, {agent_count:,} agents online, {call_count} calls waiting "
        f"(pure telephony.routing, {decisions:,} decisions each)"
    )
    rng = random.Random(SEED + 60)
    specs = queues()
    staff = agents(agent_count, rng)
    waiting = calls(call_count, rng, agent_count)
    free = sum(a.state is AgentState.AVAILABLE for a in staff)
    everyone = [replace(a, state=AgentState.AVAILABLE) for a in staff]
    now: datetime = NOW
    pick = random.Random(SEED + 61)
    call_picks = [pick.randrange(call_count) for _ in range(decisions)]
    agent_picks = [pick.randrange(agent_count) for _ in range(decisions)]
    results = {
        f"choose_agent ({free} of {agent_count:,} available)": time_decisions(
            lambda i: choose_agent(waiting[call_picks[i]], staff, specs, now), decisions
        ),
        f"choose_agent (all {agent_count:,} available)": time_decisions(
            lambda i: choose_agent(waiting[call_picks[i]], everyone, specs, now), decisions
        ),
        f"choose_call ({call_count} waiting)": time_decisions(
            lambda i: choose_call(everyone[agent_picks[i]], waiting, specs, now), decisions
        ),
    }
    plans = []
    pairs = 0
    for _ in range(20):
        gc.collect()
        t0 = time.perf_counter()
        pairs = len(plan(waiting, staff, specs, now))
        plans.append(time.perf_counter() - t0)
    plan_summary = summarise(plans)
    for name, d in results.items():
        tqdm.write(f"{name:<40} {d.summary.brief()}; found one {d.found / d.total:.0%}")
    tqdm.write(f"{'plan (whole batch)':<40} {plan_summary.brief()}; {pairs} offers")
    run.details["routing"] = {
        "agents": agent_count,
        "available": free,
        "calls": call_count,
        "queues": {
            q.name: {
                "skills": dict(q.skills),
                "language": q.language,
                "strategy": q.strategy.value,
                "steps": [vars(s) for s in q.steps],
            }
            for q in specs.values()
        },
        "decisions": {
            k: {"latency": d.summary.as_dict(), "found": d.found, "total": d.total}
            for k, d in results.items()
        },
        "plan": {"latency": plan_summary.as_dict(), "offers": pairs},
    }
    for name, d in results.items():
        s = d.summary
        run.add(
            Figure(
                f"routing: `{name.split(' ', 1)[0]}` {name.split(' ', 1)[1]}",
                f"p99 <= {DECISION_TARGET_MS:.0f} ms",
                f"p99 {s.p99_ms:.2f} ms (p50 {s.p50_ms:.2f}, max {s.max_ms:.2f})",
                s.p99_ms <= DECISION_TARGET_MS,
                group=3,
            )
        )
    run.add(
        Figure(
            f"routing: `plan` for the whole batch ({call_count} calls, {free} free agents; "
            f"{pairs} offers)",
            "-",
            f"p50 {plan_summary.p50_ms:.0f} ms, max {plan_summary.max_ms:.0f} ms (20 runs)",
            None,
            group=3,
        )
    )
