"""A bulk change of the ticket list, as pure data: what it sets, what each ticket becomes, and
whether an undo may put a ticket back (no database, no Flask)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_IDS = 1000  # tickets changed by one call; a filter matching more is refused
BATCH = 200  # tickets loaded and written at once
UNDO_MINUTES = 10  # how long a bulk change can be undone
# The fields an undo restores (a merge is not undone: the customer was told).
UNDOABLE = ("assignee_id", "status", "group_id", "tags")


@dataclass(frozen=True)
class BulkSet:
    """What a bulk change sets. `fields` holds the plain fields asked for (assignee_id, status,
    group_id: None among them means "clear"); tags are added and removed, not replaced."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.fields and not self.add_tags and not self.remove_tags


def norm_tags(tags: Iterable[str]) -> list[str]:
    return sorted({t.strip().lower() for t in tags if t and t.strip()})


def changes_for(current_tags: list[str], wanted: BulkSet) -> dict[str, Any]:
    """The keyword changes `tickets.service.update` gets for one ticket."""
    changes: dict[str, Any] = dict(wanted.fields)
    if wanted.add_tags or wanted.remove_tags:
        tags = (set(current_tags) | set(norm_tags(wanted.add_tags))) - set(
            norm_tags(wanted.remove_tags)
        )
        changes["tags"] = sorted(tags)
    return changes


def undoable_diff(diff: Mapping[str, list[Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """From one ticket's history diff ({field: [old, new]}), the values before and after of the
    fields an undo restores."""
    before = {f: diff[f][0] for f in UNDOABLE if f in diff}
    after = {f: diff[f][1] for f in UNDOABLE if f in diff}
    return before, after


def undo_refusal(after: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """Why a ticket is not put back: it was closed or changed again since the bulk change."""
    if current.get("status") == "closed" and after.get("status") != "closed":
        return "closed since"
    if current.get("status") == "closed":
        return "closed: closed is final"
    for name, value in after.items():
        now = sorted(current.get(name) or []) if name == "tags" else current.get(name)
        then = sorted(value or []) if name == "tags" else value
        if now != then:
            return f"{name} changed since"
    return None
