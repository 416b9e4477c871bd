"""Knowledge-base articles drafted from a customer's tickets, and the search index.

A draft made from one of the customer's tickets (`draft_from_ticket`) is a copy of what they
wrote: while it is still a draft, its text and every revision's are erased. An article published
from such a ticket was rewritten by its author for everyone to read: only the customer's names,
numbers, e-mail addresses and addresses are replaced, in it and in its revisions. The index is
then rewritten for those articles and compacted, so that its files keep no copy of the old text;
the PostgreSQL backend's vocabulary (`kb_terms`) loses the customer's numbers and addresses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select

from helpdesk.db import DbSession, rowcount
from helpdesk.events import on_commit
from helpdesk.privacy.registry import ERASED, Holder, Subject, exempt, redact, register
from kb.models import Article, ArticleRevision, ArticleStatus, Category, Term


def _articles(session: DbSession, subject: Subject) -> list[Article]:
    from helpdesk.tickets.models import Ticket

    tickets = select(Ticket.id).where(Ticket.requester_id.in_(subject.customer_ids))
    return list(
        session.scalars(
            select(Article).where(Article.source_ticket_id.in_(tickets)).order_by(Article.id)
        )
    )


def _vocabulary(subject: Subject) -> set[str]:
    """The index words the customer's identifiers would have become (lower case, one word)."""
    words = {re.sub(r"\s+", "", i).lower() for i in subject.identifiers}
    words |= {w for i in subject.identifiers for w in re.findall(r"\d{6,}", i)}
    return {w for w in words if w}


def erase(session: DbSession, subject: Subject) -> int:
    changed = 0
    touched: list[int] = []
    for article in _articles(session, subject):
        draft = ArticleStatus(article.status) is ArticleStatus.DRAFT
        title, body = (
            (ERASED, "")
            if draft
            else (
                redact(article.title, subject),
                redact(article.body, subject),
            )
        )
        revisions = list(
            session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article.id))
        )
        moved = (title, body) != (article.title, article.body)
        article.title, article.body = title, body
        for rev in revisions:
            new = (
                (ERASED, "", "")
                if draft
                else (
                    redact(rev.title, subject),
                    redact(rev.body, subject),
                    redact(rev.note, subject),
                )
            )
            if new != (rev.title, rev.body, rev.note):
                rev.title, rev.body, rev.note = new
                moved = True
        if moved:
            article.version += 1
            touched.append(article.id)
            changed += 1
    words = _vocabulary(subject)
    if words:
        changed += rowcount(session.execute(delete(Term).where(func.lower(Term.word).in_(words))))
    if touched:
        on_commit(session, lambda: _purge(touched))
    return changed


def _purge(article_ids: list[int]) -> None:
    from kb.tasks import purge_articles

    purge_articles.delay(article_ids)


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    return {
        "kb_articles": [
            {
                "id": a.id,
                "title": a.title,
                "status": ArticleStatus(a.status).value,
                "source_ticket_id": a.source_ticket_id,
            }
            for a in _articles(session, subject)
        ]
    }


register(
    Holder(
        name="kb",
        covers={
            "kb_articles": ("title", "body"),
            "kb_article_revisions": ("title", "body", "note"),
            "kb_terms": ("word",),
        },
        erase=erase,
        export=export,
        parts=("kb_articles",),
    )
)
exempt(Category.__tablename__, "name_fr", "configuration: a category's name")
exempt(Category.__tablename__, "name_en", "configuration: a category's name")
exempt(
    "kb_articles",
    "title_vector",
    "derived by the PostgreSQL search backend from the title, rewritten when the article is "
    "indexed again (the erasure reindexes the articles it changes)",
)
