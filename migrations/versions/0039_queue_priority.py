"""a queue's priority, added to the place in line of its callers

Revision ID: 0039
Revises: 0035
Create Date: 2026-12-07 00:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("call_queues", schema=None) as batch_op:
        batch_op.drop_column("priority")
