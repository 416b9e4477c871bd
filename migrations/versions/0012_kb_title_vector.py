"""the title's own search vector, so the strictest search tier reads title matches only; the
search indexes split by locale

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:45:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LOCALES = ("fr", "en")  # kb/search/postgres.py CONFIGS


def upgrade() -> None:
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "title_vector",
                sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
                nullable=True,
            )
        )
    if op.get_bind().dialect.name == "postgresql":
        # The title's lexemes are the weight-A part of the article's vector: no reindex needed.
        op.execute(
            "UPDATE kb_articles SET title_vector = ts_filter(search_vector, '{a}') "
            "WHERE search_vector IS NOT NULL"
        )
        # One index per locale: every search names its locale, so the planner reads the
        # locale's index alone instead of intersecting a whole-table index with the listing one.
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_search")
        for locale in LOCALES:
            for column, name in (("search_vector", "search"), ("title_vector", "title_search")):
                op.execute(
                    f"CREATE INDEX ix_kb_articles_{name}_{locale} ON kb_articles "
                    f"USING gin ({column}) WHERE locale = '{locale}'"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for locale in LOCALES:
            op.execute(f"DROP INDEX IF EXISTS ix_kb_articles_search_{locale}")
            op.execute(f"DROP INDEX IF EXISTS ix_kb_articles_title_search_{locale}")
        op.execute("CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (search_vector)")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_column("title_vector")
