"""The work-item tally (migration 0007): each plan's items counted by what their status depends
on, kept by triggers on ``work_item`` as a ledger of signed counts.

Three things are done to it from Python: :func:`fold_tally` adds each key's rows up into one
after a bulk change (a sync, a day's collection), :func:`tally_drift` compares it with a count
of the items themselves, and :func:`recount_tally` rebuilds it from the items (after a load
that bypassed the triggers).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import SQLColumnExpression, delete, func, insert, literal_column, select, text
from sqlalchemy.orm import Session

from models.orm import WorkItem, work_item_tally

DONE_ON = func.coalesce(WorkItem.submitted_on, WorkItem.moved_on)
"""On a settled day, the day an item was done (its state says whether it is)."""
WAITING = WorkItem.open_prerequisites > literal_column("0")
"""On a settled day, whether an item waits for a prerequisite. (The 0 is written into the SQL,
not bound, so PostgreSQL matches the expression to its statistics from migration 0006 even in a
generic plan.)"""

ITEM_KEY: tuple[SQLColumnExpression[Any], ...] = (
    WorkItem.plan_id,
    WorkItem.milestone_id,
    WorkItem.state,
    WorkItem.start,
    WorkItem.due,
    WorkItem.percent,
    DONE_ON,
    WAITING,
)
"""An item's key in the tally, in the order of the tally's columns (the triggers of migration
0007 spell the same expressions in SQL)."""
KEY_COLUMNS = [c for c in work_item_tally.c if c.name != "n"]

FOLD_POSTGRESQL = text(
    "WITH gone AS (DELETE FROM work_item_tally WHERE plan_id = :plan RETURNING *)"
    " INSERT INTO work_item_tally"
    " (plan_id, milestone_id, state, start, due, percent, done_on, waiting, n)"
    " SELECT plan_id, milestone_id, state, start, due, percent, done_on, waiting, sum(n)"
    " FROM gone GROUP BY plan_id, milestone_id, state, start, due, percent, done_on, waiting"
    " HAVING sum(n) <> 0"
)

Key = tuple[str, int, str, date, date, int, date | None, bool]


def fold_tally(session: Session, plan_id: str) -> int:
    """Replace the plan's tally rows by one row per key with their sum (keys summing to 0
    dropped); returns the rows left. The rows summed are exactly the rows deleted (one
    statement), so rows other transactions append meanwhile stay as they are and count."""
    t = work_item_tally
    if session.get_bind().dialect.name == "postgresql":
        session.execute(FOLD_POSTGRESQL, {"plan": plan_id})
    else:  # SQLite: no DELETE in a WITH; one writer at a time, so add up in Python
        sums: Counter[tuple[Any, ...]] = Counter()
        for *key, n in session.execute(delete(t).where(t.c.plan_id == plan_id).returning(*t.c)):
            sums[tuple(key)] += n
        rows = [
            {**{c.name: v for c, v in zip(KEY_COLUMNS, key, strict=True)}, "n": n}
            for key, n in sums.items()
            if n != 0
        ]
        if rows:
            session.execute(insert(t), rows)
    return session.scalar(select(func.count()).where(t.c.plan_id == plan_id)) or 0


def tally_drift(session: Session, plan_id: str) -> list[tuple[Key, int, int]]:
    """Each key whose tallied count differs from the items': (key, tallied, counted). Empty
    when the tally is right."""
    t = work_item_tally
    tallied = {
        _key(tuple(r[1:])): int(r[0])
        for r in session.execute(
            select(func.sum(t.c.n), *KEY_COLUMNS)
            .where(t.c.plan_id == plan_id)
            .group_by(*KEY_COLUMNS)
        )
    }
    counted = {
        _key(tuple(r[1:])): int(r[0])
        for r in session.execute(
            select(func.count(), *ITEM_KEY).where(WorkItem.plan_id == plan_id).group_by(*ITEM_KEY)
        )
    }
    return sorted(
        (
            (k, tallied.get(k, 0), counted.get(k, 0))
            for k in tallied.keys() | counted.keys()
            if tallied.get(k, 0) != counted.get(k, 0)
        ),
        key=lambda d: tuple(str(v) for v in d[0]),
    )


def _key(values: tuple[Any, ...]) -> Key:
    plan_id, milestone_id, state, start, due, percent, done_on, waiting = values
    return (plan_id, milestone_id, state, start, due, percent, done_on, bool(waiting))


def recount_tally(session: Session, plan_id: str) -> int:
    """Rebuild the plan's tally from its items; returns the rows written. On PostgreSQL the
    work items are locked against writes meanwhile (reads go on), and the tally against folds,
    whose sums would otherwise land beside the recount."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE work_item IN SHARE MODE"))
        session.execute(text("LOCK TABLE work_item_tally IN SHARE ROW EXCLUSIVE MODE"))
    t = work_item_tally
    session.execute(delete(t).where(t.c.plan_id == plan_id))
    counted = select(*ITEM_KEY, func.count()).where(WorkItem.plan_id == plan_id).group_by(*ITEM_KEY)
    session.execute(insert(t).from_select([*(c.name for c in KEY_COLUMNS), "n"], counted))
    return session.scalar(select(func.count()).where(t.c.plan_id == plan_id)) or 0
