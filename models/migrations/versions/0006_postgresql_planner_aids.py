"""PostgreSQL: statistics on the columns a status depends on; an index of the open items

``domain.queries.status.status_counts`` groups the work items by what their status depends on
(milestone, state, dates, percent, done day, waiting) before working a status out once per
group. PostgreSQL multiplies the columns' separate distinct counts to guess how many groups
there are: about 200,000 for a million items that make fewer than a thousand. On that guess it
sorts every row (spilling to disk) instead of hashing them into a few groups, three times
slower. Extended statistics (``ndistinct``) on the same columns and expressions give it the
real number.

Two of the daily cycle's other questions are about *open* items (not submitted, closed or
retired) whose window has opened: who owes a report, who is behind pace. A partial index holds
the open items by start date, so each reads those instead of every item; items leave it as they
are done. (The ladder and the overdue list read the due-date index of 0001: tried with a
partial one like this, PostgreSQL kept the full one.)

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
OPEN_START = "ix_work_item_open_start"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # the expressions must read exactly as domain.queries.status.CURRENT_DONE_ON and CURRENT_WAITING
    op.execute(
        f"CREATE STATISTICS {NAME} (ndistinct) ON milestone_id, state, start, due, percent,"
        " (coalesce(submitted_on, moved_on)), (open_prerequisites > 0) FROM work_item"
    )
    op.execute(f"CREATE INDEX {OPEN_START} ON work_item (plan_id, start) WHERE {OPEN}")
    op.execute("ANALYZE work_item")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {NAME}")
        op.execute(f"DROP INDEX IF EXISTS {OPEN_START}")
