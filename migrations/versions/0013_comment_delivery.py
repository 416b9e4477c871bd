"""how each public reply reaches the customer: channel, destination, delivery state

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_channel", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("delivery_to", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column("delivery_ref", sa.String(length=250), nullable=True))
        batch_op.create_index("ix_ticket_comments_delivery_ref", ["delivery_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_comments_delivery_ref")
        batch_op.drop_column("delivery_ref")
        batch_op.drop_column("delivery_status")
        batch_op.drop_column("delivery_to")
        batch_op.drop_column("delivery_channel")
