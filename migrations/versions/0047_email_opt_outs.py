"""e-mail opt-outs (the unsubscribe link of campaign e-mails) and the List-Unsubscribe header
an outgoing mail carries

Revision ID: 0047
Revises: 0043
Create Date: 2026-12-07 04:05:00
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.db

revision = "0047"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("at", helpdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_opt_outs")),
        sa.UniqueConstraint("address", name=op.f("uq_email_opt_outs_address")),
    )
    with op.batch_alter_table("mail_messages") as batch:
        batch.add_column(sa.Column("list_unsubscribe", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mail_messages") as batch:
        batch.drop_column("list_unsubscribe")
    op.drop_table("email_opt_outs")
