"""calls, queues, presence, offers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:29:55.150536
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("label_fr", sa.String(length=100), nullable=False),
        sa.Column(
            "skills", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("strategy", sa.String(length=20), nullable=False),
        sa.Column(
            "steps", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("ring_timeout_s", sa.Integer(), nullable=False),
        sa.Column("wrap_up_s", sa.Integer(), nullable=False),
        sa.Column("callback_after_s", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_call_queues_name")),
    )
    op.create_table(
        "agent_presence",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("since", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("idle_since", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("wrap_up_until", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_offered_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("calls_today", sa.Integer(), nullable=False),
        sa.Column("calls_day", sa.String(length=10), nullable=False),
        sa.Column("current_call_id", sa.Integer(), nullable=True),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_presence_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_presence")),
    )
    with op.batch_alter_table("agent_presence", schema=None) as batch_op:
        batch_op.create_index("ix_agent_presence_state", ["state"], unique=False)

    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=False),
        sa.Column("to_number", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "ivr_path", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("routing_state", sa.String(length=10), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "declined_by", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offered_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Double(), nullable=True),
        sa.Column("talk_seconds", sa.Double(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("callback_requested", sa.Boolean(), nullable=False),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("disposition", sa.String(length=50), nullable=True),
        sa.Column("wrap_up_notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_calls_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_calls_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["call_queues.id"], name=op.f("fk_calls_queue_id_call_queues")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_calls_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_calls_call_sid")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_agent", ["agent_id", "created_at"], unique=False)
        batch_op.create_index("ix_calls_customer", ["customer_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_calls_routing",
            ["routing_state", "queue_id", "priority", "enqueued_at"],
            unique=False,
        )

    op.create_table(
        "call_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_call_offers_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_offers_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_offers")),
    )
    with op.batch_alter_table("call_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_offers_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_offers_call_id"), ["call_id"], unique=False)
        batch_op.create_index("ix_call_offers_pending", ["state", "expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_call_offers_pending")
        batch_op.drop_index(batch_op.f("ix_call_offers_call_id"))
        batch_op.drop_index(batch_op.f("ix_call_offers_agent_id"))

    op.drop_table("call_offers")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_routing")
        batch_op.drop_index("ix_calls_customer")
        batch_op.drop_index("ix_calls_agent")

    op.drop_table("calls")
    with op.batch_alter_table("agent_presence", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_presence_state")

    op.drop_table("agent_presence")
    op.drop_table("call_queues")
