"""The parts of a plan a query narrows to: a unit and the units below it, a key task's
milestones, and the plan's milestones named once for queries that leave them out of joins."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from domain.queries.plans import unknown_unit
from models.orm import Milestone, Task, Unit


def subtree(session: Session, plan_id: str, code: str) -> list[int]:
    """Ids of a unit and every unit below it."""
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.parent_id).where(Unit.plan_id == plan_id)
    ).all()
    root = next((r.id for r in rows if r.code == code), None)
    if root is None:
        raise unknown_unit(session, plan_id, code)
    children: dict[int | None, list[int]] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r.id)
    out, todo = [], [root]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += children.get(current, [])
    return out


def plan_milestones(session: Session, plan_id: str) -> Sequence[Row[int, str, str, str]]:
    """Each milestone of the plan (a few dozen): ``id``, ``code``, ``title`` and its task's
    code as ``task``, by id."""
    return session.execute(
        select(Milestone.id, Milestone.code, Milestone.title, Task.code.label("task"))
        .join(Task, Task.id == Milestone.task_id)
        .where(Task.plan_id == plan_id)
        .order_by(Milestone.id)
    ).all()


def task_milestones(session: Session, plan_id: str, code: str) -> list[int]:
    """Ids of a key task's milestones (the work-item index leads with the milestone)."""
    return list(
        session.scalars(
            select(Milestone.id).join(Task).where(Task.plan_id == plan_id, Task.code == code)
        )
    )


def task_code(session: Session, plan_id: str, task: str) -> str:
    """Accept a task number (3), a code (T03) or a code in any case."""
    query = select(Task.code).where(Task.plan_id == plan_id)
    query = (
        query.where(Task.number == int(task))
        if task.isdigit()
        else query.where(func.upper(Task.code) == task.upper())
    )
    code = session.scalars(query).first()
    if code is None:
        raise NotFoundError(f"规划 {plan_id} 中没有重点任务 {task!r}")
    return code
