"""The ticket page's suggested articles (kb.suggestions), ready to render."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from markupsafe import Markup

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from kb import suggestions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    id: int
    title: str
    snippet: Markup


def suggestions_for(ticket: Ticket, limit: int = 5) -> list[Suggestion]:
    """Suggested articles for the ticket; an index that cannot answer costs the panel, never the
    page (the agent still sees and answers the ticket)."""
    try:
        hits = suggestions.for_ticket(db.session, ticket_id=ticket.id, limit=limit)
    except Exception:
        log.exception("knowledge-base suggestions failed for ticket %s", ticket.id)
        return []
    # The snippet is HTML-escaped by kb.text.snippet; only its <mark> tags are markup.
    return [Suggestion(h.id, h.title, Markup(h.snippet)) for h in hits]  # noqa: S704
