"""the title's own search vector, so the strictest search tier reads title matches only

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
        op.execute(
            "CREATE INDEX ix_kb_articles_title_search ON kb_articles USING gin (title_vector)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_title_search")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_column("title_vector")
