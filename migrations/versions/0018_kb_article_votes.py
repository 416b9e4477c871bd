"""help-center answers: one per visitor and article

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06 14:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.db

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_article_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "visitor", name="uq_kb_article_votes_visitor"),
    )


def downgrade() -> None:
    op.drop_table("kb_article_votes")
