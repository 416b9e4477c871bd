"""Live call-center statistics, updated incrementally from the call event log.

Each event changes a handful of counters (constant work per event, whatever the number of
calls or agents), kept in a `Store`: a dictionary in the embedded deployment, Redis hashes and
sorted sets when several processes share the figures. Reading the figures of a queue is constant
work too. No Flask and no database here: the service feeds entries in and reads snapshots out,
and the same code rebuilds the figures from the log after a restart.

Service level is given both ways (see docs/supervision.md):
- `service_level`: calls answered within the threshold / calls answered;
- `service_level_abandons`: calls answered within the threshold / (answered + abandoned), which
  counts every abandoned call as a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

SLOTS_PER_DAY = 96  # 15-minute intervals
REBUILD_CHUNK = 500  # log entries applied in one step by a rebuild
QUEUE_EVENTS = frozenset(
    {
        "entered",
        "offered",
        "rejected",
        "timeout",
        "connected",
        "requeued",
        "abandoned",
        "transferred",
        "completed",
        "callback",
    }
)
AGENT_STATE = "agent_state"
EVENTS = QUEUE_EVENTS | {AGENT_STATE}
AGENT_STATES = ("available", "reserved", "on_call", "wrap_up", "break", "offline")
INTERVAL_FIELDS = (
    "entered",
    "transferred_in",
    "answered",
    "answered_in_sl",
    "abandoned",
    "talk_s",
    "completed",
)


@dataclass(frozen=True)
class LogEntry:
    """One row of the call event log, as the aggregator sees it."""

    id: int
    at: datetime
    day: str
    slot: int
    event: str
    call_id: int | None = None
    queue: str | None = None
    agent_id: int | None = None
    wait_s: float | None = None
    talk_s: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    hold_s: float | None = None  # of talk_s, on hold (a `completed` entry)


# A read for `Store.read`: ("hget", key, name), ("hgetall", key), ("zcard", key) or ("zmin", key).
Read = tuple[str, ...]
# A write of one log entry, for `Store.apply_entries`: ("hincr", key, name, amount),
# ("hset", key, name, value), ("zadd", key, member, score), ("zrem", key, member), or
# ("zmove", key, member, to_key, score): the member moves to `to_key` with the score it had
# (`score` when it was not in `key`).
Write = tuple[Any, ...]


class Writes:
    """The writes of one log entry, recorded in order to be applied together."""

    def __init__(self) -> None:
        self.ops: list[Write] = []

    def hincr(self, key: str, name: str, amount: float) -> None:
        self.ops.append(("hincr", key, name, amount))

    def hset(self, key: str, name: str, value: str) -> None:
        self.ops.append(("hset", key, name, value))

    def zadd(self, key: str, member: str, score: float) -> None:
        self.ops.append(("zadd", key, member, score))

    def zrem(self, key: str, member: str) -> None:
        self.ops.append(("zrem", key, member))

    def zmove(self, key: str, member: str, to: str, score: float) -> None:
        self.ops.append(("zmove", key, member, to, score))


class Store(Protocol):
    """Hashes of numbers and strings, and sorted sets: the operations Redis offers natively.

    A transaction's log entries are applied together (`apply_entries`), and each wallboard push
    reads several figures at once (`read`): on Redis each is one round trip, not ten.
    """

    def apply_entries(self, entries: Sequence[tuple[int, Sequence[Write]]]) -> list[int]:
        """Apply the writes of each entry (its id, its writes) whose id is above the watermark
        (`meta`'s `watermark`, set by the last rebuild), in order and as one atomic step (on
        Redis, one script: no other process reads half of it, and none moves the watermark in
        between). Returns the ids of the entries applied."""

    def read(self, reads: Sequence[Read]) -> list[Any]:
        """Several reads at once (one round trip on Redis), each answered as its method would."""

    def hget(self, key: str, name: str) -> str | None: ...
    def hset(self, key: str, name: str, value: str) -> None: ...
    def hgetall(self, key: str) -> dict[str, str]: ...
    def zcard(self, key: str) -> int: ...
    def zmin(self, key: str) -> tuple[str, float] | None: ...
    def clear(self) -> None: ...


class MemoryStore:
    """The embedded store: dictionaries, behind a lock since the web process serves requests on
    many threads (each operation is atomic, as a Redis command is). Sorted sets keep insertion
    order; their minimum is looked up only when figures are read."""

    def __init__(self) -> None:
        self.hashes: dict[str, dict[str, str]] = {}
        self.zsets: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def apply_entries(self, entries: Sequence[tuple[int, Sequence[Write]]]) -> list[int]:
        with self._lock:
            mark = int(_num(self.hashes.get("meta", {}).get("watermark")))
            applied: list[int] = []
            for entry_id, writes in entries:
                if entry_id <= mark:
                    continue
                for op, key, *args in writes:
                    getattr(self, "_" + op)(key, *args)
                applied.append(entry_id)
            return applied

    # The writes, with the lock held by `apply_entries`.

    def _hincr(self, key: str, name: str, amount: float) -> None:
        h = self.hashes.setdefault(key, {})
        h[name] = _num_text(float(h.get(name, "0")) + amount)

    def _hset(self, key: str, name: str, value: str) -> None:
        self.hashes.setdefault(key, {})[name] = value

    def _zadd(self, key: str, member: str, score: float) -> None:
        self.zsets.setdefault(key, {})[member] = score

    def _zrem(self, key: str, member: str) -> None:
        self.zsets.get(key, {}).pop(member, None)

    def _zmove(self, key: str, member: str, to: str, score: float) -> None:
        had = self.zsets.get(key, {}).pop(member, None)
        self.zsets.setdefault(to, {})[member] = score if had is None else had

    def read(self, reads: Sequence[Read]) -> list[Any]:
        return [getattr(self, op)(*args) for op, *args in reads]

    def hget(self, key: str, name: str) -> str | None:
        with self._lock:
            return self.hashes.get(key, {}).get(name)

    def hset(self, key: str, name: str, value: str) -> None:
        with self._lock:
            self.hashes.setdefault(key, {})[name] = value

    def hgetall(self, key: str) -> dict[str, str]:
        with self._lock:
            return dict(self.hashes.get(key, {}))

    def zcard(self, key: str) -> int:
        with self._lock:
            return len(self.zsets.get(key, {}))

    def zmin(self, key: str) -> tuple[str, float] | None:
        with self._lock:
            z = self.zsets.get(key)
            if not z:
                return None
            member = min(z, key=z.__getitem__)
            return member, z[member]

    def clear(self) -> None:
        with self._lock:
            self.hashes.clear()
            self.zsets.clear()


def _num_text(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(round(value, 6))


def _num(value: str | None) -> float:
    return float(value) if value else 0.0


class Aggregator:
    """Applies log entries to a store and reads the figures back."""

    def __init__(self, store: Store, *, threshold_s: float = 20.0) -> None:
        self.store = store
        self.threshold_s = threshold_s

    # -- writing ---------------------------------------------------------------------------------

    def watermark(self) -> int:
        return int(_num(self.store.hget("meta", "watermark")))

    def set_watermark(self, entry_id: int) -> None:
        self.store.hset("meta", "watermark", str(entry_id))

    def apply(self, e: LogEntry) -> bool:
        """Count one entry; False when it was already counted (at or below the watermark set by
        the last rebuild)."""
        return bool(self.apply_many([e]))

    def apply_many(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """Count a transaction's entries together, and return those not counted before.

        One step for all of them (`Store.apply_entries`: on Redis one round trip, which also
        carries the commit's held events): a call's accept or wrap-up logs several entries at
        once.
        """
        done = set(self.store.apply_entries([(e.id, self._writes(e)) for e in entries]))
        return [e for e in entries if e.id in done]

    def _writes(self, e: LogEntry) -> list[Write]:
        writes = Writes()
        mover = self._agent_state_target(e)
        if mover is not None:
            self._move_agent(writes, *mover, e.at.timestamp())
        elif e.event in QUEUE_EVENTS:
            self._queue_event(e, writes)
        return writes.ops

    def rebuild(self, entries: Iterable[LogEntry]) -> int:
        """Start again from the log: every counter from zero, then the entries in order, a few
        hundred to a step."""
        self.store.clear()
        last = 0
        chunk: list[LogEntry] = []
        for entry in entries:
            chunk.append(entry)
            last = max(last, entry.id)
            if len(chunk) >= REBUILD_CHUNK:
                self.apply_many(chunk)
                chunk.clear()
        self.apply_many(chunk)
        self.set_watermark(last)
        return last

    def seed_agent(self, agent_id: int, state: str, since: datetime) -> None:
        """An agent whose last change is older than the replayed log: take its current state."""
        if self.store.hget("agents", str(agent_id)) is None:
            self._move_agent(self.store, agent_id, state, since.timestamp())

    def _queue_event(self, e: LogEntry, s: Writes) -> None:
        wait = e.wait_s or 0.0
        in_sl = wait <= self.threshold_s
        if e.event == "completed" and e.agent_id is not None:
            s.hincr(f"ad:{e.day}", f"{e.agent_id}:handled", 1)
            s.hincr(f"ad:{e.day}", f"{e.agent_id}:talk_s", e.talk_s or 0.0)
        if e.queue is None:
            return
        q, i, w = f"q:{e.day}:{e.queue}", f"i:{e.day}:{e.queue}", f"w:{e.queue}"
        s.hset("queues", e.queue, "1")
        member = str(e.call_id)
        if e.event == "entered":
            s.hincr(q, "entered", 1)
            s.hincr(i, f"{e.slot}:entered", 1)
            s.zadd(w, member, e.at.timestamp())
        elif e.event in ("offered", "rejected", "timeout"):
            s.hincr(q, e.event, 1)
        elif e.event == "connected":
            s.zrem(w, member)
            s.hincr(q, "answered", 1)
            s.hincr(q, "wait_s", wait)
            s.hincr(i, f"{e.slot}:answered", 1)
            if in_sl:
                s.hincr(q, "answered_in_sl", 1)
                s.hincr(i, f"{e.slot}:answered_in_sl", 1)
            if e.data.get("callback"):
                s.hincr(f"g:{e.queue}", "callbacks_pending", -1)
        elif e.event == "requeued":
            # An acceptance whose agent leg never answered: its `connected` is taken back and
            # the call waits again, since the time it first waited.
            s.zadd(w, member, float(e.data.get("since") or e.at.timestamp()))
            s.hincr(q, "answered", -1)
            s.hincr(q, "wait_s", -wait)
            s.hincr(i, f"{e.slot}:answered", -1)
            if in_sl:
                s.hincr(q, "answered_in_sl", -1)
                s.hincr(i, f"{e.slot}:answered_in_sl", -1)
        elif e.event == "abandoned":
            s.zrem(w, member)
            s.hincr(q, "abandoned", 1)
            s.hincr(i, f"{e.slot}:abandoned", 1)
            if in_sl:
                s.hincr(q, "abandoned_in_sl", 1)
        elif e.event == "callback":
            s.zrem(w, member)
            s.hincr(q, "callbacks", 1)
            s.hincr(f"g:{e.queue}", "callbacks_pending", 1)
        elif e.event == "transferred":
            target = str(e.data.get("to_queue") or "")
            s.hincr(q, "transferred_out", 1)
            if not target:
                s.zrem(w, member)
                return
            s.hset("queues", target, "1")
            s.hincr(f"q:{e.day}:{target}", "transferred_in", 1)
            s.hincr(f"i:{e.day}:{target}", f"{e.slot}:transferred_in", 1)
            s.zmove(w, member, f"w:{target}", e.at.timestamp())  # waiting since it first did
        elif e.event == "completed":
            s.hincr(q, "completed", 1)
            s.hincr(q, "talk_s", e.talk_s or 0.0)
            s.hincr(q, "hold_s", e.hold_s or 0.0)
            s.hincr(i, f"{e.slot}:completed", 1)
            s.hincr(i, f"{e.slot}:talk_s", e.talk_s or 0.0)

    @staticmethod
    def _agent_state_target(e: LogEntry) -> tuple[int, str] | None:
        """The agent and the state an `agent_state` entry moves them to (None for any other
        entry, or one that names no agent or state)."""
        if e.event != AGENT_STATE:
            return None
        to = str(e.data.get("to") or "")
        if e.agent_id is None or not to:
            return None
        return e.agent_id, to

    @staticmethod
    def _move_agent(to: Writes | Store, agent_id: int, state: str, since: float) -> None:
        # Only the agent's own state is kept: the counts per state are derived from these when
        # read (`agent_states`), so they always agree with the list of agents. Counters moved
        # here from the state read before would drift for good when two processes move one
        # agent at once (both read the same previous state).
        to.hset("agents", str(agent_id), f"{state}|{since}")

    # -- reading ---------------------------------------------------------------------------------

    def queue_names(self) -> list[str]:
        return sorted(self.store.hgetall("queues"))

    def queue_figures(self, queue: str, day: str, now: datetime) -> dict[str, Any]:
        counters, oldest, waiting, pending = self.store.read(
            [
                ("hgetall", f"q:{day}:{queue}"),
                ("zmin", f"w:{queue}"),
                ("zcard", f"w:{queue}"),
                ("hget", f"g:{queue}", "callbacks_pending"),
            ]
        )
        c = {k: _num(v) for k, v in counters.items()}
        answered, abandoned = c.get("answered", 0.0), c.get("abandoned", 0.0)
        in_sl, completed = c.get("answered_in_sl", 0.0), c.get("completed", 0.0)
        return {
            "queue": queue,
            "day": day,
            "waiting": int(waiting),
            "longest_wait_s": round(max(now.timestamp() - oldest[1], 0.0), 1) if oldest else 0.0,
            "oldest_enqueued_at": oldest[1] if oldest else None,
            "entered": int(c.get("entered", 0)),
            "answered": int(answered),
            "answered_in_sl": int(in_sl),
            "abandoned": int(abandoned),
            "abandoned_in_sl": int(c.get("abandoned_in_sl", 0)),
            "completed": int(completed),
            "transferred_out": int(c.get("transferred_out", 0)),
            "callbacks": int(c.get("callbacks", 0)),
            "callbacks_pending": max(int(_num(pending)), 0),
            "service_level": _ratio(in_sl, answered),
            "service_level_abandons": _ratio(in_sl, answered + abandoned),
            "asa_s": _ratio(c.get("wait_s", 0.0), answered, digits=1),
            "aht_s": _ratio(c.get("talk_s", 0.0), completed, digits=1),
            "aht_hold_s": _ratio(c.get("hold_s", 0.0), completed, digits=1),
            "abandon_rate": _ratio(abandoned, answered + abandoned),
            "threshold_s": self.threshold_s,
        }

    def intervals(self, queue: str, day: str) -> list[dict[str, Any]]:
        """Per 15-minute interval of the day, those that saw any call."""
        raw = self.store.hgetall(f"i:{day}:{queue}")
        slots: dict[int, dict[str, float]] = {}
        for key, value in raw.items():
            slot_text, _, name = key.partition(":")
            slots.setdefault(int(slot_text), {})[name] = _num(value)
        out = []
        for slot in sorted(slots):
            c = slots[slot]
            answered = c.get("answered", 0.0)
            out.append(
                {
                    "slot": slot,
                    "start": f"{slot // 4:02d}:{slot % 4 * 15:02d}",
                    **{name: round(c.get(name, 0.0), 3) for name in INTERVAL_FIELDS},
                    # The calls this queue was offered in the interval: those that entered it
                    # and those moved to it from another queue (each outcome counts in the
                    # interval its call was offered in: calllog.OUTCOMES).
                    "offered": int(c.get("entered", 0.0) + c.get("transferred_in", 0.0)),
                    "service_level": _ratio(c.get("answered_in_sl", 0.0), answered),
                    "aht_s": _ratio(c.get("talk_s", 0.0), c.get("completed", 0.0), digits=1),
                }
            )
        return out

    def agent_states(self) -> dict[str, int]:
        """How many known agents are in each state, counted from the agents' own states: the
        same source as `agents`, so a wallboard's tiles and its table cannot disagree."""
        return state_counts(raw.partition("|")[0] for raw in self.store.hgetall("agents").values())

    def agent(self, agent_id: int, day: str, now: datetime) -> dict[str, Any]:
        raw, handled, talk = self.store.read(
            [
                ("hget", "agents", str(agent_id)),
                ("hget", f"ad:{day}", f"{agent_id}:handled"),
                ("hget", f"ad:{day}", f"{agent_id}:talk_s"),
            ]
        )
        state, _, since = (raw or "offline|0").partition("|")
        return _agent_dict(agent_id, state, float(since or 0), _num(handled), _num(talk), now)

    def agents(self, day: str, now: datetime) -> list[dict[str, Any]]:
        """Every agent known to the figures (reading is proportional to the agents, not calls)."""
        per_day = self.store.hgetall(f"ad:{day}")
        states = self.store.hgetall("agents")
        # Agents with calls today but no state change in the replayed log count too.
        idents = set(states) | {k.partition(":")[0] for k in per_day}
        out = []
        for ident in idents:
            state, _, since = states.get(ident, "offline|0").partition("|")
            handled = _num(per_day.get(f"{ident}:handled"))
            talk = _num(per_day.get(f"{ident}:talk_s"))
            out.append(_agent_dict(int(ident), state, float(since or 0), handled, talk, now))
        return sorted(out, key=lambda a: int(a["id"]))


def state_counts(states: Iterable[str]) -> dict[str, int]:
    """Agents per state, every state of `AGENT_STATES` present (zero when nobody is in it)."""
    counts = dict.fromkeys(AGENT_STATES, 0)
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return counts


def _agent_dict(
    agent_id: int, state: str, since: float, handled: float, talk: float, now: datetime
) -> dict[str, Any]:
    return {
        "id": agent_id,
        "state": state,
        "since": since,
        "in_state_s": round(max(now.timestamp() - since, 0.0), 1) if since else 0.0,
        "handled": int(handled),
        "aht_s": _ratio(talk, handled, digits=1),
    }


def _ratio(num: float, den: float, *, digits: int = 4) -> float | None:
    return round(num / den, digits) if den else None


@dataclass(frozen=True)
class Thresholds:
    service_level: float = 0.8  # alert when today's service level falls under it
    longest_wait_s: float = 120.0  # alert when a caller has waited longer
    min_answered: int = 5  # no service-level alert on the first few calls of the day


def alerts(figures: Mapping[str, Any], limits: Thresholds) -> list[str]:
    """The alerts a queue's figures raise: `service_level` and/or `longest_wait`."""
    raised = []
    sl = figures.get("service_level")
    answered = int(figures.get("answered") or 0) + int(figures.get("abandoned") or 0)
    if sl is not None and answered >= limits.min_answered and sl < limits.service_level:
        raised.append("service_level")
    if float(figures.get("longest_wait_s") or 0.0) > limits.longest_wait_s:
        raised.append("longest_wait")
    return raised
