"""The ticket page's suggested articles (kb.suggestions), ready to render."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from kb import suggestions
from kb.search import SearchHit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    id: int
    title: str
    snippet: Markup
    public: bool = False  # published for customers: its help-center link may be sent to them


def _search(what: str, search: Callable[[], list[SearchHit]]) -> list[SearchHit]:
    """Run a suggestion search so that an index that cannot answer costs the panel, never the
    page: in a savepoint, so a search failing in the database does not leave the page's
    transaction aborted for what the page reads next."""
    nested = db.session.begin_nested()
    try:
        hits = search()
        nested.commit()
    except Exception:
        nested.rollback()
        log.exception("knowledge-base suggestions failed for %s", what)
        return []
    return hits


def suggestions_for(ticket: Ticket, limit: int = 5) -> list[Suggestion]:
    """Suggested articles for the ticket (the agent still sees and answers it without them)."""
    hits = _search(
        f"ticket {ticket.id}",
        lambda: suggestions.for_ticket(db.session, ticket_id=ticket.id, limit=limit),
    )
    # The snippet is HTML-escaped by kb.text.snippet; only its <mark> tags are markup.
    return [Suggestion(h.id, h.title, Markup(h.snippet)) for h in hits]  # noqa: S704


def suggestions_for_call(call_sid: str, limit: int = 5) -> list[Suggestion]:
    """Suggested articles for a call (its ticket, the caller's last text, the menu choice), each
    marked when customers may read it."""
    from sqlalchemy import select

    from kb.models import Article, Visibility

    hits = _search(
        f"call {call_sid}",
        lambda: suggestions.for_call(db.session, call_sid=call_sid, limit=limit),
    )
    public = (
        set(
            db.session.scalars(
                select(Article.id).where(
                    Article.id.in_([h.id for h in hits]), Article.visibility == Visibility.PUBLIC
                )
            )
        )
        if hits
        else set()
    )
    return [
        Suggestion(h.id, h.title, Markup(h.snippet), h.id in public)  # noqa: S704
        for h in hits
    ]
