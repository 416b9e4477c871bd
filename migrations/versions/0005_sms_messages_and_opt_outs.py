"""sms messages and opt-outs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:50:15.053928
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_number", sa.String(length=32), nullable=False),
        sa.Column("sending_number", sa.String(length=32), nullable=False),
        sa.Column("opted_out_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_opt_outs")),
        sa.UniqueConstraint(
            "customer_number",
            "sending_number",
            name=op.f("uq_sms_opt_outs_customer_number_sending_number"),
        ),
    )
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=False),
        sa.Column("to_number", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "media_urls", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error_code", sa.String(length=10), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flooded", sa.Boolean(), nullable=False),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_user_id"], ["users.id"], name=op.f("fk_sms_messages_author_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_messages_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_sms_messages_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sms_messages_idempotency_key")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_sms_messages_message_sid")),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index("ix_sms_customer", ["customer_id", "created_at"], unique=False)
        batch_op.create_index("ix_sms_from_created", ["from_number", "created_at"], unique=False)
        batch_op.create_index(
            "ix_sms_outbox", ["direction", "status", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_sms_ticket", ["ticket_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_ticket")
        batch_op.drop_index("ix_sms_outbox")
        batch_op.drop_index("ix_sms_from_created")
        batch_op.drop_index("ix_sms_customer")

    op.drop_table("sms_messages")
    op.drop_table("sms_opt_outs")
