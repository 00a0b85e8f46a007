"""The facts a briefing is built from, as plain frozen values (gathered by
:mod:`domain.queries.briefing_facts`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.rules.briefing.model import Reporting
from domain.rules.indicators import IndicatorValue
from domain.rules.periods import Period
from models.enums import Status

DONE = frozenset({Status.DONE_ON_TIME, Status.DONE_LATE})
"""The statuses that count as done."""


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
    blocked: bool = False  # the unit reported it 受阻 (its state on the day)


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
    """Reports a unit owed and sent on time over the recent cycles; ``silent``: the cycles in a
    row, up to the latest due one, for which it owed a report and sent nothing."""

    unit: str
    owed: int
    on_time: int
    silent: int = 0


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
    period: Period | None = None  # the week, month or quarter (default: the ISO week of as_of)
    printed_on: date | None = None  # 印发日期, the masthead's date (default: as_of)
    extended: int = 0  # extensions approved during the week
    leadership: frozenset[int] = frozenset()  # items whose ladder notice reached leadership
    next_steps: dict[int, str] = field(default_factory=dict)  # item id → latest next steps
    reporting: Reporting | None = None  # 最近一期报送, as the view shows it
    waits_on: dict[int, tuple[int, ...]] = field(default_factory=dict)
    # past-due waiting item id → the prerequisite items it waits on (not closed on the day)
    baselines: dict[str, tuple[date, float]] = field(default_factory=dict)
    # indicator id → (an earlier date, its value then): the pace an indicator moves at
    close_out: tuple[date, date] | None = None
    # a plan past its period: (its last day, the last day reminders are planned)
