"""an index on the outbox by plan, kind and due date

The daily cycle plans only notices not yet in the outbox (``domain.escalation``, ``only_new``):
each kind's query leaves out the notices the outbox holds for its items or units. Without an
index but the dedupe key's, PostgreSQL read every notice of the plan for each kind, a number
that grows every day the plan runs (at a province's size, one day's notices are ≈70,000). Each
kind now says which due dates its notices can have (a missing report: the cycle's due day;
behind pace: after the yellow days; the ladder: between the oldest open item's due date and the
last one a level has reached), and this index reads those alone.

PostgreSQL only: SQLite runs such a check once per row, and offered this index it picks it over
the item's or the dedupe key's, reading every notice of a due date for each row (the ladder's
check at 10⁵ items: 0.06 s → 1.2 s). There the bounds are not used either (``_due_bounds``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 06:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_notice_plan_id_kind_due", "notice", ["plan_id", "kind", "due"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_notice_plan_id_kind_due", table_name="notice")
