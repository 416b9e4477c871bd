"""opening hours per queue: its calendar and its after-hours route

Revision ID: 0032
Revises: 0025
Create Date: 2026-12-06 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0032"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "after_hours",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            "fk_call_queues_calendar_id_sla_calendars",
            "sla_calendars",
            ["calendar_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("call_queues", schema=None) as batch_op:
        batch_op.drop_constraint("fk_call_queues_calendar_id_sla_calendars", type_="foreignkey")
        batch_op.drop_column("after_hours")
        batch_op.drop_column("calendar_id")
