"""`helpdesk kb check` and `helpdesk kb reindex` on the embedded deployment (SQLite + Whoosh)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from helpdesk.app import create_app
from helpdesk.cli import main
from helpdesk.extensions import db
from kb import service


def test_check_finds_what_reindex_repairs(tmp_path: Path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HELPDESK_SCHEDULER", "false")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    app = create_app()
    with app.app_context():
        for n in range(3):
            service.create_article(db.session, title=f"Box {n}", locale="fr", status="published")
        db.session.remove()
        db.engine.dispose()
    r = runner.invoke(main, ["kb", "check"])
    assert r.exit_code == 0, r.output
    assert "3 articles, search backend whoosh" in r.output and "index is up to date" in r.output
    engine = create_engine(url)
    with engine.begin() as conn:  # changed behind the service's back: the index is now stale
        conn.execute(text("UPDATE kb_articles SET version = version + 1 WHERE id = 1"))
    engine.dispose()
    r = runner.invoke(main, ["kb", "check"])
    assert r.exit_code == 1 and "stale in the index: 1 (1)" in r.output
    r = runner.invoke(main, ["kb", "reindex", "--batch", "2"])
    assert r.exit_code == 0, r.output
    assert "3 articles indexed (whoosh)" in r.output
    assert runner.invoke(main, ["kb", "check"]).exit_code == 0
