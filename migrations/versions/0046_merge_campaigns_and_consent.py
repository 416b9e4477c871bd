"""merge the campaigns (0043) and consent (0045) branches of the chain

Revision ID: 0046
Revises: 0043, 0045
Create Date: 2026-12-07 03:22:00.000000

No schema change: it only joins the two heads so that `upgrade head` has one. When the chain is
re-ordered into one line, this revision is no longer needed.
"""

revision = "0046"
down_revision = ("0043", "0045")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
