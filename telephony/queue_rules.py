"""What a queue's settings may be, as pure logic: overflow loops, and what still leads to a queue.

A call overflows along the routing steps of its queue (`telephony.routing`): a queue that sends
its callers on to another one which sends them back would let each queue's agents take the other's
calls for ever while neither is staffed for them, and say nothing of it. `overflow_loop` finds
such a loop before it is saved. `referrers` lists what would lead nowhere if a queue were
deactivated or renamed: IVR keys, other queues' overflow steps and their after-hours routes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Bounds a console form and the API share (seconds, except the priority, added to a caller's).
RING_TIMEOUT_S = (5, 120)
WRAP_UP_S = (0, 1800)
CALLBACK_AFTER_S = (0, 3600)
STEP_AFTER_S = (0, 3600)
LEVEL_DROP = (0, 4)
PRIORITY = (-50, 50)
MAX_STEPS = 10


def overflow_targets(steps: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(s["overflow_queue"]) for s in steps if s.get("overflow_queue")]


def overflow_loop(edges: Mapping[str, Iterable[str]], start: str) -> list[str] | None:
    """The queues of a loop of overflows through `start` (`[a, b, a]`), or None.

    `edges` maps each active queue to the queues its steps overflow to; a depth-first walk from
    `start` that comes back to it is the loop (the first found, shortest paths not sought)."""
    path = [start]
    seen: set[str] = set()

    def walk(node: str) -> bool:
        for nxt in edges.get(node, ()):
            if nxt == start:
                path.append(nxt)
                return True
            if nxt in seen:
                continue
            seen.add(nxt)
            path.append(nxt)
            if walk(nxt):
                return True
            path.pop()
        return False

    return path if walk(start) else None


@dataclass(frozen=True)
class Referrer:
    """Something that sends callers to a queue: an IVR `key`, or another queue's overflow step
    or after-hours route (`queue`)."""

    kind: str  # "ivr", "overflow" or "after_hours"
    source: str  # the menu key, or the other queue's name

    def describe(self, target: str) -> str:
        if self.kind == "ivr":
            return f"IVR key {self.source} leads to '{target}'"
        if self.kind == "overflow":
            return f"queue '{self.source}' overflows to '{target}'"
        return f"queue '{self.source}' sends its callers to '{target}' after hours"


def referrers(
    target: str,
    *,
    menu: Mapping[str, str],
    queues: Mapping[str, tuple[list[dict[str, Any]], dict[str, str] | None]],
) -> list[Referrer]:
    """What leads to `target`: the `menu` ({key: queue name}, `ivr_queues.menu_queues`) and the
    other active `queues` ({name: (steps, after-hours route)})."""
    found = [Referrer("ivr", key) for key, name in menu.items() if name == target]
    for name, (steps, after_hours) in sorted(queues.items()):
        if name == target:
            continue
        if target in overflow_targets(steps):
            found.append(Referrer("overflow", name))
        route = after_hours or {}
        if route.get("action") == "queue" and route.get("queue") == target:
            found.append(Referrer("after_hours", name))
    return found
