"""Pure functions from gathered facts to the final evaluation's view model (no database here).

The rules a reader may ask about:

* **Totals** count every live item by its status on the evaluation day, as ``duban status``
  does: done on time, done late, and the rest not done, split into those due by the day (never
  closed) and those not yet due. The on-time rate is the items due by the day and done on time
  ÷ the items due by the day.
* **A year** holds the items due in it (their status on the evaluation day) and the reporting
  cycles whose report fell due in it (reports owed; sent on or before the cycle's due day).
* **An indicator** is met when its value on the day meets its target; without a reporting unit
  it is neither met nor missed.
* **Problems** are grouped by their words (spaces aside) over every report of the period, the
  problems raised by the most units first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date

from domain.rules.briefing.facts import DONE, ItemFact, TaskFact, UnitFact
from domain.rules.briefing.lists import indicator_rows, shorten
from domain.rules.evaluation.facts import (
    EvaluationFacts,
    IndicatorFact,
    ProblemStatement,
    ReportingYear,
)
from domain.rules.evaluation.model import (
    Evaluation,
    IndicatorResult,
    OpenGroup,
    OpenUnit,
    ProblemGroup,
    TaskResult,
    Totals,
    YearRow,
)
from domain.rules.glossary import zh_date
from domain.rules.indicators import OPS
from models.enums import Status

PROBLEM_ROWS = 10
"""Distinct problems listed; the rest are counted."""
PROBLEM_CHARS = 60
REASONS_SHOWN = 2
REASON_CHARS = 30
TITLES_SHOWN = 2
NUMBERS_SHOWN = 4
NOT_SAID = "未说明"
DEPARTMENTS = "县直部门"
"""The group a department is listed under (a village under its township)."""


def rate(part: int, whole: int) -> float | None:
    """``part`` ÷ ``whole`` in percent, one decimal; None when ``whole`` is 0."""
    return round(100 * part / whole, 1) if whole else None


def totals(items: Sequence[ItemFact], as_of: date, held: set[int]) -> Totals:
    """Every item once: done on time, done late, due and never closed, not yet due."""
    counts = Counter(i.status for i in items)
    due = [i for i in items if i.due <= as_of]
    due_on_time = sum(1 for i in due if i.status == Status.DONE_ON_TIME)
    return Totals(
        total=len(items),
        due=len(due),
        on_time=counts[Status.DONE_ON_TIME],
        due_on_time=due_on_time,
        late=counts[Status.DONE_LATE],
        overdue=counts[Status.OVERDUE],
        held=sum(1 for i in due if i.id in held),
        open_due=sum(1 for i in due if i.status not in DONE),
        not_due=sum(1 for i in items if i.due > as_of and i.status not in DONE),
        on_time_rate=rate(due_on_time, len(due)),
    )


def milestone_end(items: Sequence[ItemFact], as_of: date) -> str:
    """How a milestone ended, by all its items (every unit, every occurrence): ``never`` when an
    item due by the day is not done; else ``not_due`` when an item is not due yet; else
    ``late`` when an item was done late; else ``on_time``."""
    if any(i.due <= as_of and i.status not in DONE for i in items):
        return "never"
    if any(i.due > as_of and i.status not in DONE for i in items):
        return "not_due"
    return "late" if any(i.status == Status.DONE_LATE for i in items) else "on_time"


def task_results(
    items: Sequence[ItemFact], tasks: Sequence[TaskFact], as_of: date
) -> list[TaskResult]:
    """Each key task's items (due by the day, done on time or late, never closed, not due) and
    its milestones by how they ended (:func:`milestone_end`)."""
    by_task: dict[str, list[ItemFact]] = defaultdict(list)
    for item in items:
        by_task[item.task].append(item)
    rows = []
    for t in tasks:
        mine = by_task.get(t.code, [])
        due = [i for i in mine if i.due <= as_of]
        on_time = sum(1 for i in due if i.status == Status.DONE_ON_TIME)
        per_milestone: dict[str, list[ItemFact]] = defaultdict(list)
        for i in mine:
            per_milestone[i.milestone].append(i)
        ends = Counter(milestone_end(m, as_of) for m in per_milestone.values())
        rows.append(
            TaskResult(
                code=t.code,
                number=t.number,
                title=t.title,
                lead=t.lead_name,
                items=len(mine),
                due=len(due),
                on_time=on_time,
                late=sum(1 for i in due if i.status == Status.DONE_LATE),
                never=sum(1 for i in due if i.status not in DONE),
                not_due=len(mine) - len(due),
                on_time_rate=rate(on_time, len(due)),
                milestones=len(per_milestone),
                milestones_on_time=ends["on_time"],
                milestones_late=ends["late"],
                milestones_never=ends["never"],
                milestones_not_due=ends["not_due"],
            )
        )
    return rows


def met(v: IndicatorFact) -> bool | None:
    """Whether the indicator's value on the day meets its target (None without a value)."""
    value = v.value
    if value.value is None:
        return None
    return OPS[value.target_op](round(value.value, 6), value.target)


def indicator_results(indicators: Sequence[IndicatorFact]) -> list[IndicatorResult]:
    rows = indicator_rows([f.value for f in indicators])
    return [
        IndicatorResult(
            code=f.value.id,
            name=f.value.name,
            unit_of_measure=f.value.unit_of_measure,
            value=f.value.value,
            value_text=row.value,
            target=f.value.target,
            target_text=row.target,
            met=met(f),
            units_reported=f.value.units_reported,
            units_in_scope=f.value.units_in_scope,
            data_from=f.data_from,
            data_to=f.data_to,
            yearly=list(f.yearly),
        )
        for f, row in zip(indicators, rows, strict=True)
    ]


def stated(reasons: Sequence[str | None]) -> str:
    """A unit's last stated reasons on several items: the commonest first with how many items
    each (资金未到位（3项）), at most :data:`REASONS_SHOWN`, 等 when there were more."""
    said = Counter(shorten(r, REASON_CHARS) for r in reasons if r)
    if not said:
        return NOT_SAID
    ranked = sorted(said.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [text if n == 1 else f"{text}（{n}项）" for text, n in ranked[:REASONS_SHOWN]]
    return "；".join(parts) + ("等" if len(ranked) > REASONS_SHOWN else "")


def _titles(members: Sequence[ItemFact]) -> str:
    titles = sorted({i.title for i in members})
    shown = "、".join(shorten(t, 18) for t in titles[:TITLES_SHOWN])
    return shown + (f"等{len(titles)}个节点" if len(titles) > TITLES_SHOWN else "")


def open_lists(
    items: Sequence[ItemFact], units: dict[str, UnitFact], reasons: dict[int, str], as_of: date
) -> tuple[list[OpenGroup], list[OpenUnit]]:
    """The items due by the day and never closed, per township (villages under it) or
    department, and per unit in the official code order, each with its stated reasons."""
    never = [i for i in items if i.due <= as_of and i.status not in DONE]
    by_unit: dict[str, list[ItemFact]] = defaultdict(list)
    for item in never:
        by_unit[item.unit].append(item)

    def group_of(code: str) -> str:
        fact = units.get(code)
        return fact.group if fact is not None and fact.group is not None else code

    def group_name(code: str) -> str:
        fact = units.get(code)
        if fact is not None and fact.is_department:
            return DEPARTMENTS
        return units[code].name if code in units else code

    rows = []
    for code, members in sorted(by_unit.items(), key=lambda kv: (group_of(kv[0]), kv[0])):
        rows.append(
            OpenUnit(
                group=group_name(group_of(code)),
                unit=code,
                name=members[0].unit_name,
                items=len(members),
                titles=_titles(members),
                reasons=stated([reasons.get(i.id) for i in members]),
            )
        )
    groups: dict[str, list[ItemFact]] = defaultdict(list)
    for item in never:
        groups[group_of(item.unit)].append(item)
    summary = [
        OpenGroup(
            code=code,
            name=units[code].name if code in units else code,
            units=len({i.unit for i in members}),
            items=len(members),
            reasons=stated([reasons.get(i.id) for i in members]),
        )
        for code, members in groups.items()
    ]
    summary.sort(key=lambda g: (-g.items, g.code))
    return summary, rows


def numbers_text(numbers: Sequence[int]) -> str:
    """1、3、8, or 1、2、3、4等9项 when there are more than :data:`NUMBERS_SHOWN`; — for none."""
    if not numbers:
        return "—"
    shown = "、".join(str(n) for n in numbers[:NUMBERS_SHOWN])
    return shown + (f"等{len(numbers)}项" if len(numbers) > NUMBERS_SHOWN else "")


def problem_groups(
    problems: Sequence[ProblemStatement], items: dict[int, ItemFact], numbers: dict[str, int]
) -> tuple[list[ProblemGroup], int]:
    """The problems raised over the period grouped by their words: how many reports, units and
    items raised each, when first and last, on which key tasks; the most units first."""
    groups: dict[str, list[ProblemStatement]] = defaultdict(list)
    for p in problems:
        text = " ".join(p.problem.split())
        if text:
            groups[text].append(p)
    rows = []
    for text, members in groups.items():
        raised_on = {items[p.item_id].task for p in members if p.item_id in items}
        tasks = sorted(numbers[t] for t in raised_on if t in numbers)
        rows.append(
            ProblemGroup(
                problem=shorten(text, PROBLEM_CHARS),
                reports=len(members),
                units=len({p.unit for p in members}),
                items=len({p.item_id for p in members}),
                first=min(p.received_on for p in members),
                last=max(p.received_on for p in members),
                tasks=numbers_text(tasks),
            )
        )
    rows.sort(key=lambda r: (-r.units, -r.reports, r.problem))
    return rows[:PROBLEM_ROWS], max(0, len(rows) - PROBLEM_ROWS)


def year_rows(
    items: Sequence[ItemFact], reporting: Sequence[ReportingYear], first: date, last: date
) -> list[YearRow]:
    """Each year from ``first`` to ``last`` (the evaluation day): the items due in it by the
    day and how they stand, and its reporting cycles."""
    cycles = {r.year: r for r in reporting}
    rows = []
    for year in range(first.year, last.year + 1):
        due = [i for i in items if i.due.year == year and i.due <= last]
        on_time = sum(1 for i in due if i.status == Status.DONE_ON_TIME)
        r = cycles.get(year, ReportingYear(year, 0, 0, 0))
        rows.append(
            YearRow(
                year=year,
                due=len(due),
                on_time=on_time,
                late=sum(1 for i in due if i.status == Status.DONE_LATE),
                never=sum(1 for i in due if i.status not in DONE),
                on_time_rate=rate(on_time, len(due)),
                cycles=r.cycles,
                owed=r.owed,
                reported_on_time=r.on_time,
                timeliness=rate(r.on_time, r.owed),
            )
        )
    return rows


def evaluation_title(plan_title: str) -> str:
    """《…》实施终期评估报告, the plan's title in 书名号 unless it has them already."""
    name = plan_title if plan_title.startswith("《") else f"《{plan_title}》"
    return f"{name}实施终期评估报告"


def build_evaluation(facts: EvaluationFacts, conclusions: list[str] | None) -> Evaluation:
    """The whole view model from the facts and the coordinator's conclusions (None: none
    written yet)."""
    as_of = facts.as_of
    held = _held(facts.items, as_of)
    groups, open_units = open_lists(facts.items, facts.units, facts.reasons, as_of)
    numbers = {t.code: t.number for t in facts.tasks}
    problems, more = problem_groups(facts.problems, {i.id: i for i in facts.items}, numbers)
    return Evaluation(
        plan=facts.plan,
        plan_title=facts.plan_title,
        title=evaluation_title(facts.plan_title),
        issuer=facts.issuer,
        period_start=facts.period_start,
        period_end=facts.period_end,
        as_of=as_of,
        as_of_zh=zh_date(as_of),
        ended=as_of >= facts.period_end,
        totals=totals(facts.items, as_of, held),
        indicators=indicator_results(facts.indicators),
        tasks=task_results(facts.items, facts.tasks, as_of),
        open_groups=groups,
        open_units=open_units,
        problems=problems,
        problems_more=more,
        years=year_rows(facts.items, facts.reporting, facts.period_start, as_of),
        close_out_last=facts.close_out_last,
        conclusions=conclusions,
        warnings=facts.warnings,
    )


def _held(items: Sequence[ItemFact], as_of: date) -> set[int]:
    """The items past due and still waiting on a prerequisite (not started)."""
    return {i.id for i in items if i.status == Status.WAITING and i.due < as_of}
