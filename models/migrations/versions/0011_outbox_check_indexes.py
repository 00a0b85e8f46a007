"""indexes on the outbox by plan, kind, and due date or day planned

The daily cycle plans only notices not yet in the outbox (``domain.queries.escalation``, ``only_new``):
each kind's query leaves out the notices the outbox holds for its items or units. Without an
index but the dedupe key's, PostgreSQL read every notice of the plan for each kind, a number
that grows every day the plan runs (at a province's size, one day's notices are ≈70,000, and
26 weeks of missing-report notices ≈590,000). Each kind now bounds what it reads: a missing
report by the cycle's due day, behind pace by due dates after the yellow days, the ladder by
the day planned (the notice an item is due today is for the level and repeat cycle it reached
within the ladder's longest stay, 5 working days as shipped: its earlier levels and cycles, a
dozen per long-overdue item, are not read) and these indexes read those alone.

PostgreSQL only: SQLite runs such a check once per row, and offered these indexes it picks one
over the item's or the dedupe key's, reading every notice of a due date for each row (the
ladder's check at 10⁵ items: 0.06 s → 1.2 s). There the bounds are not used either.

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
        op.create_index(
            "ix_notice_plan_id_kind_planned_on", "notice", ["plan_id", "kind", "planned_on"]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_notice_plan_id_kind_planned_on", table_name="notice")
        op.drop_index("ix_notice_plan_id_kind_due", table_name="notice")
