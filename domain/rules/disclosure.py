"""The public view of a plan's progress (政务公开): key tasks, milestones, counts and indicators.

Built only from titles, public bodies' names, counts and indicator values: the view model has no
field for a person's name, a contact, a report's text or a unit's stated problem, so none can
reach the published pages. An item counts as 已完成 (done, on time or late), 推进中 (under way),
逾期未完成 (past its deadline, not done) or 未开始 (its window not open, or waiting on an
earlier step).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel

from domain.rules.glossary import zh_date
from domain.rules.indicators import IndicatorValue
from models.enums import Light, Status

PUBLIC_STATES: dict[Status, str] = {
    Status.DONE_ON_TIME: "done",
    Status.DONE_LATE: "done",
    Status.ON_TRACK: "under_way",
    Status.DUE_SOON: "under_way",
    Status.BEHIND_PACE: "under_way",
    Status.OVERDUE: "overdue",
    Status.NOT_STARTED: "not_started",
    Status.WAITING: "not_started",
}
"""Each status as one of the four public states."""

INDICATOR_STATES: dict[Light, str] = {
    Light.GREEN: "met",
    Light.YELLOW: "pending",
    Light.RED: "missed",
    Light.GRAY: "none",
    Light.DONE_LATE: "met",
}

_OPS = {">=": "不低于", "<=": "不高于", ">": "高于", "<": "低于", "==": "达到"}


class Tally(BaseModel):
    """Items counted by public state, with the share done."""

    items: int = 0
    done: int = 0
    under_way: int = 0
    overdue: int = 0
    not_started: int = 0

    @property
    def percent_done(self) -> float:
        return round(100 * self.done / self.items, 1) if self.items else 0.0

    def add(self, state: str, n: int) -> Tally:
        values = self.model_dump()
        values[state] += n
        values["items"] += n
        return Tally(**values)


class PublicMilestone(BaseModel):
    title: str
    tally: Tally


class PublicTask(BaseModel):
    number: int
    title: str
    lead: str
    slug: str
    tally: Tally
    milestones: list[PublicMilestone]


class PublicIndicator(BaseModel):
    name: str
    target: str
    value: str
    reported: str
    state: str  # met, pending (target date not reached), missed, none (nothing reported)


class Disclosure(BaseModel):
    """Everything the public pages show, and nothing else."""

    plan_title: str
    period: str
    as_of: date
    as_of_zh: str
    tally: Tally
    tasks: list[PublicTask]
    indicators: list[PublicIndicator]


TaskRow = tuple[str, int, str, str]
"""(task code, number, title, lead unit's name)."""

CountRow = tuple[str, str, str, str, int]
"""(task code, milestone code, milestone title, status, number of items)."""


def _natural(code: str) -> tuple[object, ...]:
    """M2 before M10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", code))


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def public_indicator(v: IndicatorValue) -> PublicIndicator:
    """An indicator's target, value and coverage in words, and where it stands."""
    op = _OPS.get(v.target_op, v.target_op)
    unit = v.unit_of_measure
    return PublicIndicator(
        name=v.name,
        target=f"{zh_date(v.due)}前{op}{_number(v.target)}{unit}",
        value="暂无数据" if v.value is None else f"{_number(v.value)}{unit}",
        reported=f"{v.units_reported}/{v.units_in_scope}个单位已报送",
        state=INDICATOR_STATES[v.light] if v.value is not None else "none",
    )


def disclosure(
    plan_title: str,
    period: tuple[date, date],
    as_of: date,
    tasks: Sequence[TaskRow],
    counts: Sequence[CountRow],
    indicators: Sequence[IndicatorValue],
) -> Disclosure:
    """The public view on ``as_of``: each key task in order with its milestones (in catalogue
    order of their codes) counted by public state; tasks without items are listed with zeros."""
    by_task: dict[str, dict[tuple[str, str], Tally]] = {code: {} for code, *_ in tasks}
    for task, milestone, title, status, n in counts:
        tallies = by_task.setdefault(task, {})
        key = (milestone, title)
        tallies[key] = tallies.get(key, Tally()).add(PUBLIC_STATES[Status(status)], n)
    public_tasks = []
    overall = Tally()
    for code, number, title, lead in tasks:
        milestones = [
            PublicMilestone(title=t, tally=tally)
            for (_, t), tally in sorted(
                by_task.get(code, {}).items(), key=lambda kv: _natural(kv[0][0])
            )
        ]
        task_tally = Tally()
        for m in milestones:
            for state in ("done", "under_way", "overdue", "not_started"):
                task_tally = task_tally.add(state, getattr(m.tally, state))
                overall = overall.add(state, getattr(m.tally, state))
        public_tasks.append(
            PublicTask(
                number=number,
                title=title,
                lead=lead,
                slug=f"task-{number:02d}",
                tally=task_tally,
                milestones=milestones,
            )
        )
    first, last = period
    return Disclosure(
        plan_title=plan_title,
        period=f"{first.year}—{last.year}年",
        as_of=as_of,
        as_of_zh=zh_date(as_of),
        tally=overall,
        tasks=public_tasks,
        indicators=[public_indicator(v) for v in indicators],
    )
