"""Thin Celery tasks around the search index upkeep."""

from __future__ import annotations

from celery import shared_task
from whoosh.index import LockError

from helpdesk import events
from helpdesk.db import DbSession
from helpdesk.extensions import db
from kb import indexing


# Idempotent (it indexes the rows as they are when it runs), so a retry or a redelivery is safe.
@shared_task(
    name="kb.tasks.index_articles",
    autoretry_for=(LockError,),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
)
def index_articles(article_ids: list[int]) -> int:
    return indexing.index_now(db.session, indexing.get_index(), article_ids)


@shared_task(
    name="kb.tasks.purge_articles",
    autoretry_for=(LockError,),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
)
def purge_articles(article_ids: list[int]) -> int:
    """Index these articles as they are now, then compact the index: an erasure's old text
    stays in the index's files (as deleted documents) until its segments are rewritten."""
    index = indexing.get_index()
    written = indexing.index_now(db.session, index, article_ids)
    index.optimize()
    return written


def reindex_on_commit(session: DbSession, article_ids: list[int]) -> None:
    """Index these articles once the transaction that changed them commits (never on rollback,
    and the task always finds the rows it names)."""
    ids = list(article_ids)
    events.on_commit(session, lambda: index_articles.delay(ids))
