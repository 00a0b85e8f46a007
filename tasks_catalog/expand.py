"""Turn milestones into work items: fan-out × recurrence. Pure functions over catalogue models.

* A one-off milestone has one occurrence; a recurring one has one per RRULE date.
* Without a fan-out, each occurrence belongs to the milestone's owner (default: the task's lead);
  with one, each occurrence is repeated for every unit of the fan-out set.
* A due date on a rest day is postponed (顺延) to the next working day by the rule the caller
  passes (the sync passes the calendar's; without one the dates stay as listed).
* An occurrence's window opens on the milestone's ``start`` (default: the plan's start) for the
  first occurrence and the day after the previous due date for the next ones.
* An item depends on, for each prerequisite milestone, that milestone's item for the same unit,
  else for its nearest ancestor unit (a village's township), else for all of its units, taking
  the latest occurrence due on or before the item's own due date (else the first occurrence).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple

from dateutil.rrule import rrulestr

from models.unitsets import select_units
from tasks_catalog.schema import Catalog, MilestoneSpec, Recurrence, UnitSelector, UnitSpec

MAX_OCCURRENCES = 400
"""A recurrence producing more than this is surely a mistake (e.g. FREQ=DAILY for five years)."""


class ItemKey(NamedTuple):
    """What identifies a work item across syncs: milestone, unit and occurrence number (1-based).
    A tuple: a million of them are made, hashed and compared in a province's sync."""

    milestone: str
    unit: str
    occurrence: int

    def __str__(self) -> str:
        return f"{self.milestone}/{self.unit}/{self.occurrence}"


Postpone = Callable[[date], date]
"""A deadline rule: the due date in force for a date the catalogue lists."""


def as_listed(day: date) -> date:
    """The deadline rule that moves nothing (counting items, checking a catalogue)."""
    return day


class PlannedItem(NamedTuple):
    """A work item as the catalogue wants it: ``due`` the deadline in force, ``listed_due`` the
    date the catalogue lists (they differ when that is a rest day)."""

    key: ItemKey
    task: str
    start: date
    due: date
    listed_due: date


def selector_list(selector: UnitSelector | None) -> list[str]:
    """A selector as a list of names (unit ids or set names)."""
    if selector is None:
        return []
    return [selector] if isinstance(selector, str) else list(selector)


def resolve(selector: UnitSelector | None, units: Sequence[UnitSpec]) -> list[str]:
    """Unit ids a selector names, in catalogue order, without duplicates. Unknown names drop."""
    return [u.id for u in select_units(selector_list(selector), units, key=_unit_id)]


def _unit_id(unit: UnitSpec) -> str:
    return unit.id


class Resolver:
    """:func:`resolve` over one list of units, each distinct selector worked out once (a
    province's catalogue names "villages" for most of its milestones)."""

    def __init__(self, units: Sequence[UnitSpec]) -> None:
        self._units = units
        self._known: dict[tuple[str, ...], list[str]] = {}

    def __call__(self, selector: UnitSelector | None) -> list[str]:
        names = tuple(selector_list(selector))
        if names not in self._known:
            self._known[names] = resolve(list(names), self._units)
        return list(self._known[names])


_RANGES = {
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYSETPOS": (1, 366, True),
    "INTERVAL": (1, 1000, False),
    "COUNT": (1, MAX_OCCURRENCES, False),
}
"""Allowed magnitude of numeric RRULE parts, and whether negative values (from the end) are OK.
dateutil silently ignores out-of-range values such as BYMONTH=13; we refuse them."""

_SUB_DAILY = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
_NOT_FOR_DATES = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND", "BYEASTER"})
"""Due dates are days: rules finer than a day, or the parts that need them, are refused."""


def _rule_parts(rule: str) -> list[tuple[str, str, str]]:
    """Each ``NAME=value`` part of a rule as (NAME upper-cased, value, the part as written)."""
    parts = []
    for part in re.split(r"[;\n]", rule):
        name, _, value = part.partition("=")
        name = name.strip().upper().rpartition(":")[2]  # RRULE:FREQ=… in a multi-line rule
        parts.append((name, value, part))
    return parts


def _check_rule(rule: str) -> None:
    """ValueError for a part that is not for dates, a number out of range, or a day that none
    of the rule's months has."""
    parts = _rule_parts(rule)
    _check_rule_parts(parts)
    _check_days_exist({name: value.strip() for name, value, _ in parts})


def _check_rule_parts(parts: list[tuple[str, str, str]]) -> None:
    for name, value, part in parts:
        if name in _NOT_FOR_DATES or (name == "FREQ" and value.strip().upper() in _SUB_DAILY):
            raise ValueError(
                f"不能用 {part.strip()}：到期日以天计，请用 DAILY、WEEKLY、MONTHLY 或 YEARLY，"
                "不写 BYHOUR、BYMINUTE、BYSECOND、BYEASTER"
            )
        bounds = _RANGES.get(name)
        if bounds is None:
            continue
        low, high, negative_ok = bounds
        for raw in value.split(","):
            try:
                number = int(raw)
            except ValueError:
                raise ValueError(f"{name}={value}：{raw!r} 不是整数") from None
            magnitude_ok = low <= abs(number) <= high and (number > 0 or negative_ok)
            if not magnitude_ok:
                sign = "±" if negative_ok else ""
                raise ValueError(f"{name}={value}：{number} 超出 {sign}{low}..{high}")


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February in a leap year


def _check_days_exist(parts: dict[str, str]) -> None:
    """ValueError when BYMONTHDAY asks for a day that none of the BYMONTH months has (2月30日):
    such a rule yields no date ever, and dateutil would search up to the year 9999 to find out.
    The numbers are whole and in range (:func:`_check_rule_parts` ran first)."""
    months = [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else []
    days = [int(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else []
    if not days or any(d < 0 for d in days):
        return
    longest = max(_DAYS_IN_MONTH[m - 1] for m in months or range(1, 13))
    if min(days) > longest:
        shown = "、".join(f"{m}月" for m in months) + ("都" if len(months) > 1 else "")
        raise ValueError(f"{shown}没有第{min(days)}日：规则永远不会产生日期，请改正 BYMONTHDAY")


def occurrences(recurrence: Recurrence) -> list[date]:
    """The dates an RRULE produces between its start and end (inclusive).

    Raises ValueError for an invalid rule, a rule with its own DTSTART, or too many dates.
    """
    if "DTSTART" in recurrence.rrule.upper():
        raise ValueError("开始日期请写在 `recurrence.start`，不要在规则里写 DTSTART")
    if recurrence.end < recurrence.start:
        raise ValueError(f"截止 {recurrence.end} 早于开始 {recurrence.start}")
    _check_rule(recurrence.rrule)
    start = datetime.combine(recurrence.start, datetime.min.time())
    end = datetime.combine(recurrence.end, datetime.min.time())
    dates: list[date] = []
    try:
        try:
            rule = rrulestr(recurrence.rrule, dtstart=start)
        except ValueError as exc:
            raise ValueError(f"dateutil 无法解析这条规则（{exc}）") from exc
        for moment in rule.xafter(start, inc=True):
            if moment > end:
                break
            dates.append(moment.date())
            if len(dates) > MAX_OCCURRENCES:
                raise ValueError(f"生成的日期超过 {MAX_OCCURRENCES} 个；请检查 FREQ/INTERVAL")
    except (TypeError, IndexError, KeyError, OverflowError, AttributeError) as exc:
        raise ValueError(f"dateutil 无法解析（{type(exc).__name__}：{exc}）") from exc
    return dates


def due_dates(milestone: MilestoneSpec) -> list[date]:
    """The due date of each occurrence of a milestone."""
    if milestone.recurrence is not None:
        return occurrences(milestone.recurrence)
    assert milestone.due is not None
    return [milestone.due]


def windows(
    milestone: MilestoneSpec, plan_start: date, postpone: Postpone = as_listed
) -> list[tuple[date, date]]:
    """(start, due) of each occurrence, the due date postponed by ``postpone``: see the module
    docstring for the rule."""
    dues = [postpone(d) for d in due_dates(milestone)]
    first = milestone.start or (milestone.recurrence.start if milestone.recurrence else plan_start)
    starts = [first, *(d + timedelta(days=1) for d in dues[:-1])]
    return [(min(s, d), d) for s, d in zip(starts, dues, strict=True)]


def item_units(
    milestone: MilestoneSpec, task_lead: str, units: Sequence[UnitSpec] | Resolver
) -> list[str]:
    """The units that get an item of this milestone."""
    if milestone.fan_out is not None:
        if isinstance(units, Resolver):
            return units(milestone.fan_out)
        return resolve(milestone.fan_out, units)
    return [milestone.owner or task_lead]


def plan_items(catalog: Catalog, postpone: Postpone = as_listed) -> list[PlannedItem]:
    """Every work item the catalogue asks for, in a stable order, due dates postponed by
    ``postpone``."""
    items: list[PlannedItem] = []
    units = Resolver(catalog.units)
    for task in catalog.tasks:
        for milestone in task.milestones:
            spans = windows(milestone, catalog.plan.period.start, postpone)
            dated = [
                (n, start, due, was)
                for n, ((start, due), was) in enumerate(
                    zip(spans, due_dates(milestone), strict=True), start=1
                )
            ]
            items += [
                PlannedItem(ItemKey(milestone.id, unit, n), task.code, start, due, was)
                for unit in item_units(milestone, task.lead, units)
                for n, start, due, was in dated
            ]
    return items


def item_dependencies(
    catalog: Catalog, items: Sequence[PlannedItem]
) -> set[tuple[ItemKey, ItemKey]]:
    """(item, prerequisite item) pairs derived from milestone dependencies.

    For each prerequisite milestone an item waits for that milestone's item of the same unit,
    else of its nearest ancestor unit that has one (a village waits for its own township), else
    for every unit's item; among occurrences, the latest due on or before the item's own due
    date, else the first.
    """
    by_milestone: dict[str, dict[str, list[PlannedItem]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        by_milestone[item.key.milestone][item.key.unit].append(item)
    for per_unit in by_milestone.values():
        for occurrences_ in per_unit.values():
            occurrences_.sort(key=lambda c: c.due)
    parents = {u.id: u.parent for u in catalog.units}
    depends = {m.id: m.depends_on for t in catalog.tasks for m in t.milestones}
    pairs: set[tuple[ItemKey, ItemKey]] = set()
    for item in items:
        for prerequisite in depends.get(item.key.milestone, []):
            per_unit = by_milestone.get(prerequisite, {})
            for unit in _waited_units(item.key.unit, per_unit, parents):
                mine = per_unit[unit]
                before = [c for c in mine if c.due <= item.due]
                pairs.add((item.key, (before[-1] if before else mine[0]).key))
    return pairs


def _waited_units(
    unit: str, available: Mapping[str, object], parents: dict[str, str | None]
) -> list[str]:
    """The unit itself or its nearest ancestor among the candidates, else all candidates."""
    current: str | None = unit
    seen: set[str] = set()
    while current is not None and current not in seen:
        if current in available:
            return [current]
        seen.add(current)
        current = parents.get(current)
    return sorted(available)
