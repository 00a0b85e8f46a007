"""What a finished plan leaves to carry over (结转): its items not closed by a day, grouped by
key task and milestone, each with where it stood then (state, last report, last reason)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from config.errors import NotFoundError
from domain.queries.item_status import state_as_of
from domain.rules.carry_over import (
    STATES_WITH_REASON,
    CarryOver,
    OpenMilestone,
    OpenTask,
    Standing,
)
from models.enums import ItemState, TaskRole
from models.orm import ItemTransition, Milestone, Plan, Report, Task, TaskUnit, Unit, WorkItem
from models.records import MilestoneDependency


def carry_over(session: Session, plan_id: str, as_of: date | None) -> CarryOver:
    """The items of ``plan_id`` that existed and were not closed (nor retired) on ``as_of``
    (default: the plan's end), by task and milestone in catalogue order."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        known = "、".join(session.scalars(select(Plan.id).order_by(Plan.id))) or "无"
        raise NotFoundError(f"数据库中没有规划 {plan_id!r}（已有：{known}）")
    day = as_of or plan.period_end
    standings = _standings(session, plan_id, day)
    by_milestone: dict[int, list[Standing]] = {}
    for milestone_id, standing in standings:
        by_milestone.setdefault(milestone_id, []).append(standing)
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.plan_id == plan_id))}
    counts = dict(
        session.execute(
            select(WorkItem.milestone_id, func.count(func.distinct(WorkItem.unit_id)))
            .where(WorkItem.milestone_id.in_(by_milestone))
            .group_by(WorkItem.milestone_id)
        ).all()
    )
    milestones = session.scalars(
        select(Milestone).where(Milestone.id.in_(by_milestone)).order_by(Milestone.id)
    ).all()
    prerequisite = aliased(Milestone)
    depends_on: dict[int, list[str]] = {}
    for milestone_id, code in session.execute(
        select(MilestoneDependency.milestone_id, prerequisite.code)
        .join(prerequisite, prerequisite.id == MilestoneDependency.depends_on_id)
        .where(MilestoneDependency.milestone_id.in_(by_milestone))
        .order_by(prerequisite.code)
    ):
        depends_on.setdefault(milestone_id, []).append(code)
    tasks = {
        t.id: t
        for t in session.scalars(select(Task).where(Task.id.in_({m.task_id for m in milestones})))
    }
    cooperating: dict[int, set[int]] = {}
    for task_id, unit_id in session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id).where(
            TaskUnit.task_id.in_(tasks), TaskUnit.role == TaskRole.COOPERATING.value
        )
    ):
        cooperating.setdefault(task_id, set()).add(unit_id)
    open_tasks: dict[int, list[OpenMilestone]] = {}
    for m in milestones:
        open_tasks.setdefault(m.task_id, []).append(
            OpenMilestone(
                code=m.code,
                title=m.title,
                deliverable=m.deliverable,
                evidence=list(m.evidence),
                due=m.due,
                rrule=m.rrule,
                owner=units[m.owner_unit_id].code,
                fanned_out=m.fan_out is not None,
                items=by_milestone[m.id],
                all_units=counts.get(m.id, 0),
                depends_on=depends_on.get(m.id, []),
            )
        )
    code_of = {u.id: u.code for u in units.values()}
    result = []
    for task_id, open_milestones in open_tasks.items():
        task = tasks[task_id]
        lead = session.scalar(
            select(TaskUnit.unit_id).where(
                TaskUnit.task_id == task_id, TaskUnit.role == TaskRole.LEAD.value
            )
        )
        unfinished = {u for m in open_milestones for u in m.units}
        result.append(
            OpenTask(
                number=task.number,
                code=task.code,
                title=task.title,
                description=task.description,
                lead=code_of[lead] if lead is not None else open_milestones[0].owner,
                responsibility=task.responsibility,
                cooperating=sorted(
                    code_of[u] for u in cooperating.get(task_id, set()) if code_of[u] in unfinished
                ),
                milestones=open_milestones,
            )
        )
    result.sort(key=lambda t: t.number)
    return CarryOver(
        plan_id=plan.id,
        title=plan.title,
        timezone=plan.timezone,
        period_start=plan.period_start,
        period_end=plan.period_end,
        as_of=day,
        tasks=result,
        unit_names={u.code: u.name for u in units.values()},
    )


def _standings(session: Session, plan_id: str, day: date) -> list[tuple[int, Standing]]:
    """(milestone id, standing) of every item unfinished on ``day``, by unit and due date."""
    history = state_as_of(day, select(WorkItem.id).where(WorkItem.plan_id == plan_id)).subquery()
    state = func.coalesce(history.c.state, ItemState.ASSIGNED.value)
    last_report = (
        select(Report.item_id, func.max(Report.id).label("report_id"))
        .where(Report.plan_id == plan_id, Report.received_on <= day)
        .group_by(Report.item_id)
        .subquery()
    )
    last_move = (
        select(ItemTransition.item_id, func.max(ItemTransition.id).label("transition_id"))
        .join(WorkItem, WorkItem.id == ItemTransition.item_id)
        .where(WorkItem.plan_id == plan_id, ItemTransition.on_date <= day)
        .group_by(ItemTransition.item_id)
        .subquery()
    )
    rows = session.execute(
        select(WorkItem, state, Unit.code, Unit.name, Report, ItemTransition.reason)
        .join(Unit, Unit.id == WorkItem.unit_id)
        .outerjoin(history, history.c.item_id == WorkItem.id)
        .outerjoin(last_report, last_report.c.item_id == WorkItem.id)
        .outerjoin(Report, Report.id == last_report.c.report_id)
        .outerjoin(last_move, last_move.c.item_id == WorkItem.id)
        .outerjoin(ItemTransition, ItemTransition.id == last_move.c.transition_id)
        .where(
            WorkItem.plan_id == plan_id,
            or_(WorkItem.created_on.is_(None), WorkItem.created_on <= day),
            state.not_in([ItemState.CLOSED.value, ItemState.RETIRED.value]),
        )
        .order_by(WorkItem.milestone_id, Unit.code, WorkItem.due, WorkItem.occurrence)
    )
    return [
        (
            item.milestone_id,
            Standing(
                item_id=item.id,
                unit=unit,
                unit_name=name,
                due=item.due,
                state=item_state,
                percent=report.percent if report else 0,
                reported_on=report.received_on if report else None,
                note=report.note if report else None,
                problem=report.problem if report else None,
                reason=reason if item_state in STATES_WITH_REASON else None,
            ),
        )
        for item, item_state, unit, name, report, reason in rows
    ]
