"""The agent's last bulk change of the ticket list, kept in their session while it can be
undone: the list shows an Undo button for it (`ticket_bulk_pages` writes it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import session

UNDO_KEY = "bulk_undo"


def remember(change_id: int, until: datetime, count: int) -> None:
    session[UNDO_KEY] = {"id": change_id, "until": until.isoformat(), "count": count}


def forget() -> None:
    session.pop(UNDO_KEY, None)


def pending() -> dict[str, Any] | None:
    """The change while it can still be undone, else None (and it is forgotten)."""
    kept = session.get(UNDO_KEY)
    if not isinstance(kept, dict):
        return None
    try:
        until = datetime.fromisoformat(str(kept["until"]))
    except (KeyError, ValueError):
        forget()
        return None
    if until <= datetime.now(until.tzinfo):
        forget()
        return None
    return {"id": kept["id"], "count": kept.get("count", 0), "until": until}
