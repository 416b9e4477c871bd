"""tickets by requester, last changed first (the customer portal's list)

Revision ID: 0042
Revises: 0038
Create Date: 2026-12-07 01:15:00.000000
"""

from alembic import op

revision = "0042"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Read backwards, it gives a customer's newest 200 tickets without sorting all of them; without
    # it PostgreSQL walks the whole table by `updated_at` for a customer with many tickets.
    op.create_index(
        "ix_tickets_requester_updated_id",
        "tickets",
        ["requester_id", "updated_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_requester_updated_id", table_name="tickets")
