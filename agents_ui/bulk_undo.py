"""The agent's last bulk change of the ticket list while it can be undone: the list shows an
Undo button for it. Read from the bulk change's own row, so that it is there for its ten
minutes whichever browser or session the agent uses."""

from __future__ import annotations

from typing import Any

from agents_ui.account import me
from helpdesk.extensions import db
from helpdesk.tickets import ticket_bulk


def pending() -> dict[str, Any] | None:
    """The change while it can still be undone, else None."""
    row = ticket_bulk.latest_undoable(db.session, actor_id=me().id)
    if row is None:
        return None
    return {"id": row.id, "count": len(row.after), "until": row.expires_at}
