"""PostgreSQL: the partial index of open items by start date leaves out the waiting ones

"Who owes a report" and "who is behind pace" ask about *active* items: open, window opened, and
not waiting for a prerequisite. The index of 0006 held every open item, and at a province's
size more than half of the open items whose window had opened were waiting: read from the
table only to be dropped. This index holds the active ones alone (the queries say "not waiting"
as ``NOT (open_prerequisites > 0)``, which SQLAlchemy renders as ``open_prerequisites <= 0``,
the index's own condition, so PostgreSQL can prove the index covers them). An item enters it
when its last prerequisite closes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPEN = "state NOT IN ('submitted', 'closed', 'retired')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_work_item_open_start")
    op.execute(
        "CREATE INDEX ix_work_item_active_start ON work_item (plan_id, start)"
        f" WHERE {OPEN} AND open_prerequisites <= 0"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_work_item_active_start")
    op.execute(f"CREATE INDEX ix_work_item_open_start ON work_item (plan_id, start) WHERE {OPEN}")
