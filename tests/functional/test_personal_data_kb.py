"""Articles drafted from an erased customer's tickets, in the database and in the search index,
on each search backend (docs/personal-data.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.customers import erasure as privacy
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.workflow import Status
from kb import service as kb
from kb.models import ArticleRevision
from kb.search import SearchIndex, SearchQuery
from tests.functional.kb_fixtures import backend, index, kb_search, settings  # noqa: F401


def _solved_ticket(ticket_factory: Any, customer: Any) -> Any:
    ticket = ticket_factory(
        requester_id=customer.id,
        subject="Modem reboots at night",
        description="Yvonne Castagnède says the modem reboots; call 06 44 55 66 77",
    )
    return tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)


def test_erasure_scrubs_articles_drafted_from_the_customers_tickets(
    app: Any,
    customer_factory: Any,
    ticket_factory: Any,
    index: SearchIndex,  # noqa: F811  # the kb_fixtures fixture, one per search backend
) -> None:
    customer = customer_factory(name="Yvonne Castagnède", phones=["+33644556677"])
    published = kb.draft_from_ticket(
        db.session, ticket_id=_solved_ticket(ticket_factory, customer).id, actor=None
    )
    published = kb.publish(db.session, published, actor=None)
    draft = kb.draft_from_ticket(
        db.session, ticket_id=_solved_ticket(ticket_factory, customer).id, actor=None
    )
    assert [h.id for h in index.search(SearchQuery(text="Castagnède")).hits] == [published.id]

    privacy.erase(db.session, customer, actor_id=None)
    db.session.expire_all()

    # The published article keeps its text, without the customer's name and number.
    assert published.body.startswith("## Probl") and "modem reboots" in published.body
    assert "Castagnède" not in published.body and "06 44 55 66 77" not in published.body
    assert published.body.count("[erased]") == 2
    # A draft is a copy of what the customer wrote: erased whole, revisions included.
    assert (draft.title, draft.body) == ("[erased]", "")
    revisions = db.session.scalars(
        select(ArticleRevision).where(ArticleRevision.article_id.in_([published.id, draft.id]))
    )
    assert all("Castagnède" not in r.body and "06 44" not in r.body for r in revisions)
    # The index holds the new text only.
    assert index.search(SearchQuery(text="Castagnède")).hits == []
    assert [h.id for h in index.search(SearchQuery(text="modem reboots")).hits] == [published.id]
    assert index.versions()[published.id] == published.version
