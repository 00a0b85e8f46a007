"""PostgreSQL: statistics on the columns a status depends on; indexes of the open items

``domain.status.status_counts`` groups the work items by what their status depends on
(milestone, state, dates, percent, done day, waiting) before working a status out once per
group. PostgreSQL multiplies the columns' separate distinct counts to guess how many groups
there are: about 200,000 for a million items that make fewer than a thousand. On that guess it
sorts every row (spilling to disk) instead of hashing them into a few groups, three times
slower. Extended statistics (``ndistinct``) on the same columns and expressions give it the
real number.

The daily cycle's other questions are about *open* items only (not submitted, closed or
retired): who owes a report (window opened), who is behind pace (started), which ladder notices
are due (due date passed). Two partial indexes hold the open items by start and by due date,
with the columns those questions read, so each is an index scan over the open items instead of
a pass over every item; items leave them as they are done.

SQLite has nothing like the statistics, and uses a partial index only when a query repeats its
condition word for word with literal values: both are PostgreSQL's alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = "work_item_status_groups"
OPEN = "state NOT IN ('submitted', 'closed', 'retired')"
OPEN_INDEXES = {
    "ix_work_item_open_start": ("start", "unit_id, due, open_prerequisites"),
    "ix_work_item_open_due": ("due", "unit_id, start, open_prerequisites"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # the expressions must read exactly as domain.status.CURRENT_DONE_ON and CURRENT_WAITING
    op.execute(
        f"CREATE STATISTICS {NAME} (ndistinct) ON milestone_id, state, start, due, percent,"
        " (coalesce(submitted_on, moved_on)), (open_prerequisites > 0) FROM work_item"
    )
    for name, (key, included) in OPEN_INDEXES.items():
        op.execute(
            f"CREATE INDEX {name} ON work_item (plan_id, {key}) INCLUDE ({included}) WHERE {OPEN}"
        )
    op.execute("ANALYZE work_item")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {NAME}")
        for name in OPEN_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
