"""The ticket status workflow, as pure data and functions (no database, no Flask)."""

from __future__ import annotations

import enum
import re


class Status(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer
    ON_HOLD = "on_hold"  # waiting on a third party
    SOLVED = "solved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(enum.StrEnum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    WEB = "web"
    FIELD = "field"


PRIORITY_RANK: dict[Priority, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}

# Closed is final: a customer who writes again about a closed ticket gets a new one (linked by the
# requester's timeline), as in every helpdesk agents already know.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

UNRESOLVED: frozenset[Status] = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})

REFERENCE_PREFIX = "T-"
REFERENCE_OFFSET = 10000
_REFERENCE_RE = re.compile(r"^\s*#?\s*(?:t\s*-?\s*)?(\d{1,12})\s*$", re.IGNORECASE)


class InvalidTransition(ValueError):
    def __init__(self, old: Status, new: Status) -> None:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[old])) or "none (closed is final)"
        super().__init__(f"a ticket cannot go from {old.value} to {new.value}; allowed: {allowed}")
        self.old = old
        self.new = new


def can_transition(old: Status, new: Status) -> bool:
    return old == new or new in TRANSITIONS[old]


def check_transition(old: Status, new: Status) -> None:
    if not can_transition(old, new):
        raise InvalidTransition(old, new)


def reference_for(ticket_id: int) -> str:
    """`T-10234`: short enough to read out on the phone, typed in an SMS with or without a dash."""
    return f"{REFERENCE_PREFIX}{ticket_id + REFERENCE_OFFSET}"


def id_from_reference(text: str) -> int | None:
    """The ticket id a customer meant by `T-10234`, `t10234`, `#10234` or `10234`, else None."""
    match = _REFERENCE_RE.match(text)
    if not match:
        return None
    number = int(match.group(1))
    return number - REFERENCE_OFFSET if number > REFERENCE_OFFSET else None
