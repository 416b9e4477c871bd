"""sla calendars, policies, clocks, escalations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:07:12.820500
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "weekly", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("always_open", sa.Boolean(), nullable=False),
        sa.Column("holiday_country", sa.String(length=4), nullable=True),
        sa.Column("holiday_subdivision", sa.String(length=20), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("updated_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_calendars_name")),
    )
    op.create_table(
        "sla_calendar_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("starts_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["sla_calendars.id"],
            name=op.f("fk_sla_calendar_exceptions_calendar_id_sla_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_calendar_exceptions")),
    )
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column(
            "conditions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "targets", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "pause_statuses",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("at_risk_ratio", sa.Double(), nullable=False),
        sa.Column(
            "escalations", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["sla_calendars.id"],
            name=op.f("fk_sla_policies_calendar_id_sla_calendars"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("at_risk_ratio", sa.Double(), nullable=False),
        sa.Column("elapsed_seconds", sa.Double(), nullable=False),
        sa.Column("running_since", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("started_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("at_risk_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("breached_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("at_risk_notified", sa.Boolean(), nullable=False),
        sa.Column("breach_notified", sa.Boolean(), nullable=False),
        sa.Column("next_check_at", helpdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_clocks_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_sla_clocks_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
        sa.UniqueConstraint(
            "ticket_id", "metric", "cycle", name=op.f("uq_sla_clocks_ticket_id_metric_cycle")
        ),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_sla_clocks_next_check_at", ["next_check_at"], unique=False)
        batch_op.create_index("ix_sla_clocks_state_due", ["state", "due_at"], unique=False)

    op.create_table(
        "sla_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clock_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("rule_index", sa.Integer(), nullable=False),
        sa.Column(
            "actions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("fired_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clock_id"],
            ["sla_clocks.id"],
            name=op.f("fk_sla_escalations_clock_id_sla_clocks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_sla_escalations_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_escalations")),
        sa.UniqueConstraint(
            "clock_id",
            "trigger",
            "rule_index",
            name=op.f("uq_sla_escalations_clock_id_trigger_rule_index"),
        ),
    )
    with op.batch_alter_table("sla_escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sla_escalations_ticket_id"), ["ticket_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sla_escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_escalations_ticket_id"))

    op.drop_table("sla_escalations")
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_state_due")
        batch_op.drop_index("ix_sla_clocks_next_check_at")

    op.drop_table("sla_clocks")
    op.drop_table("sla_policies")
    op.drop_table("sla_calendar_exceptions")
    op.drop_table("sla_calendars")
