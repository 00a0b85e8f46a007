"""a work item's window opens on or before its due date: start <= due, checked by the database

Every writer keeps it already: the catalogue's windows are ``min(start, due)``
(``tasks_catalog.expand.windows``), a sync moves start and due together, and an extension only
moves the due date later. Checked, it lets "active" (open, not waiting, and overdue or its
window open: ``domain.rules.lights.active_condition``) be one range test, the window opened by the
day, since an item past its due date has opened its window too. "Who owes a report" then reads
the active-items index of migration 0008 alone instead of OR-ing it with every item due before
the day (PostgreSQL, 10⁶ items: 25 → 17 ms, twice in each daily cycle).

PostgreSQL: a CHECK constraint. SQLite cannot add a constraint without copying the table (which
would drop the tally's triggers of 0007): two BEFORE triggers abort an insert or an update that
breaks it, naming the constraint in their message. Existing items are checked first, on both:
if any breaks it, the upgrade stops with their ids and changes nothing.

It holds for the current columns only: a replay of a past day pairs today's start with the due
date of that day, so ``active_condition`` serves settled days alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from config.errors import InputError

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = "ck_work_item_start_not_after_due"
MESSAGE = f"{NAME}: the work item starts after its due date"


def upgrade() -> None:
    bind = op.get_bind()
    late = bind.scalars(sa.text("SELECT id FROM work_item WHERE start > due ORDER BY id")).all()
    if late:  # none of duban's writers makes one: a load by other means did
        shown = ", ".join(str(i) for i in late[:20]) + (" …" if len(late) > 20 else "")
        raise InputError(
            f"cannot upgrade to 0010: {len(late)} work item(s) start after their due date"
            f" (ids {shown}); set their start on or before their due date and run"
            " `duban init` again (nothing was changed)"
        )
    if bind.dialect.name == "postgresql":
        op.create_check_constraint(op.f(NAME), "work_item", "start <= due")
        return
    for event, columns in (("insert", ""), ("update", " OF start, due")):
        op.execute(
            f"CREATE TRIGGER {NAME}_{event} BEFORE {event.upper()}{columns} ON work_item"
            f" WHEN NEW.start > NEW.due BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(NAME), "work_item", type_="check")
        return
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER {NAME}_{event}")
