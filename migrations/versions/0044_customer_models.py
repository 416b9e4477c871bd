"""customer models: scores and training runs

Revision ID: 0044
Revises: 0045
Create Date: 2026-12-07 02:40:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.db

revision = "0044"
down_revision = "0045"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "model_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("trained_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("metrics", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_runs")),
    )
    op.create_index("ix_model_runs_kind_trained", "model_runs", ["kind", "trained_at"])
    op.create_table(
        "customer_scores",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("clv_cents", sa.BigInteger(), nullable=False),
        sa.Column("clv_percentile", sa.Float(), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("expected_purchases_12m", sa.Float(), nullable=False),
        sa.Column("churn_risk", sa.Float(), nullable=True),
        sa.Column("drivers", _json(), nullable=False),
        sa.Column("method", sa.String(length=48), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("computed_at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_scores_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_scores")),
    )
    op.create_index("ix_customer_scores_clv", "customer_scores", ["clv_cents"])


def downgrade() -> None:
    op.drop_index("ix_customer_scores_clv", table_name="customer_scores")
    op.drop_table("customer_scores")
    op.drop_index("ix_model_runs_kind_trained", table_name="model_runs")
    op.drop_table("model_runs")
