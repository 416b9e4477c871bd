"""Scaled out: an article published by the web side is indexed by a real Celery worker (on Redis,
against PostgreSQL) once its transaction commits, and is then found by search."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from helpdesk.app import create_app
from helpdesk.extensions import db
from kb import service
from kb.indexing import get_index
from kb.search import SearchQuery

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_indexes_a_published_article(settings, database, redis_url, tmp_path):
    settings.REDIS_URL = redis_url
    app = create_app(settings)
    assert app.extensions["celery"].conf.task_always_eager is False
    env = os.environ | {
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "worker"),
        "SECRET_KEY": "x",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli", "worker", "--concurrency", "1", "--pool", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        with app.app_context():
            index = get_index()
            assert index.name == "postgresql"
            article = service.create_article(
                db.session, title="Décodeur qui redémarre en boucle", locale="fr",
                status="published", visibility="public",
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while not index.search(SearchQuery(text="decodeur boucle", locale="fr")).hits:
                assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
                assert time.monotonic() < deadline, "the worker did not index the article"
                time.sleep(0.1)
            hits = index.search(SearchQuery(text="decodeur boucle", locale="fr")).hits
            assert [h.id for h in hits] == [article.id]
            db.session.remove()
            db.engine.dispose()
    finally:
        worker.terminate()
        try:
            out, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
    assert "kb.tasks.index_articles" in out and "succeeded" in out
    database.reset()
