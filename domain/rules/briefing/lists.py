"""The briefing's lists: overdue items, this week's problems, what is due soon, indicators.

The overdue list puts the most working days overdue first; a milestone overdue at
``COLLAPSE_AT`` or more units is one row naming the first units ("甸阳镇、姚关镇等12个单位");
at most ``OVERDUE_ROWS`` rows, the rest counted.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from datetime import date, timedelta

from domain.rules.briefing.facts import DONE, ItemFact, ProblemFact
from domain.rules.briefing.model import IndicatorRow, OverdueRow, ProblemRow, UpcomingRow
from domain.rules.indicators import IndicatorValue
from models.enums import Status

OVERDUE_ROWS = 30
COLLAPSE_AT = 4
PROBLEM_ROWS = 20
UPCOMING_DAYS = 14
NAMED_UNITS = 3


def named_units(names: Sequence[str]) -> str:
    """甸阳镇 / 甸阳镇、姚关镇 / 甸阳镇、姚关镇、仁和镇等12个单位."""
    if len(names) <= NAMED_UNITS:
        return "、".join(names)
    return "、".join(names[:NAMED_UNITS]) + f"等{len(names)}个单位"


def first_named(named: str) -> str:
    """甸阳镇、姚关镇、仁和镇等12个单位 (:func:`named_units`) shortened to 甸阳镇等12个单位;
    two or three names stay as they are."""
    first, _, rest = named.partition("、")
    count = re.search(r"等\d+个单位$", rest)
    return first + count.group(0) if count else named


def few_units(named: str, units: int) -> str:
    """A row's units in few words: the one unit, or the first and how many (甲镇等3个单位)."""
    return named if units <= 1 else f"{named.partition('、')[0]}等{units}个单位"


HELD = "因前置事项逾期未启动"
REASONS_SHOWN = 2
REASON_CHARS = 24


def shorten(text: str, limit: int = REASON_CHARS) -> str:
    """The text cut to ``limit`` characters with an ellipsis (……) when longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def brief_reasons(stated: Sequence[str | None]) -> str:
    """What several units said, briefly: the commonest reasons first, each with how many units
    gave it, then how many said nothing (均未说明 when none did)."""
    said = Counter(shorten(r) for r in stated if r)
    silent = sum(1 for r in stated if not r)
    if not said:
        return "均未说明"
    ranked = sorted(said.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(stated) == 1:
        return ranked[0][0]
    parts = [f"{text}（{n}个单位）" for text, n in ranked[:REASONS_SHOWN]]
    others = sum(n for _, n in ranked[REASONS_SHOWN:])
    if others:
        parts.append(f"另有{others}个单位说明其他原因")
    if silent:
        parts.append(f"{silent}个单位未说明")
    return "；".join(parts)


def overdue_rows(
    items: Sequence[ItemFact],
    levels: dict[int, str],
    reasons: dict[int, str],
    held: Collection[int] = (),
) -> tuple[list[OverdueRow], int, int]:
    """(rows, overdue items, items not listed). Items ``held`` (past due, not started because a
    prerequisite is overdue) are listed too, after the overdue ones of the same length."""
    overdue = [i for i in items if i.status == Status.OVERDUE]
    listed = overdue + [i for i in items if i.id in held and i.status != Status.OVERDUE]
    groups: dict[tuple[str, date, bool], list[ItemFact]] = defaultdict(list)
    for item in listed:
        groups[(item.milestone, item.due, item.id in held)].append(item)
    keyed: list[tuple[tuple[int, bool, str, str], OverdueRow]] = []
    for (_, _, is_held), members in groups.items():
        members.sort(key=lambda i: i.unit)
        first = members[0]
        if len(members) < COLLAPSE_AT:
            keyed.extend(
                (
                    (i.workdays_left, is_held, i.milestone, i.unit),
                    OverdueRow(
                        task=i.task,
                        milestone=i.milestone,
                        title=i.title,
                        unit=i.unit_name,
                        units=1,
                        due=i.due,
                        workdays_overdue=-i.workdays_left,
                        level=levels.get(i.id, "—"),
                        reason=HELD if is_held else reasons.get(i.id, "未说明"),
                        held=is_held,
                    ),
                )
                for i in members
            )
            continue
        worst = max(-i.workdays_left for i in members)
        reached = Counter(levels.get(i.id, "—") for i in members).most_common(1)[0][0]
        keyed.append(
            (
                (-worst, is_held, first.milestone, first.unit),
                OverdueRow(
                    task=first.task,
                    milestone=first.milestone,
                    title=first.title,
                    unit=named_units([i.unit_name for i in members]),
                    units=len(members),
                    due=first.due,
                    workdays_overdue=worst,
                    level=reached,
                    reason=HELD if is_held else brief_reasons([reasons.get(i.id) for i in members]),
                    held=is_held,
                ),
            )
        )
    # most overdue first, then by milestone and unit code (official division order)
    rows = [row for _, row in sorted(keyed, key=lambda kv: kv[0])]
    shown = rows[:OVERDUE_ROWS]
    hidden = sum(r.units for r in rows[OVERDUE_ROWS:])
    return shown, len(overdue), hidden


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".rstrip("0").rstrip(".")


def indicator_rows(values: Sequence[IndicatorValue]) -> list[IndicatorRow]:
    rows = []
    for v in values:
        op = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}.get(v.target_op, v.target_op)
        gap = "—" if v.gap is None else ("+" if v.gap > 0 else "") + _fmt(v.gap)
        rows.append(
            IndicatorRow(
                code=v.id,
                name=v.name,
                value="—" if v.value is None else f"{_fmt(v.value)}{v.unit_of_measure}",
                target=f"{op}{_fmt(v.target)}{v.unit_of_measure}"
                + ("（力争）" if v.aspirational else ""),
                gap=gap,
                reported=f"{v.units_reported}/{v.units_in_scope}",
                light=v.light,
                attainment=(
                    round(100 * v.value / v.target, 1) if v.value is not None and v.target else None
                ),
            )
        )
    return rows


def problem_rows(
    problems: Sequence[ProblemFact], items: dict[int, ItemFact]
) -> tuple[list[ProblemRow], int]:
    """This week's problems: each unit's newest per item; the same words on the same milestone
    from several units become one row; problems on overdue items first."""
    newest: dict[tuple[str, int], ProblemFact] = {}
    for p in sorted(problems, key=lambda p: (p.received_on, p.item_id)):
        if p.item_id in items:
            newest[(p.unit_name, p.item_id)] = p
    groups: dict[tuple[str, str], list[tuple[ProblemFact, ItemFact]]] = defaultdict(list)
    for p in newest.values():
        item = items[p.item_id]
        groups[(item.milestone, " ".join(p.problem.split()))].append((p, item))
    rows = []
    for (milestone, text), members in groups.items():
        members.sort(key=lambda m: m[1].unit)
        item = members[0][1]
        rows.append(
            ProblemRow(
                unit=named_units([p.unit_name for p, _ in members]),
                units=len(members),
                task=item.task,
                milestone=milestone,
                title=item.title,
                problem=text,
                overdue=any(i.status == Status.OVERDUE for _, i in members),
            )
        )
    rows.sort(key=lambda r: (not r.overdue, -r.units, r.task, r.milestone, r.unit))
    return rows[:PROBLEM_ROWS], max(0, len(rows) - PROBLEM_ROWS)


def upcoming_rows(items: Sequence[ItemFact], as_of: date) -> tuple[list[UpcomingRow], date, int]:
    """Milestones due in the next two weeks with the units still working on them; items
    still waiting on a prerequisite are counted apart (they cannot be pushed yet)."""
    until = as_of + timedelta(days=UPCOMING_DAYS)
    groups: dict[tuple[str, date], list[ItemFact]] = defaultdict(list)
    waiting = 0
    for item in items:
        if not as_of <= item.due <= until or item.status in DONE:
            continue
        if item.status == Status.WAITING:
            waiting += 1
        else:
            groups[(item.milestone, item.due)].append(item)
    rows = []
    for (milestone, due), members in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        members.sort(key=lambda i: i.unit)
        rows.append(
            UpcomingRow(
                task=members[0].task,
                milestone=milestone,
                title=members[0].title,
                due=due,
                units=named_units([i.unit_name for i in members]),
                open=len(members),
            )
        )
    return rows, until, waiting
