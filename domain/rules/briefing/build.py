"""Pure functions from gathered facts to the briefing's view model (no database here).

The rules a reader may ask about:

* **Overview** counts every live work item of the plan by its status on the briefing date. The
  items in their window (started): done (按期 or 逾期完成), on track (incl. due within the
  warning window), behind pace (序时进度滞后), overdue, with shares of the started items; the
  rest have not started (window not open, or waiting on a prerequisite), a share of all items
  (a five-year plan is mostly ahead). The on-time rate is items done on time ÷ items due to date.
* **A key task's light**: red if any of its items is overdue, yellow if any is behind pace or due
  soon, green if work is under way or done, gray if nothing has started.
* The lists (overdue, problems, upcoming, indicators) are in :mod:`domain.rules.briefing.lists`,
  the rankings of units in :mod:`domain.rules.briefing.rankings`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from domain.rules.briefing.facts import DONE, Facts, ItemFact, TaskFact
from domain.rules.briefing.lists import indicator_rows, overdue_rows, problem_rows, upcoming_rows
from domain.rules.briefing.model import (
    Briefing,
    Changes,
    ItemChange,
    LightChange,
    Masthead,
    Overview,
    Share,
    TaskRow,
)
from domain.rules.briefing.rankings import rankings
from domain.rules.glossary import (
    EDITION_NAMES,
    EDITION_TITLES,
    INDICATOR_LIGHT_MEANINGS,
    LAST_PERIOD,
    LIGHT_MEANINGS,
    LIGHT_NAMES,
    THIS_PERIOD,
    zh_date,
)
from domain.rules.periods import Period
from models.enums import STATUS_LIGHT, Edition, Light, Status

CHANGE_ROWS = 10

LIGHT_ORDER = (Light.GREEN, Light.YELLOW, Light.RED, Light.DONE_LATE, Light.GRAY)

LEGEND: list[tuple[str, str]] = [
    (LIGHT_NAMES[light], LIGHT_MEANINGS[light])
    for light in (Light.GREEN, Light.YELLOW, Light.RED, Light.GRAY, Light.DONE_LATE)
]
INDICATOR_LEGEND: list[tuple[str, str]] = [
    (LIGHT_NAMES[light], meaning) for light, meaning in INDICATOR_LIGHT_MEANINGS.items()
]


def masthead_title(
    plan_title: str, briefing_title: str | None, edition: Edition = Edition.WEEK
) -> str:
    """The briefing's title: the catalogue's ``briefing_title``, else the plan's + 实施工作简报;
    a monthly or quarterly edition ends in its own name instead of (工作)简报 (…实施月通报)."""
    weekly = briefing_title or f"{plan_title}实施工作简报"
    if edition is Edition.WEEK:
        return weekly
    for ending in ("工作简报", "简报"):
        if weekly.endswith(ending):
            return weekly.removesuffix(ending) + EDITION_TITLES[edition]
    return f"{weekly}（{EDITION_NAMES[edition]}）"


def covered_days(as_of: date, since: date) -> tuple[date, date]:
    """The days a briefing dated ``as_of`` covers: those after ``since`` (the previous
    edition's date) up to and including ``as_of``."""
    return since + timedelta(days=1), as_of


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


def masthead(facts: Facts, period: Period, since: date) -> Masthead:
    """报头: the title, the number in its edition's series, the period and the days covered."""
    edition = period.edition
    printed_on = facts.printed_on or facts.as_of
    return Masthead(
        title=facts.title,
        plan_title=facts.plan_title,
        issuer=facts.issuer,
        year=facts.year or facts.as_of.year,
        number=facts.number,
        issued_on=facts.as_of,
        issued_on_zh=zh_date(facts.as_of),
        printed_on=printed_on,
        printed_on_zh=zh_date(printed_on),
        edition=edition,
        period=str(period),
        period_label=period.label,
        period_start=period.first,
        period_end=period.last,
        period_zh=period_zh(*covered_days(facts.as_of, since)),
        this_period=THIS_PERIOD[edition],
        last_period=LAST_PERIOD[edition],
    )


def build_briefing(facts: Facts) -> Briefing:
    """The whole view model from the facts."""
    as_of = facts.as_of
    since = facts.since or as_of - timedelta(days=7)
    period = facts.period or Period.of(Edition.WEEK, as_of)
    by_id = {i.id: i for i in facts.items}
    overdue, overdue_items, overdue_hidden = overdue_rows(facts.items, facts.levels, facts.reasons)
    problems, problems_hidden = problem_rows(facts.problems, by_id)
    upcoming, until, upcoming_waiting = upcoming_rows(facts.items, as_of)
    legend = [(word, meaning.format(n=facts.yellow_workdays)) for word, meaning in LEGEND]
    return Briefing(
        plan=facts.plan,
        as_of=as_of,
        masthead=masthead(facts, period, since),
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
