"""A work order's statuses and the moves between them; the words technicians text. Pure."""

from __future__ import annotations

import enum
import re
import unicodedata


class WorkOrderStatus(enum.StrEnum):
    UNSCHEDULED = "unscheduled"
    SCHEDULED = "scheduled"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


S = WorkOrderStatus
# A technician who texts DONE without having texted ARRIVED is on site and done at once: the
# service records the arrival at the same instant rather than refusing the message.
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    S.UNSCHEDULED: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.UNSCHEDULED, S.EN_ROUTE, S.ON_SITE, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.SCHEDULED, S.ON_SITE, S.COMPLETED, S.CANCELLED}),
    S.ON_SITE: frozenset({S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}
ACTIVE: frozenset[WorkOrderStatus] = frozenset({S.SCHEDULED, S.EN_ROUTE, S.ON_SITE})
UNDER_WAY: frozenset[WorkOrderStatus] = frozenset({S.EN_ROUTE, S.ON_SITE})
FINAL: frozenset[WorkOrderStatus] = frozenset({S.COMPLETED, S.CANCELLED})

REFERENCE_PREFIX = "W-"
REFERENCE_OFFSET = 1000


class InvalidMove(ValueError):
    def __init__(self, old: WorkOrderStatus, new: WorkOrderStatus) -> None:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[old])) or "none"
        super().__init__(f"a {old.value} work order cannot become {new.value} (allowed: {allowed})")
        self.old, self.new = old, new


def check_move(old: WorkOrderStatus, new: WorkOrderStatus) -> None:
    if new not in TRANSITIONS[old]:
        raise InvalidMove(old, new)


def reference_for(work_order_id: int) -> str:
    return f"{REFERENCE_PREFIX}{work_order_id + REFERENCE_OFFSET}"


def id_from_reference(text: str) -> int | None:
    found = re.fullmatch(r"\s*#?\s*(?:w\s*-?\s*)?(\d{1,9})\s*", text, re.IGNORECASE)
    if not found:
        return None
    number = int(found.group(1))
    return number - REFERENCE_OFFSET if number > REFERENCE_OFFSET else None


# What a technician texts, English and French, case and accent insensitive.
TECHNICIAN_WORDS: dict[str, WorkOrderStatus] = {
    "OMW": S.EN_ROUTE,
    "ON MY WAY": S.EN_ROUTE,
    "EN ROUTE": S.EN_ROUTE,
    "ENROUTE": S.EN_ROUTE,
    "ARRIVED": S.ON_SITE,
    "ARRIVE": S.ON_SITE,
    "SUR PLACE": S.ON_SITE,
    "DONE": S.COMPLETED,
    "COMPLETED": S.COMPLETED,
    "TERMINE": S.COMPLETED,
    "FINI": S.COMPLETED,
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def technician_command(body: str) -> tuple[WorkOrderStatus, int | None, str] | None:
    """The status a technician's text asks for, the work order it names if any, and the rest.

    `OMW`, `en route W-1012`, `Arrivé`, `DONE changed the router` -> (status, id or None, note).
    """
    words = re.findall(r"[A-Z0-9-]+", _fold(body))
    if not words:
        return None
    for size in (3, 2, 1):
        head = " ".join(words[:size])
        status = TECHNICIAN_WORDS.get(head)
        if status is None:
            continue
        rest = words[size:]
        work_order = id_from_reference(rest[0]) if rest and rest[0].startswith("W") else None
        note_words = body.split()[size + (1 if work_order is not None else 0) :]
        return status, work_order, " ".join(note_words)
    return None


def survey_score(body: str) -> int | None:
    """A satisfaction answer: a single digit 1 to 5 (with anything after it, e.g. "5 merci")."""
    found = re.match(r"\s*([1-5])(?:\s*/\s*5)?(?:\s|[.!]|$)", body)
    return int(found.group(1)) if found else None
