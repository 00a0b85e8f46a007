"""Consistency rules a schema cannot express: unique ids, references, cycles, dates, RRULEs.

:func:`check` returns (errors, warnings). Every problem points at the entity's file and line.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from graphlib import CycleError, TopologicalSorter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.errors import Problem
from models.enums import UnitKind
from models.unitsets import SET_NAMES
from tasks_catalog.expand import Resolver, occurrences, selector_list
from tasks_catalog.schema import PlanSpec, UnitSelector
from tasks_catalog.sources import Sources, Where

UNITS_PSEUDO_MEASURE = "units"


def check(sources: Sources) -> tuple[list[Problem], list[Problem]]:
    """All consistency errors and warnings of a merged catalogue."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    plan = _check_plan(sources, errors)
    unit_ids = _check_units(sources, errors)
    if plan is not None:
        _check_plan_refs(plan, sources, unit_ids, errors)
        _check_village_count(plan, sources, warnings)
    milestone_ids = _check_tasks(sources, unit_ids, errors)
    _check_dependencies(sources, milestone_ids, errors)
    if plan is not None:
        _check_dates(plan, sources, errors)
        _check_carried_from(plan, sources, errors)
    _check_indicators(sources, unit_ids, errors)
    if plan is not None and not sources.tasks:
        warnings.append(sources.plans[0][1].problem("目录中没有任何重点任务：同步它会撤销全部事项"))
    return errors, warnings


def _duplicates(
    entries: Iterable[tuple[str, Where]], what: str, errors: list[Problem], field: str = "id"
) -> set[str]:
    seen: dict[str, Where] = {}
    for key, where in entries:
        if key in seen:
            first = seen[key]
            errors.append(
                where.problem(
                    f"{what} {key!r} 重复（首次定义在 {first.file.name} 第 "
                    f"{first.index.line(first.loc)} 行）",
                    field,
                )
            )
        else:
            seen[key] = where
    return set(seen)


def _check_plan(sources: Sources, errors: list[Problem]) -> PlanSpec | None:
    if not sources.plans:
        return None
    for _, where in sources.plans[1:]:
        first = sources.plans[0][1]
        errors.append(where.problem(f"第二个 `plan:` 段（第一个在 {first.file.name}）"))
    plan, where = sources.plans[0]
    try:
        ZoneInfo(plan.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(where.problem(f"未知的时区 {plan.timezone!r}", "timezone"))
    return plan


def _check_units(sources: Sources, errors: list[Problem]) -> set[str]:
    ids = _duplicates(((u.id, w) for u, w in sources.units), "单位编号", errors)
    for unit, where in sources.units:
        if unit.id in SET_NAMES:
            errors.append(where.problem(f"{unit.id!r} 是单位集合的保留名", "id"))
        if unit.parent is not None and unit.parent not in ids:
            errors.append(where.problem(f"未知的单位 {unit.parent!r}", "parent"))
        if unit.urban and unit.kind != UnitKind.COMMUNITY:
            errors.append(where.problem("只有社区才能标为城市社区（urban）", "urban"))
    _duplicates(
        ((u.division_code, w) for u, w in sources.units if u.division_code),
        "区划代码",
        errors,
        "division_code",
    )
    parents = {u.id: u.parent for u, _ in sources.units}
    for unit, where in sources.units:
        seen = {unit.id}
        parent = unit.parent
        while parent is not None and parent in parents:
            if parent in seen:
                errors.append(where.problem("单位的上下级关系成环", "parent"))
                break
            seen.add(parent)
            parent = parents[parent]
    return ids


def _check_selector(
    selector: UnitSelector | None,
    units: Resolver,
    unit_ids: set[str],
    where: Where,
    field: str,
    errors: list[Problem],
    *,
    may_be_empty: bool = False,
) -> None:
    """Every name is a unit or a set, and (unless ``may_be_empty``) they select some unit."""
    names = selector_list(selector)
    unknown = False
    for i, name in enumerate(names):
        if name not in unit_ids and name not in SET_NAMES:
            unknown = True
            sub: tuple[str | int, ...] = (field, i) if isinstance(selector, list) else (field,)
            errors.append(
                where.problem(
                    f"未知的单位或单位集合 {name!r}（集合：{'、'.join(sorted(SET_NAMES))}）",
                    *sub,
                )
            )
    if unknown:
        return
    if selector is None or (not names and may_be_empty):
        return
    if not units(selector):
        shown = names[0] if isinstance(selector, str) else "[" + ", ".join(names) + "]"
        errors.append(where.problem(f"{shown} 没有选中任何单位", field))


def _check_plan_refs(
    plan: PlanSpec, sources: Sources, unit_ids: set[str], errors: list[Problem]
) -> None:
    where = sources.plans[0][1]
    for field in ("coordinator", "leadership"):
        if getattr(plan, field) not in unit_ids:
            errors.append(where.problem(f"未知的单位 {getattr(plan, field)!r}", field))


def _check_village_count(plan: PlanSpec, sources: Sources, warnings: list[Problem]) -> None:
    if plan.declared_village_units is None:
        return
    found = sum(1 for u, _ in sources.units if u.kind in {UnitKind.VILLAGE, UnitKind.COMMUNITY})
    if found != plan.declared_village_units:
        warnings.append(
            sources.plans[0][1].problem(
                f"规划文本记村（社区）{plan.declared_village_units} 个，目录列出 {found} 个"
                "（单位按官方区划代码列出，没有虚构）",
                "declared_village_units",
            )
        )


def _check_tasks(sources: Sources, unit_ids: set[str], errors: list[Problem]) -> set[str]:
    units = Resolver([u for u, _ in sources.units])
    _duplicates(((t.code, w) for t, w in sources.tasks), "重点任务编号", errors)
    _duplicates(((str(t.number), w) for t, w in sources.tasks), "重点任务序号", errors, "number")
    milestones = [
        (m, Where(w.file, (*w.loc, "milestones", i), w.index))
        for t, w in sources.tasks
        for i, m in enumerate(t.milestones)
    ]
    milestone_ids = _duplicates(((m.id, w) for m, w in milestones), "节点编号", errors)
    for task, where in sources.tasks:
        if task.lead not in unit_ids:
            errors.append(where.problem(f"未知的单位 {task.lead!r}", "lead"))
        _check_selector(
            task.cooperating, units, unit_ids, where, "cooperating", errors, may_be_empty=True
        )
        for i, milestone in enumerate(task.milestones):
            mwhere = Where(where.file, (*where.loc, "milestones", i), where.index)
            if milestone.owner is not None and milestone.owner not in unit_ids:
                errors.append(mwhere.problem(f"未知的单位 {milestone.owner!r}", "owner"))
            _check_selector(milestone.fan_out, units, unit_ids, mwhere, "fan_out", errors)
            for j, dep in enumerate(milestone.depends_on):
                if dep not in milestone_ids:
                    errors.append(mwhere.problem(f"未知的节点 {dep!r}", "depends_on", j))
                elif dep == milestone.id:
                    errors.append(mwhere.problem("节点不能以自己为前置", "depends_on", j))
    return milestone_ids


def _check_dependencies(sources: Sources, milestone_ids: set[str], errors: list[Problem]) -> None:
    graph = {
        m.id: [d for d in m.depends_on if d in milestone_ids and d != m.id]
        for t, _ in sources.tasks
        for m in t.milestones
    }
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        cycle: list[str] = exc.args[1]
        where = next(
            Where(w.file, (*w.loc, "milestones", i), w.index)
            for t, w in sources.tasks
            for i, m in enumerate(t.milestones)
            if m.id == cycle[0]
        )
        errors.append(where.problem("前后关系成环：" + " → ".join(cycle), "depends_on"))


def _check_dates(plan: PlanSpec, sources: Sources, errors: list[Problem]) -> None:
    start, end = plan.period.start, plan.period.end

    def inside(day: date | None, where: Where, *field: str) -> None:
        if day is not None and not start <= day <= end:
            errors.append(where.problem(f"{day} 不在规划期 {start} 至 {end} 之内", *field))

    for task, twhere in sources.tasks:
        for i, milestone in enumerate(task.milestones):
            where = Where(twhere.file, (*twhere.loc, "milestones", i), twhere.index)
            inside(milestone.due, where, "due")
            inside(milestone.start, where, "start")
            if milestone.start and milestone.due and milestone.start > milestone.due:
                errors.append(
                    where.problem(
                        f"开始日期 {milestone.start} 晚于完成时限 {milestone.due}", "start"
                    )
                )
            if milestone.recurrence is not None:
                inside(milestone.recurrence.start, where, "recurrence", "start")
                inside(milestone.recurrence.end, where, "recurrence", "end")
                try:
                    dates = occurrences(milestone.recurrence)
                except (ValueError, TypeError) as exc:
                    errors.append(
                        where.problem(f"重复规则（RRULE）无效：{exc}", "recurrence", "rrule")
                    )
                    continue
                if not dates:
                    errors.append(
                        where.problem(
                            "这条规则在起止日期之间没有给出任何日期", "recurrence", "rrule"
                        )
                    )
    for indicator, where in sources.indicators:
        inside(indicator.due, where, "due")


def _check_carried_from(plan: PlanSpec, sources: Sources, errors: list[Problem]) -> None:
    """A milestone carries work over from another plan, never from its own (the other plan and
    its milestone are checked against the database when the catalogue is synced)."""
    for task, twhere in sources.tasks:
        for i, milestone in enumerate(task.milestones):
            if milestone.carried_from is not None and milestone.carried_from.plan == plan.id:
                where = Where(twhere.file, (*twhere.loc, "milestones", i), twhere.index)
                errors.append(
                    where.problem(
                        f"结转来源须是另一个（原）规划，不能是本规划 {plan.id}",
                        "carried_from",
                        "plan",
                    )
                )


def _check_indicators(sources: Sources, unit_ids: set[str], errors: list[Problem]) -> None:
    units = Resolver([u for u, _ in sources.units])
    measure_ids = _duplicates(((m.id, w) for m, w in sources.measures), "指标项编号", errors)
    _duplicates(((i.id, w) for i, w in sources.indicators), "指标编号", errors)
    for measure, where in sources.measures:
        if measure.id == UNITS_PSEUDO_MEASURE:
            errors.append(
                where.problem(
                    f"{UNITS_PSEUDO_MEASURE!r} 是保留名（它表示指标范围内的单位数）",
                    "id",
                )
            )
        _check_selector(measure.reported_by, units, unit_ids, where, "reported_by", errors)
    for indicator, where in sources.indicators:
        _check_selector(indicator.scope, units, unit_ids, where, "scope", errors)
        for part in ("numerator", "denominator"):
            for i, name in enumerate(getattr(indicator.formula, part)):
                if name not in measure_ids and name != UNITS_PSEUDO_MEASURE:
                    errors.append(where.problem(f"未知的指标项 {name!r}", "formula", part, i))
