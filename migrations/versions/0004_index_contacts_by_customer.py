"""index contacts by customer

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:35:00.364188
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_emails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_emails_customer_id"), ["customer_id"], unique=False
        )

    with op.batch_alter_table("customer_phones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_phones_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_phones_customer_id"))

    with op.batch_alter_table("customer_emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_emails_customer_id"))
