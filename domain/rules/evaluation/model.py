"""The final evaluation (终期评估) as data: one view model that every format renders, built by
:mod:`domain.rules.evaluation.build`; its wording is :mod:`domain.rules.evaluation.layout`'s."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class Totals(BaseModel):
    """Every live item of the plan on the evaluation day, as the status view counts it."""

    total: int
    due: int  # due on or before the day
    on_time: int  # done on or before the due date (done early included)
    due_on_time: int  # of the items due: done on or before the due date
    late: int  # done after the due date
    overdue: int  # past due, not done, prerequisites done
    held: int  # past due, not started: waiting on a prerequisite
    open_due: int  # past due (or due on the day) and not done: overdue, held or still open
    not_due: int  # due after the day and not done
    on_time_rate: float | None  # done on time among the items due ÷ items due, percent


class IndicatorResult(BaseModel):
    """An indicator's final value against its target."""

    code: str
    name: str
    unit_of_measure: str
    value: float | None
    value_text: str
    target: float
    target_text: str
    met: bool | None  # None: no unit reported
    units_reported: int
    units_in_scope: int
    data_from: date | None
    data_to: date | None
    yearly: list[tuple[int, float | None]]  # the value at each year's end


class TaskResult(BaseModel):
    """A key task's milestones and work items by how they ended (a milestone by all its items:
    :func:`domain.rules.evaluation.build.milestone_end`)."""

    code: str
    number: int
    title: str
    lead: str
    items: int
    due: int
    on_time: int
    late: int
    never: int  # due and never closed
    not_due: int
    on_time_rate: float | None
    milestones: int = 0
    milestones_on_time: int = 0
    milestones_late: int = 0
    milestones_never: int = 0
    milestones_not_due: int = 0


class OpenUnit(BaseModel):
    """A unit's items due and never closed, with the unit's own last stated reasons."""

    group: str  # the township (its villages under it) or the department itself
    unit: str
    name: str
    items: int
    titles: str  # the milestones, few words
    reasons: str  # the unit's last stated problems, most common first; 未说明 when none


class OpenGroup(BaseModel):
    """A township with its villages, or a department: its items never closed."""

    code: str
    name: str
    units: int
    items: int
    reasons: str


class ProblemGroup(BaseModel):
    """A problem in the units' own words, as often as it was raised over the period."""

    problem: str
    reports: int
    units: int
    items: int
    first: date
    last: date
    tasks: str  # the key tasks it was raised on (their numbers: 1、3、8)


class YearRow(BaseModel):
    """One year of the period: items due in it and how they ended; reports owed and on time."""

    year: int
    due: int
    on_time: int
    late: int
    never: int
    on_time_rate: float | None
    cycles: int
    owed: int
    reported_on_time: int
    timeliness: float | None


class Evaluation(BaseModel):
    """The whole final evaluation of one plan on one day."""

    plan: str
    plan_title: str
    title: str
    issuer: str
    period_start: date
    period_end: date
    as_of: date
    as_of_zh: str
    ended: bool  # the day is on or after the plan's last day
    totals: Totals
    indicators: list[IndicatorResult]
    tasks: list[TaskResult]
    open_groups: list[OpenGroup]
    open_units: list[OpenUnit]
    problems: list[ProblemGroup]
    problems_more: int  # distinct problems not listed
    years: list[YearRow]
    close_out_last: date | None
    conclusions: list[str] | None  # the coordinator's paragraphs; None: not written yet
    warnings: list[str]
