"""Pure functions from gathered facts to the briefing's view model (no database here).

The rules a reader may ask about:

* **Overview** counts every live work item of the plan by its status on the briefing date. The
  items in their window (started): done (按期 or 逾期完成), on track (incl. due within the
  warning window), behind pace (序时进度滞后), overdue, with shares of the started items; the
  rest have not started (window not open, or waiting on a prerequisite), a share of all items
  (a five-year plan is mostly ahead). The on-time rate is items done on time ÷ items due to date.
* **A key task's light**: red if any of its items is overdue, yellow if any is behind pace or due
  soon, green if work is under way or done, gray if nothing has started.
* **Overdue list**: most working days overdue first; a milestone overdue at
  ``COLLAPSE_AT`` or more units is one row naming the first units ("甸阳镇、姚关镇等12个单位");
  at most ``OVERDUE_ROWS`` rows, the rest counted.
* **Rankings** compare townships (each with its villages and communities) and county
  departments separately: by on-time completion (done on time ÷ due to date, only units with
  something due) and by reporting timeliness (reports on time ÷ reports owed over the last eight
  cycles). Leaders are the best ``RANK_SIZE`` above the group's average; laggards the worst
  ``RANK_SIZE`` below it (for completion, only units with overdue items).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.queries.indicators import IndicatorValue
from domain.rules.briefing.model import (
    Briefing,
    Changes,
    IndicatorRow,
    ItemChange,
    LightChange,
    Masthead,
    OverdueRow,
    Overview,
    ProblemRow,
    Share,
    TaskRow,
    UnitRank,
    UnitRankings,
    UpcomingRow,
)
from domain.rules.glossary import INDICATOR_LIGHT_MEANINGS, LIGHT_MEANINGS, LIGHT_NAMES, zh_date
from models.enums import STATUS_LIGHT, Light, Status

OVERDUE_ROWS = 30
COLLAPSE_AT = 4
RANK_SIZE = 5
PROBLEM_ROWS = 20
UPCOMING_DAYS = 14
NAMED_UNITS = 3
CHANGE_ROWS = 10

DONE = frozenset({Status.DONE_ON_TIME, Status.DONE_LATE})
LIGHT_ORDER = (Light.GREEN, Light.YELLOW, Light.RED, Light.DONE_LATE, Light.GRAY)

LEGEND: list[tuple[str, str]] = [
    (LIGHT_NAMES[light], LIGHT_MEANINGS[light])
    for light in (Light.GREEN, Light.YELLOW, Light.RED, Light.GRAY, Light.DONE_LATE)
]
INDICATOR_LEGEND: list[tuple[str, str]] = [
    (LIGHT_NAMES[light], meaning) for light, meaning in INDICATOR_LIGHT_MEANINGS.items()
]


@dataclass(frozen=True, slots=True)
class ItemFact:
    """One work item on the briefing date."""

    id: int
    task: str
    milestone: str
    title: str
    unit: str
    unit_name: str
    due: date
    status: Status
    workdays_left: int


@dataclass(frozen=True)
class UnitFact:
    """A unit and the ranking group it counts in (its township, or itself)."""

    code: str
    name: str
    group: str | None  # code of the township or department it is ranked under
    is_department: bool


@dataclass(frozen=True)
class TaskFact:
    code: str
    number: int
    title: str
    lead_name: str


@dataclass(frozen=True)
class ProblemFact:
    """A problem written in a report received during the briefing week."""

    item_id: int
    unit_name: str
    received_on: date
    problem: str


@dataclass(frozen=True)
class TimelinessFact:
    """Reports a unit owed and sent on time over the recent cycles."""

    unit: str
    owed: int
    on_time: int


@dataclass(frozen=True)
class Facts:
    """Everything the briefing is built from, gathered in one place."""

    plan: str
    plan_title: str
    title: str
    issuer: str
    as_of: date
    number: int
    yellow_workdays: int
    items: list[ItemFact]
    previous: dict[int, Status]  # item id → status on ``since``
    tasks: list[TaskFact]
    units: dict[str, UnitFact]
    levels: dict[int, str]  # item id → escalation level reached (name)
    reasons: dict[int, str]  # item id → the unit's latest stated problem or note
    problems: list[ProblemFact]
    timeliness: list[TimelinessFact]
    indicators: list[IndicatorValue]
    warnings: list[str]
    year: int = 0  # the year the issue number counts in (default: the briefing date's)
    since: date | None = None  # the previous briefing's date (default: a week before)
    extended: int = 0  # extensions approved during the week


def week_key(day: date) -> str:
    """The ISO week of a date: 2021-W52 (a briefing's identity)."""
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def masthead_title(plan_title: str, briefing_title: str | None) -> str:
    """The briefing's title: the catalogue's ``briefing_title``, else the plan's + 实施工作简报."""
    return briefing_title or f"{plan_title}实施工作简报"


def week_span(as_of: date, since: date | None = None) -> tuple[date, date]:
    """The days a briefing dated ``as_of`` covers: those after ``since`` (the previous
    briefing's date; default a week earlier) up to and including ``as_of``."""
    return (since or as_of - timedelta(days=7)) + timedelta(days=1), as_of


def period_zh(first: date, last: date) -> str:
    """2021年12月21日至12月27日 (the year once, unless the span crosses New Year)."""
    end = f"{last.month}月{last.day}日" if first.year == last.year else zh_date(last)
    return f"{zh_date(first)}至{end}"


def share(count: int, total: int) -> Share:
    return Share(count=count, percent=round(100 * count / total, 1) if total else 0.0)


def overview(items: Sequence[ItemFact], as_of: date) -> Overview:
    counts = Counter(i.status for i in items)
    total = len(items)
    done = counts[Status.DONE_ON_TIME] + counts[Status.DONE_LATE]
    not_started = counts[Status.NOT_STARTED] + counts[Status.WAITING]
    started = total - not_started
    due = [i for i in items if i.due <= as_of]
    on_time = sum(1 for i in due if i.status == Status.DONE_ON_TIME)
    return Overview(
        total=total,
        started=started,
        due_to_date=len(due),
        done=share(done, started),
        done_late=counts[Status.DONE_LATE],
        on_track=share(counts[Status.ON_TRACK] + counts[Status.DUE_SOON], started),
        due_soon=counts[Status.DUE_SOON],
        behind_pace=share(counts[Status.BEHIND_PACE], started),
        overdue=share(counts[Status.OVERDUE], started),
        not_started=share(not_started, total),
        waiting=counts[Status.WAITING],
        due_done=sum(1 for i in due if i.status in DONE),
        on_time_rate=round(100 * on_time / len(due), 1) if due else None,
    )


def task_light(statuses: Iterable[Status]) -> Light:
    """Red if anything is overdue, yellow if anything lags or is due soon, gray if nothing has
    started, green otherwise."""
    present = set(statuses)
    if Status.OVERDUE in present:
        return Light.RED
    if present & {Status.BEHIND_PACE, Status.DUE_SOON}:
        return Light.YELLOW
    if present <= {Status.NOT_STARTED, Status.WAITING}:
        return Light.GRAY
    return Light.GREEN


def task_rows(items: Sequence[ItemFact], tasks: Sequence[TaskFact], as_of: date) -> list[TaskRow]:
    by_task: dict[str, list[ItemFact]] = defaultdict(list)
    for item in items:
        by_task[item.task].append(item)
    rows = []
    for t in tasks:
        mine = by_task.get(t.code, [])
        rows.append(
            TaskRow(
                code=t.code,
                number=t.number,
                title=t.title,
                lead=t.lead_name,
                items=len(mine),
                due_to_date=sum(1 for i in mine if i.due <= as_of),
                done=sum(1 for i in mine if i.status in DONE),
                overdue=sum(1 for i in mine if i.status == Status.OVERDUE),
                behind_pace=sum(1 for i in mine if i.status == Status.BEHIND_PACE),
                due_soon=sum(1 for i in mine if i.status == Status.DUE_SOON),
                on_track=sum(1 for i in mine if i.status == Status.ON_TRACK),
                not_started=sum(
                    1 for i in mine if i.status in (Status.NOT_STARTED, Status.WAITING)
                ),
                light=task_light(i.status for i in mine),
            )
        )
    return rows


def named_units(names: Sequence[str]) -> str:
    """甸阳镇 / 甸阳镇、姚关镇 / 甸阳镇、姚关镇、仁和镇等12个单位."""
    if len(names) <= NAMED_UNITS:
        return "、".join(names)
    return "、".join(names[:NAMED_UNITS]) + f"等{len(names)}个单位"


def overdue_rows(
    items: Sequence[ItemFact], levels: dict[int, str], reasons: dict[int, str]
) -> tuple[list[OverdueRow], int, int]:
    """(rows, overdue items, items not listed)."""
    overdue = [i for i in items if i.status == Status.OVERDUE]
    groups: dict[tuple[str, date], list[ItemFact]] = defaultdict(list)
    for item in overdue:
        groups[(item.milestone, item.due)].append(item)
    keyed: list[tuple[tuple[int, str, str], OverdueRow]] = []
    for members in groups.values():
        members.sort(key=lambda i: i.unit)
        first = members[0]
        if len(members) < COLLAPSE_AT:
            keyed.extend(
                (
                    (i.workdays_left, i.milestone, i.unit),
                    OverdueRow(
                        task=i.task,
                        milestone=i.milestone,
                        title=i.title,
                        unit=i.unit_name,
                        units=1,
                        due=i.due,
                        workdays_overdue=-i.workdays_left,
                        level=levels.get(i.id, "—"),
                        reason=reasons.get(i.id, "未说明"),
                    ),
                )
                for i in members
            )
            continue
        worst = max(-i.workdays_left for i in members)
        explained = sum(1 for i in members if i.id in reasons)
        reached = Counter(levels.get(i.id, "—") for i in members).most_common(1)[0][0]
        keyed.append(
            (
                (-worst, first.milestone, first.unit),
                OverdueRow(
                    task=first.task,
                    milestone=first.milestone,
                    title=first.title,
                    unit=named_units([i.unit_name for i in members]),
                    units=len(members),
                    due=first.due,
                    workdays_overdue=worst,
                    level=reached,
                    reason=f"{explained}个单位报告了原因" if explained else "均未说明",
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


def leaders_and_laggards(
    ranks: list[UnitRank], *, laggard_needs_overdue: bool
) -> tuple[list[UnitRank], list[UnitRank]]:
    """Leaders: the best ``RANK_SIZE`` above the group's average rate (and above 0 %);
    laggards: the worst ``RANK_SIZE`` below it (for completion, only units with something
    overdue). Ties: more items first for leaders, more overdue first for laggards. With every
    unit at the same rate there are neither."""
    rated = [r for r in ranks if r.rate is not None]
    if not rated:
        return [], []
    mean = sum(r.rate or 0 for r in rated) / len(rated)
    best = sorted(
        (r for r in rated if (r.rate or 0) > max(mean, 0)),
        key=lambda r: (-(r.rate or 0), -r.due, r.code),
    )[:RANK_SIZE]
    worst = sorted(
        (
            r
            for r in rated
            if (r.rate or 0) < min(mean, 100) and (r.overdue > 0 or not laggard_needs_overdue)
        ),
        key=lambda r: (r.rate or 0, -r.overdue, -r.due, r.code),
    )[:RANK_SIZE]
    return best, worst


def rankings(
    items: Sequence[ItemFact],
    units: dict[str, UnitFact],
    timeliness: Sequence[TimelinessFact],
    as_of: date,
) -> list[UnitRankings]:
    due: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    for item in items:
        unit = units.get(item.unit)
        group = unit.group if unit is not None else None
        if group is None or item.due > as_of:
            continue
        due[group] += 1
        on_time[group] += item.status == Status.DONE_ON_TIME
        overdue[group] += item.status == Status.OVERDUE
    owed: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    for t in timeliness:
        group = units[t.unit].group if t.unit in units else None
        if group is not None:
            owed[group] += t.owed
            sent[group] += t.on_time
    out = []
    for label, departments in (("乡镇（含所辖村、社区）", False), ("县直部门", True)):
        members = sorted(
            {
                u.group
                for u in units.values()
                if u.group and units[u.group].is_department is departments
            }
        )
        completion = [
            UnitRank(
                code=g,
                name=units[g].name,
                due=due[g],
                on_time=on_time[g],
                overdue=overdue[g],
                rate=round(100 * on_time[g] / due[g], 1) if due[g] else None,
            )
            for g in members
        ]
        timely = [
            UnitRank(
                code=g,
                name=units[g].name,
                due=owed[g],
                on_time=sent[g],
                overdue=owed[g] - sent[g],
                rate=round(100 * sent[g] / owed[g], 1) if owed[g] else None,
            )
            for g in members
        ]
        c_best, c_worst = leaders_and_laggards(completion, laggard_needs_overdue=True)
        t_best, t_worst = leaders_and_laggards(timely, laggard_needs_overdue=False)
        compared = {r.code for r in (*completion, *timely) if r.rate is not None}
        if not compared:
            continue
        out.append(
            UnitRankings(
                group=label,
                completion_leaders=c_best,
                completion_laggards=c_worst,
                timeliness_leaders=t_best,
                timeliness_laggards=t_worst,
                ranked=len(compared),
            )
        )
    return out


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


def changes(
    items: Sequence[ItemFact], previous: dict[int, Status], since: date, extended: int = 0
) -> Changes:
    """New overdue and done items and light moves; items new since last week count as moving
    from gray."""
    newly_overdue = [
        i for i in items if i.status == Status.OVERDUE and previous.get(i.id) != Status.OVERDUE
    ]
    newly_done = [i for i in items if i.status in DONE and previous.get(i.id) not in DONE]
    moves: Counter[tuple[Light, Light]] = Counter()
    for item in items:
        before = STATUS_LIGHT[previous.get(item.id, Status.NOT_STARTED)]
        after = STATUS_LIGHT[item.status]
        if before != after:
            moves[(before, after)] += 1
    rank = {light: n for n, light in enumerate(LIGHT_ORDER)}

    def listed(chosen: list[ItemFact]) -> list[ItemChange]:
        chosen = sorted(chosen, key=lambda i: (i.due, i.task, i.milestone, i.unit))
        return [
            ItemChange(task=i.task, title=i.title, unit=i.unit_name, due=i.due)
            for i in chosen[:CHANGE_ROWS]
        ]

    return Changes(
        previous_as_of=since,
        newly_overdue=len(newly_overdue),
        newly_overdue_items=listed(newly_overdue),
        newly_done=len(newly_done),
        newly_done_items=listed(newly_done),
        extended=extended,
        lights=[
            LightChange(before=b, after=a, count=n)
            for (b, a), n in sorted(moves.items(), key=lambda kv: (rank[kv[0][0]], rank[kv[0][1]]))
        ],
    )


def build_briefing(facts: Facts) -> Briefing:
    """The whole view model from the facts."""
    as_of = facts.as_of
    since = facts.since or as_of - timedelta(days=7)
    first, last = week_span(as_of, since)
    week_start = as_of - timedelta(days=as_of.weekday())
    by_id = {i.id: i for i in facts.items}
    overdue, overdue_items, overdue_hidden = overdue_rows(facts.items, facts.levels, facts.reasons)
    problems, problems_hidden = problem_rows(facts.problems, by_id)
    upcoming, until, upcoming_waiting = upcoming_rows(facts.items, as_of)
    legend = [(word, meaning.format(n=facts.yellow_workdays)) for word, meaning in LEGEND]
    return Briefing(
        plan=facts.plan,
        as_of=as_of,
        masthead=Masthead(
            title=facts.title,
            plan_title=facts.plan_title,
            issuer=facts.issuer,
            year=facts.year or as_of.year,
            number=facts.number,
            issued_on=as_of,
            issued_on_zh=zh_date(as_of),
            week=week_key(as_of),
            week_start=week_start,
            week_end=week_start + timedelta(days=6),
            period_zh=period_zh(first, last),
        ),
        overview=overview(facts.items, as_of),
        tasks=task_rows(facts.items, facts.tasks, as_of),
        overdue=overdue,
        overdue_items=overdue_items,
        overdue_hidden=overdue_hidden,
        indicators=indicator_rows(facts.indicators),
        rankings=rankings(facts.items, facts.units, facts.timeliness, as_of),
        problems=problems,
        problems_hidden=problems_hidden,
        upcoming=upcoming,
        upcoming_until=until,
        upcoming_waiting=upcoming_waiting,
        changes=changes(facts.items, facts.previous, since, facts.extended),
        legend=legend,
        indicator_legend=INDICATOR_LEGEND,
        warnings=facts.warnings,
    )
