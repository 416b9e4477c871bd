"""`helpdesk warehouse export` shows a progress bar per table and a summary; `status` reads
the manifest; the periodic job waits WAREHOUSE_EXPORT_S between exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask

from helpdesk.cli import main
from helpdesk.extensions import db
from helpdesk.warehouse import layout, service


def _env(app: Flask) -> dict[str, str]:
    return {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_INSTANCE_PATH": app.instance_path,
        "WAREHOUSE_DIR": app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR,
        "REDIS_URL": "",
        "HELPDESK_SCHEDULER": "false",
    }


def test_the_export_command_prints_progress_and_a_summary(app: Flask, ticket_factory: Any) -> None:
    for _ in range(3):
        ticket_factory()
    db.session.commit()
    db.session.rollback()  # let go of SQLite's lock for the command's own connection
    runner = CliRunner()
    result = runner.invoke(main, ["warehouse", "export"], env=_env(app), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # tqdm writes its bars to stderr: one per table, with its row count.
    assert "fact_ticket" in result.stderr and "3/3" in result.stderr
    summary = result.stdout.splitlines()
    ticket_line = next(line for line in summary if line.startswith("fact_ticket"))
    assert ticket_line.split()[1:4] == ["3", "3", "1"]
    assert summary[-1].startswith("full export: ")
    root = Path(app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR)
    assert layout.Manifest.load(root).tables["fact_ticket"].rows == 3

    status = runner.invoke(main, ["warehouse", "status"], env=_env(app), catch_exceptions=False)
    assert status.exit_code == 0
    assert "running     no" in status.stdout
    assert any(line.split()[:2] == ["fact_ticket", "3"] for line in status.stdout.splitlines())

    again = runner.invoke(main, ["warehouse", "export"], env=_env(app), catch_exceptions=False)
    assert again.stdout.splitlines()[-1].startswith("incremental export: ")


def test_the_export_command_refuses_while_another_runs(app: Flask) -> None:
    root = Path(app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR)
    with layout.export_lock(root):
        result = CliRunner().invoke(main, ["warehouse", "export", "--quiet"], env=_env(app))
    assert result.exit_code != 0
    assert "another warehouse export is running" in result.output


def test_the_periodic_job_exports_once_the_interval_has_passed(app: Flask) -> None:
    first = service.periodic(db.session)
    assert first["ran"] and first["full"]
    assert service.periodic(db.session) == {"ran": False, "reason": "fresh"}
    app.config["HELPDESK_SETTINGS"].WAREHOUSE_EXPORT_S = 0
    again = service.periodic(db.session)
    assert again["ran"] and not again["full"]
