"""The facts of the public pages, read in three statements: the key tasks with their lead
units, the items counted per milestone and status, and the indicators."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from domain.queries.counts import status_counts
from domain.queries.indicators import indicator_values
from domain.rules.context import Context
from domain.rules.disclosure import Disclosure, TaskRow, disclosure
from models.enums import TaskRole
from models.orm import Task, TaskUnit, Unit


def live_tasks(session: Session, plan_id: str) -> list[TaskRow]:
    """The plan's live key tasks in order: (code, number, title, lead unit's name)."""
    rows = session.execute(
        select(Task.code, Task.number, Task.title, Unit.name)
        .join(TaskUnit, and_(TaskUnit.task_id == Task.id, TaskUnit.role == TaskRole.LEAD.value))
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .where(Task.plan_id == plan_id, Task.retired_at.is_(None))
        .order_by(Task.number)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def disclosure_view(session: Session, ctx: Context) -> Disclosure:
    """The public view of the context's plan on its day."""
    plan = ctx.plan
    return disclosure(
        plan.title,
        (plan.period_start, plan.period_end),
        ctx.day,
        live_tasks(session, plan.id),
        status_counts(session, ctx),
        indicator_values(session, plan.id, ctx.day),
    )
