"""the visit a text is about (the technician's job sheet, the customer's visit texts)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_order_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_sms_messages_work_order_id_work_orders",
            "work_orders",
            ["work_order_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_sms_work_order", ["work_order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_work_order")
        batch_op.drop_constraint("fk_sms_messages_work_order_id_work_orders", type_="foreignkey")
        batch_op.drop_column("work_order_id")
