"""The weekly briefing (工作简报) as data: one view model that every format renders.

Everything a reader sees is here already computed (counts, shares, rankings, changes, the Chinese
dates); templates only lay it out. The model is built by the pure functions of
:mod:`domain.rules.briefing.build` from facts gathered by :mod:`domain.queries.briefing_facts`.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from models.enums import Edition, Light


class Masthead(BaseModel):
    """报头: title, issue number within the year, issuing unit, date."""

    title: str
    plan_title: str
    issuer: str
    year: int
    number: int
    issued_on: date  # the date the numbers are as of (统计截至)
    issued_on_zh: str
    printed_on: date  # 印发日期: the briefing date, or the first working day after a month/quarter
    printed_on_zh: str
    edition: Edition  # week, month or quarter: the series the number counts in
    period: str  # 2021-W52, 2021-12 or 2021-Q4
    period_label: str  # 2021年第52周, 2021年12月, 2021年第四季度
    period_start: date  # Monday, or the first day of the month or quarter
    period_end: date  # Sunday, or the last day of the month or quarter
    period_zh: str  # 2021年12月21日至12月27日 (the days the briefing covers)
    this_period: str  # 本周, 本月, 本季度
    last_period: str  # 上周, 上月, 上季度


class Share(BaseModel):
    """A count and its share of a total (percent, one decimal)."""

    count: int
    percent: float


class Overview(BaseModel):
    """一、总体进展: every work item of the plan by where it stands."""

    total: int
    started: int  # in their window and not waiting: done, on track, behind pace or overdue
    due_to_date: int  # due on or before the briefing date
    done: Share  # shares of the started items
    done_late: int  # of done: completed after the deadline
    on_track: Share
    due_soon: int  # of on track: within the warning window
    behind_pace: Share
    overdue: Share
    not_started: Share  # share of all items: window not open, or waiting
    waiting: int  # of not started: held by an unfinished prerequisite
    due_done: int  # of the items due to date: done (on time or late)
    on_time_rate: float | None  # done on time ÷ due to date, percent
    # the items due to date split once, adding up to ``due_to_date``:
    due_on_time: int  # done on or before the due date
    due_overdue: int  # not done, past due (= overdue.count)
    due_held: int  # past due, not started: a prerequisite is overdue (因前置事项逾期未启动)
    due_waiting: int  # past due, not started: waiting on a prerequisite not yet due
    due_today: int  # due on the briefing date itself and still open
    # the items not yet due, adding up to ``total - due_to_date``:
    ahead: int
    ahead_done: int  # done early
    ahead_open: int  # in their window: on track, due soon or behind pace
    ahead_behind: int  # of ahead_open: behind pace
    ahead_not_started: int  # window not open, or waiting on a prerequisite


class TaskRow(BaseModel):
    """二、重点任务推进情况: one key task."""

    code: str
    number: int
    title: str
    lead: str
    items: int
    due_to_date: int
    done: int
    overdue: int
    behind_pace: int
    due_soon: int
    on_track: int
    not_started: int
    light: Light


class OverdueRow(BaseModel):
    """三、逾期事项清单: one overdue item, or one milestone overdue at many units; ``held``
    rows are past due but not started because a prerequisite is overdue."""

    task: str
    milestone: str
    title: str
    unit: str
    units: int  # 1, or how many units a collapsed row stands for
    due: date
    workdays_overdue: int
    level: str  # 逾期督办 / 逾期通报 / — (escalation level reached)
    reason: str  # the unit's own words from its latest report, or a note
    held: bool = False  # 因前置事项逾期未启动


class IndicatorRow(BaseModel):
    """四、指标完成情况."""

    code: str
    name: str
    value: str
    target: str
    gap: str
    reported: str
    light: Light
    attainment: float | None  # current value ÷ target, percent (for the chart)


class UnitRank(BaseModel):
    """One unit (a township with its villages, or a department) in a ranking."""

    code: str
    name: str
    due: int
    on_time: int
    overdue: int
    rate: float | None  # percent


class UnitRankings(BaseModel):
    """五、单位推进情况: leaders and laggards, not every unit; ``*_tie`` holds the common rate
    when every compared unit has the same one (then there are neither leaders nor laggards)."""

    group: str  # 乡镇（含所辖村、社区） / 县直部门
    completion_tie: float | None = None
    timeliness_tie: float | None = None
    completion_compared: int = 0
    timeliness_compared: int = 0
    completion_leaders: list[UnitRank]
    completion_laggards: list[UnitRank]
    timeliness_leaders: list[UnitRank]
    timeliness_laggards: list[UnitRank]
    ranked: int  # how many units were compared


class ProblemRow(BaseModel):
    """六、存在问题: a problem raised this week, in the units' own words; the same words on the
    same milestone from several units are one row."""

    unit: str  # a name, or "甲镇、乙乡等5个单位"
    units: int
    task: str
    milestone: str
    title: str
    problem: str
    overdue: bool  # raised on an overdue item (listed first)


class UpcomingRow(BaseModel):
    """七、下步工作: a milestone due in the next two weeks and the units still on it."""

    task: str
    milestone: str
    title: str
    due: date
    units: str  # names, or "甸阳镇、姚关镇等13个单位"
    open: int


class LeaderItem(BaseModel):
    """需要领导协调解决的事项: one matter, the units it concerns and what is asked."""

    kind: str  # leadership | blocked | silent | indicator
    matter: str  # what it is about (a milestone's or an indicator's title)
    units: str  # the unit(s) concerned
    situation: str  # the facts, in the units' words where they gave some
    ask: str  # what is asked of the leader


class Reporting(BaseModel):
    """最近一期报送: the latest reporting cycle whose report was due by the briefing date."""

    start: date
    end: date
    due: date
    owed: int
    sent: int
    on_time: int
    unasked: int = 0  # units that owed nothing and reported all the same


class LightChange(BaseModel):
    """How many items went from one light to another since last week."""

    before: Light
    after: Light
    count: int


class ItemChange(BaseModel):
    """An item that became overdue or was completed this week."""

    task: str
    title: str
    unit: str
    due: date


class Changes(BaseModel):
    """与上周相比: what moved in the seven days."""

    previous_as_of: date
    newly_overdue: int
    newly_overdue_items: list[ItemChange]
    newly_done: int
    newly_done_items: list[ItemChange]
    extended: int  # deadlines moved by an approved extension (延期) during the week
    lights: list[LightChange]


class Ended(BaseModel):
    """A plan past its period (规划期满): the briefing points to the final evaluation and says
    only what still moves in the close-out (收尾期)."""

    end: date  # the period's last day
    reminders_until: date  # the last day reminders are planned (the close-out's end)
    evaluation: str  # the final evaluation's Word file, under the briefings folder
    open_items: int  # due and still not done
    closed_since: int  # done since the previous briefing
    closed_items: list[ItemChange]


class Briefing(BaseModel):
    """The whole briefing for one week of one plan."""

    plan: str
    as_of: date
    masthead: Masthead
    overview: Overview
    tasks: list[TaskRow]
    overdue: list[OverdueRow]
    overdue_items: int  # before collapsing and cutting
    overdue_hidden: int  # items not listed (beyond the limit)
    indicators: list[IndicatorRow]
    rankings: list[UnitRankings]
    problems: list[ProblemRow]
    problems_hidden: int
    upcoming: list[UpcomingRow]
    upcoming_until: date
    upcoming_waiting: int  # due in the window but still waiting on a prerequisite
    changes: Changes
    leader: list[LeaderItem]
    leader_more: dict[str, int]  # kind → matters that qualified but did not fit on page one
    reporting: Reporting | None
    legend: list[tuple[str, str]]
    definitions: list[tuple[str, str]]  # 口径说明: each figure's definition, once
    indicator_legend: list[tuple[str, str]]
    warnings: list[str]
    ended: Ended | None = None  # the plan's period is over

    def numbers(self) -> str:
        """The briefing's content as canonical JSON, for the checksum of what leadership read
        (charts and file paths left out: they describe files, not the numbers; ``ended`` only
        when set, so a running plan's briefings keep the checksums they were issued with)."""
        return self.model_dump_json(
            exclude={"warnings"} | ({"ended"} if self.ended is None else set())
        )
