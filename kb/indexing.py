"""Keeping the search index in step with the articles.

`kb.tasks.reindex_on_commit` sends the `kb.tasks.index_articles` task once the article's
transaction has committed: to a Celery worker when scaled out, in-process (eager) in the embedded
deployment; the task calls `index_now`. `document_for` is what the index holds of an article.
`rebuild` and `check` are what `helpdesk kb reindex` and `helpdesk kb check` run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.config import Settings
from helpdesk.db import DbSession
from kb.models import Article, ArticleStatus, Visibility
from kb.search import SearchDocument, SearchIndex


def create_index(settings: Settings, engine: Any) -> SearchIndex:
    """The backend `HELPDESK_KB_SEARCH` names, handed its client."""
    if settings.HELPDESK_KB_SEARCH == "postgresql":
        if settings.is_sqlite:
            raise ValueError("HELPDESK_KB_SEARCH=postgresql needs a PostgreSQL DATABASE_URL")
        from kb.search.postgres import PostgresIndex

        return PostgresIndex(engine)
    if settings.HELPDESK_KB_SEARCH != "whoosh":
        raise ValueError(
            f"HELPDESK_KB_SEARCH must be whoosh or postgresql, not {settings.HELPDESK_KB_SEARCH!r}"
        )
    from kb.search.whoosh import WhooshIndex

    return WhooshIndex(settings.HELPDESK_KB_INDEX_PATH)


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the index lazily: a Whoosh directory is only opened by a process that uses it."""
    app.extensions["kb_index_factory"] = lambda: create_index(settings, _engine(app))


def _engine(app: Flask) -> Any:
    from helpdesk.extensions import db

    with app.app_context():
        return db.engine


def get_index(app: Flask | None = None) -> SearchIndex:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found: SearchIndex | None = app.extensions.get("kb_index")
    if found is None:
        factory: Callable[[], SearchIndex] = app.extensions["kb_index_factory"]
        found = app.extensions.setdefault("kb_index", factory())
    return found


def document_for(article: Article) -> SearchDocument:
    """What the search index holds of `article`."""
    return SearchDocument(
        id=article.id,
        version=article.version,
        locale=article.locale,
        title=article.title,
        body=article.body,
        status=ArticleStatus(article.status).value,
        visibility=Visibility(article.visibility).value,
        categories=tuple(article.category_slugs),
        tags=tuple(article.tags or ()),
    )


def index_now(session: DbSession, index: SearchIndex, article_ids: Iterable[int]) -> int:
    """Index these articles as they are now; ids with no article are removed from the index."""
    ids = list(dict.fromkeys(article_ids))
    found = list(
        session.scalars(
            select(Article).where(Article.id.in_(ids)).options(selectinload(Article.categories))
        )
    )
    present = {a.id for a in found}
    gone = [i for i in ids if i not in present]
    if gone:
        index.delete(gone)
    return index.index(document_for(a) for a in found)


def rebuild(
    session: DbSession, index: SearchIndex, *, batch: int = 1000, progress: Any = None
) -> int:
    """Empty the index and index every article again, in batches (progress: a tqdm bar), then
    optimise it for reading."""
    index.clear()
    last, total = 0, 0
    while True:
        rows = list(
            session.scalars(
                select(Article)
                .where(Article.id > last)
                .order_by(Article.id)
                .limit(batch)
                .options(selectinload(Article.categories))
            )
        )
        if not rows:
            index.optimize()
            return total
        total += index.index([document_for(a) for a in rows])
        last = rows[-1].id
        session.expunge_all()
        if progress is not None:
            progress.update(len(rows))


@dataclass
class CheckReport:
    articles: int = 0
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    orphaned: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)


def check(session: DbSession, index: SearchIndex) -> CheckReport:
    """Articles missing from the index, indexed at an older version, or indexed but deleted."""
    versions = index.versions()
    report = CheckReport()
    for article_id, version in session.execute(select(Article.id, Article.version)):
        report.articles += 1
        held = versions.pop(article_id, None)
        if held is None:
            report.missing.append(article_id)
        elif held != version:
            report.stale.append(article_id)
    report.orphaned = sorted(versions)
    return report
