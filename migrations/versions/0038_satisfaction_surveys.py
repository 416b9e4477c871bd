"""satisfaction surveys: one row per survey sent, with its answer

Revision ID: 0038
Revises: 0040
Create Date: 2026-12-07 00:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.db

revision = "0038"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(length=50), nullable=True),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sent_to", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("outbox_ref", sa.String(length=40), nullable=True),
        sa.Column("sent_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("answered_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_surveys_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_surveys_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
            name=op.f("fk_surveys_agent_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_surveys_token_hash")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index("ix_surveys_customer_sent", ["customer_id", "sent_at"], unique=False)
        batch_op.create_index("ix_surveys_sent_to", ["sent_to", "sent_at"], unique=False)
        batch_op.create_index(
            "ix_surveys_agent_answered", ["agent_id", "answered_at"], unique=False
        )
        batch_op.create_index("ix_surveys_answered", ["answered_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveys_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveys_ticket_id"))
        batch_op.drop_index("ix_surveys_answered")
        batch_op.drop_index("ix_surveys_agent_answered")
        batch_op.drop_index("ix_surveys_sent_to")
        batch_op.drop_index("ix_surveys_customer_sent")

    op.drop_table("surveys")
