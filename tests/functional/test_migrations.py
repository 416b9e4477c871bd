"""The Alembic migrations build exactly the schema the models describe, and step back down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from helpdesk.db import Base
from helpdesk.migrate import downgrade, upgrade
from helpdesk.models import load_all


def test_migrations_match_models_and_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    load_all()
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
    downgrade(url, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()
