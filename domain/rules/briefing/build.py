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

from domain.rules import evaluation
from domain.rules.briefing import leader
from domain.rules.briefing.facts import DONE, Facts, ItemFact, TaskFact
from domain.rules.briefing.lists import indicator_rows, overdue_rows, problem_rows, upcoming_rows
from domain.rules.briefing.model import (
    Briefing,
    Changes,
    Ended,
    ItemChange,
    LeaderItem,
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
from domain.rules.reporting import RECORD_CYCLES
from models.enums import STATUS_LIGHT, Edition, Light, Status

CHANGE_ROWS = 5
"""Items named in 与上周相比 (newly overdue, newly done); the rest are counted."""

LIGHT_ORDER = (Light.GREEN, Light.YELLOW, Light.RED, Light.DONE_LATE, Light.GRAY)

LEGEND: list[tuple[str, str]] = [
    (LIGHT_NAMES[light], LIGHT_MEANINGS[light])
    for light in (Light.GREEN, Light.YELLOW, Light.RED, Light.GRAY, Light.DONE_LATE)
]
DEFINITIONS: list[tuple[str, str]] = [
    ("工作事项", "一个节点对一个责任单位的一次交办，各项数均按事项计"),
    ("到期应完成", "截止日期在统计日当日或之前的事项"),
    ("已完成", "已申请办结或已核验销号；在截止日期当日或之前完成的为按期完成"),
    ("按期完成率", "按期完成数÷到期应完成数"),
    ("逾期未完成", "已过截止日期仍未完成，且前置事项均已完成"),
    ("因前置事项逾期未启动", "已过截止日期，因前置事项逾期未完成而无法启动，不计入逾期未完成"),
    ("进度滞后", "尚未到期，实际进度落后于按时间均匀推进应达到的进度"),
    ("尚未启动", "尚未到期的事项中，未到办理期或等待前置事项完成的"),
    (
        "最近一期报送",
        "截止日在统计日当日或之前的最近一个报送周期；周期内有正在办理事项的单位为应报单位",
    ),
    (
        "报送及时率",
        "近{n}个报送周期中按时（截止日当日或之前）报送的周期数÷应报送的周期数；"
        "乡镇含所辖村（社区）",
    ),
]
"""口径说明: each figure the briefing prints, defined once ({n}: :data:`RECORD_CYCLES`)."""

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


def held_items(
    items: Sequence[ItemFact], waits_on: dict[int, tuple[int, ...]], as_of: date
) -> set[int]:
    """The items past due and not started because a prerequisite is itself past due and not
    done (overdue, or held in turn): 因前置事项逾期未启动."""
    by_id = {i.id: i for i in items}

    def late(item_id: int) -> bool:
        p = by_id.get(item_id)
        return p is not None and p.status in (Status.OVERDUE, Status.WAITING) and p.due < as_of

    return {
        i.id
        for i in items
        if i.status == Status.WAITING
        and i.due < as_of
        and any(late(p) for p in waits_on.get(i.id, ()))
    }


OPEN = frozenset({Status.ON_TRACK, Status.DUE_SOON, Status.BEHIND_PACE})
"""In their window, not done, not late."""
GRAY = frozenset({Status.NOT_STARTED, Status.WAITING})


def overview(items: Sequence[ItemFact], as_of: date, held: set[int] | None = None) -> Overview:
    """Every item counted once: the items due to date split by where they stand, then the
    items not yet due (see the 口径说明 in :data:`DEFINITIONS`)."""
    held = held or set()
    counts = Counter(i.status for i in items)
    due = [i for i in items if i.due <= as_of]
    on_due = Counter(i.status for i in due)
    ahead = Counter(i.status for i in items if i.due > as_of)
    total = len(items)
    not_started = sum(counts[s] for s in GRAY)
    started = total - not_started
    on_time = on_due[Status.DONE_ON_TIME]
    held_due = sum(1 for i in due if i.id in held)
    return Overview(
        total=total,
        started=started,
        due_to_date=len(due),
        done=share(sum(counts[s] for s in DONE), started),
        done_late=counts[Status.DONE_LATE],
        on_track=share(counts[Status.ON_TRACK] + counts[Status.DUE_SOON], started),
        due_soon=counts[Status.DUE_SOON],
        behind_pace=share(counts[Status.BEHIND_PACE], started),
        overdue=share(counts[Status.OVERDUE], started),
        not_started=share(not_started, total),
        waiting=counts[Status.WAITING],
        due_done=sum(on_due[s] for s in DONE),
        on_time_rate=round(100 * on_time / len(due), 1) if due else None,
        due_on_time=on_time,
        due_overdue=on_due[Status.OVERDUE],
        due_held=held_due,
        due_waiting=sum(on_due[s] for s in GRAY) - held_due,
        due_today=sum(on_due[s] for s in OPEN),  # due on the day itself: still in its window
        ahead=ahead.total(),
        ahead_done=sum(ahead[s] for s in DONE),
        ahead_open=sum(ahead[s] for s in OPEN),
        ahead_behind=ahead[Status.BEHIND_PACE],
        ahead_not_started=sum(ahead[s] for s in GRAY),
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


def leader_items(facts: Facts, held: set[int]) -> tuple[list[LeaderItem], dict[str, int]]:
    """Page one's matters (:mod:`domain.rules.briefing.leader`) and how many more qualified."""
    held_by: Counter[int] = Counter()
    for item_id in held:
        for p in facts.waits_on.get(item_id, ()):
            held_by[p] += 1
    return leader.choose(
        [
            *leader.leadership_matters(
                facts.items,
                facts.leadership,
                facts.levels,
                facts.reasons,
                held_by,
                {t.code: t for t in facts.tasks},
            ),
            *leader.blocked_matters(facts.items, facts.reasons, facts.next_steps, facts.units),
            *leader.indicator_matters(facts.indicators, facts.baselines, facts.as_of),
            *leader.silent_matters(facts.timeliness, facts.units),
        ]
    )


def ended(facts: Facts, moved: Changes) -> Ended | None:
    """What a briefing of a plan past its period says instead of its lists; None before."""
    if facts.close_out is None or facts.as_of <= facts.close_out[0]:
        return None
    end, until = facts.close_out
    return Ended(
        end=end,
        reminders_until=until,
        evaluation=f"{facts.plan}/{evaluation.FOLDER}/{evaluation.file_stem(end)}.docx",
        open_items=sum(1 for i in facts.items if i.status not in DONE and i.due <= facts.as_of),
        closed_since=moved.newly_done,
        closed_items=moved.newly_done_items,
    )


def build_briefing(facts: Facts) -> Briefing:
    """The whole view model from the facts."""
    as_of = facts.as_of
    since = facts.since or as_of - timedelta(days=7)
    period = facts.period or Period.of(Edition.WEEK, as_of)
    by_id = {i.id: i for i in facts.items}
    held = held_items(facts.items, facts.waits_on, as_of)
    overdue, overdue_items, overdue_hidden = overdue_rows(
        facts.items, facts.levels, facts.reasons, held
    )
    leader, leader_more = leader_items(facts, held)
    problems, problems_hidden = problem_rows(facts.problems, by_id)
    upcoming, until, upcoming_waiting = upcoming_rows(facts.items, as_of)
    legend = [(word, meaning.format(n=facts.yellow_workdays)) for word, meaning in LEGEND]
    moved = changes(facts.items, facts.previous, since, facts.extended)
    return Briefing(
        plan=facts.plan,
        as_of=as_of,
        masthead=masthead(facts, period, since),
        overview=overview(facts.items, as_of, held),
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
        changes=moved,
        leader=leader,
        leader_more=leader_more,
        reporting=facts.reporting,
        legend=legend,
        definitions=[(word, meaning.format(n=RECORD_CYCLES)) for word, meaning in DEFINITIONS],
        indicator_legend=INDICATOR_LEGEND,
        warnings=facts.warnings,
        ended=ended(facts, moved),
    )
