"""a call's once-only events keyed on (call_id, event): entered, callback, abandoned, completed

Copies of one webhook racing each other logged these more than once, and the reports counted
each copy. Earlier copies are removed (the first of each is kept) before the key is made.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# As in helpdesk.supervision.models when this was written: a migration does not follow the code.
ONCE = "event IN ('entered', 'callback', 'abandoned', 'completed')"


def upgrade() -> None:
    op.execute(
        sa.text(
            f"DELETE FROM call_events WHERE call_id IS NOT NULL AND {ONCE} AND id NOT IN ("  # noqa: S608
            f"SELECT min(id) FROM call_events WHERE call_id IS NOT NULL AND {ONCE} "
            "GROUP BY call_id, event)"
        )
    )
    with op.batch_alter_table("call_events", schema=None) as batch_op:
        batch_op.create_index(
            "uq_call_events_once",
            ["call_id", "event"],
            unique=True,
            postgresql_where=sa.text(ONCE),
            sqlite_where=sa.text(ONCE),
        )


def downgrade() -> None:
    with op.batch_alter_table("call_events", schema=None) as batch_op:
        batch_op.drop_index("uq_call_events_once")
