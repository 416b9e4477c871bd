"""call controls: hold (since when, hold time so far, hold time in the log) and the transfer
under way

Revision ID: 0030
Revises: 0031
Create Date: 2026-12-06 21:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.db

revision = "0030"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(
            sa.Column("held_since", helpdesk.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("hold_seconds", sa.Double(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("transfer", helpdesk.db.json_type(), nullable=True))
        batch.add_column(sa.Column("parties", helpdesk.db.json_type(), nullable=True))
    with op.batch_alter_table("call_events") as batch:
        batch.add_column(sa.Column("hold_s", sa.Double(), nullable=True))
        batch.add_column(sa.Column("wrap_s", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_events") as batch:
        batch.drop_column("wrap_s")
        batch.drop_column("hold_s")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("parties")
        batch.drop_column("transfer")
        batch.drop_column("hold_seconds")
        batch.drop_column("held_since")
