"""ticket merge (a duplicate points at the ticket it was merged into) and undoable bulk changes

Revision ID: 0035
Revises: 0037
Create Date: 2026-12-06 23:50:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.db

revision = "0035"
down_revision = "0037"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_tickets_merged_into_id_tickets"),
            "tickets",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_tickets_merged_into_id", ["merged_into_id"], unique=False)
    op.create_table(
        "ticket_bulk_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("before", _json(), nullable=False),
        sa.Column("after", _json(), nullable=False),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_ticket_bulk_changes_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_bulk_changes")),
    )
    op.create_index(
        "ix_ticket_bulk_changes_actor_id",
        "ticket_bulk_changes",
        ["actor_user_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_bulk_changes_actor_id", table_name="ticket_bulk_changes")
    op.drop_table("ticket_bulk_changes")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_merged_into_id")
        batch.drop_constraint("fk_tickets_merged_into_id_tickets", type_="foreignkey")
        batch.drop_column("merged_into_id")
