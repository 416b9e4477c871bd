"""call recordings, queue recording policies, supervisors on a call

Revision ID: 0031
Revises: 0032
Create Date: 2026-12-06 21:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.db

revision = "0031"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_recording",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["call_queues.id"],
            name=op.f("fk_queue_recording_queue_id_call_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("queue_id", name=op.f("pk_queue_recording")),
    )
    op.create_table(
        "call_recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_recordings_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["call_queues.id"],
            name=op.f("fk_call_recordings_queue_id_call_queues"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_call_recordings_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_call_recordings_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_recordings")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_call_recordings_recording_sid")),
    )
    op.create_index("ix_call_recordings_call", "call_recordings", ["call_id"])
    op.create_index("ix_call_recordings_customer", "call_recordings", ["customer_id", "created_at"])
    op.create_index("ix_call_recordings_expires", "call_recordings", ["expires_at"])
    op.create_table(
        "call_monitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("barge_slot", sa.String(length=8), nullable=True),
        sa.Column("leg_sid", sa.String(length=64), nullable=True),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_monitors_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["users.id"],
            name=op.f("fk_call_monitors_supervisor_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_monitors")),
        sa.UniqueConstraint(
            "call_id", "barge_slot", name=op.f("uq_call_monitors_call_id_barge_slot")
        ),
    )
    op.create_index(op.f("ix_call_monitors_call_id"), "call_monitors", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_call_monitors_call_id"), table_name="call_monitors")
    op.drop_table("call_monitors")
    op.drop_index("ix_call_recordings_expires", table_name="call_recordings")
    op.drop_index("ix_call_recordings_customer", table_name="call_recordings")
    op.drop_index("ix_call_recordings_call", table_name="call_recordings")
    op.drop_table("call_recordings")
    op.drop_table("queue_recording")
