"""when a worker claimed an outbound text for sending

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
