"""Knowledge-base articles drafted from a customer's tickets, and the search index.

A draft made from one of the customer's tickets (`draft_from_ticket`) is a copy of what they
wrote: while it is still a draft, its text and every revision's are erased. An article published
from such a ticket was rewritten by its author for everyone to read: only the customer's names,
numbers, e-mail addresses and addresses are replaced, in it and in its revisions. The index is
then rewritten for those articles and compacted, so that its files keep no copy of the old text;
the PostgreSQL backend's vocabulary (`kb_terms`) loses the words only the erased text had.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, or_, select

from helpdesk.db import DbSession, rowcount
from helpdesk.events import on_commit
from helpdesk.privacy.registry import ERASED, Holder, Subject, exempt, redact, register
from kb.models import Article, ArticleRevision, ArticleStatus, Category, Term
from kb.text import words


def _articles(session: DbSession, subject: Subject) -> list[Article]:
    from helpdesk.tickets.models import Ticket

    tickets = select(Ticket.id).where(Ticket.requester_id.in_(subject.customer_ids))
    return list(
        session.scalars(
            select(Article).where(Article.source_ticket_id.in_(tickets)).order_by(Article.id)
        )
    )


def _words(*texts: str) -> set[str]:
    return set(words(" ".join(texts)))


def _forget_words(session: DbSession, gone: set[str], touched: list[int]) -> int:
    """Drop from the vocabulary (`kb_terms`, the PostgreSQL backend's typo corrections) the words
    only the erased text had: those no other article still contains."""
    known = set(session.scalars(select(Term.word).where(Term.word.in_(gone)))) if gone else set()
    unused = [
        w
        for w in sorted(known)
        if session.scalar(
            select(Article.id)
            .where(
                Article.id.not_in(touched),
                or_(Article.title.ilike(f"%{w}%"), Article.body.ilike(f"%{w}%")),
            )
            .limit(1)
        )
        is None
    ]
    if not unused:
        return 0
    return rowcount(session.execute(delete(Term).where(Term.word.in_(unused))))


def erase(session: DbSession, subject: Subject) -> int:
    changed = 0
    touched: list[int] = []
    old_words: set[str] = set()
    new_words: set[str] = set()
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
        old_words |= _words(
            article.title, article.body, *(r.title + " " + r.body for r in revisions)
        )
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
        new_words |= _words(article.title, article.body)
        if moved:
            article.version += 1
            touched.append(article.id)
            changed += 1
    changed += _forget_words(session, old_words - new_words, touched)
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
