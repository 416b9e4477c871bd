"""outbound campaigns

Revision ID: 0043
Revises: 0044
Create Date: 2026-12-07 02:29:50.682174
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.db

revision = "0043"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("legal_basis", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=True),
        sa.Column("script_en", sa.Text(), nullable=False),
        sa.Column("script_fr", sa.Text(), nullable=False),
        sa.Column("subject_en", sa.String(length=200), nullable=False),
        sa.Column("subject_fr", sa.String(length=200), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("message_fr", sa.Text(), nullable=False),
        sa.Column(
            "dispositions",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("window_start", sa.Time(), nullable=True),
        sa.Column("window_end", sa.Time(), nullable=True),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_delay_minutes", sa.Integer(), nullable=False),
        sa.Column("starts_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_campaigns_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_status", ["status"], unique=False)

    op.create_table(
        "campaign_agents",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_agents_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_campaign_agents_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "user_id", name=op.f("pk_campaign_agents")),
    )
    op.create_table(
        "campaign_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_disposition", sa.String(length=32), nullable=True),
        sa.Column("excluded_reason", sa.String(length=40), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
            name=op.f("fk_campaign_members_agent_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_members_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_campaign_members_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_members")),
        sa.UniqueConstraint(
            "campaign_id", "customer_id", name=op.f("uq_campaign_members_campaign_id_customer_id")
        ),
        sa.UniqueConstraint(
            "campaign_id", "number", name=op.f("uq_campaign_members_campaign_id_number")
        ),
    )
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_members_due", ["campaign_id", "status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("number", sa.String(length=254), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("local_time", sa.String(length=40), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("sms_id", sa.Integer(), nullable=True),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("delivery", sa.String(length=12), nullable=False),
        sa.Column("disposition", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
            name=op.f("fk_campaign_attempts_agent_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_attempts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["campaign_members.id"],
            name=op.f("fk_campaign_attempts_member_id_campaign_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attempts")),
    )
    with op.batch_alter_table("campaign_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_attempts_campaign_at", ["campaign_id", "at"], unique=False
        )
        batch_op.create_index("ix_campaign_attempts_member", ["member_id"], unique=False)
        batch_op.create_index("ix_campaign_attempts_number", ["number", "channel"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("campaign_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_attempts_number")
        batch_op.drop_index("ix_campaign_attempts_member")
        batch_op.drop_index("ix_campaign_attempts_campaign_at")

    op.drop_table("campaign_attempts")
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_members_due")

    op.drop_table("campaign_members")
    op.drop_table("campaign_agents")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_status")

    op.drop_table("campaigns")
