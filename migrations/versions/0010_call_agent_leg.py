"""the agent leg's CallSid on calls bridged through a conference

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_call_sid", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("agent_call_sid")
