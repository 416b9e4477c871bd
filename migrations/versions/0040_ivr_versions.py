"""the IVR's configuration as published versions

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 00:20:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.db

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ivr_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("copied_from", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_ivr_versions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_versions")),
    )
    with op.batch_alter_table("ivr_versions", schema=None) as batch_op:
        batch_op.create_index("ix_ivr_versions_published", ["published_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ivr_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_ivr_versions_published")

    op.drop_table("ivr_versions")
