"""The catalogue format as pydantic models: what a coordinator may write in a plan's YAML files.

Every model forbids unknown keys, so a typo (``lead_unit`` for ``lead``) is an error with a line
number instead of a silently ignored field. Numbers are finite and bounded, texts fit their
database columns and the plan period fits the working-day calendar: what validates also syncs.
A plan folder may split its content over several files; each file is a :class:`CatalogFile`
and the loader merges them into a :class:`Catalog`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from models.enums import UnitKind, UnitSet

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
UnitOfMeasure = Annotated[str, StringConstraints(max_length=16)]

FIRST_DAY = date(2004, 1, 1)
"""The working-day calendar's first day (``domain.rules.workdays.EPOCH``): no plan starts
earlier."""
LAST_DAY = date(2100, 12, 31)
"""No plan ends later (the calendar is built one year past the period's end)."""
DEFAULT_CLOSE_OUT_WORKDAYS = 20
"""Working days after a plan's end during which reminders go on unless the catalogue says."""

UNIT_SET_NAMES = frozenset(s.value for s in UnitSet)


class Strict(BaseModel):
    """Base for catalogue models: unknown keys are errors; instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Period(Strict):
    start: date
    end: date

    @field_validator("start", "end")
    @classmethod
    def _in_calendar(cls, day: date) -> date:
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"规划期须在 {FIRST_DAY} 至 {LAST_DAY} 之间（工作日历的范围），请改正")
        return day

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"截止 {self.end} 早于开始 {self.start}")
        return self


class ReportingSpec(Strict):
    """How often units report progress, and by when (the reporting cycle, 报送周期)."""

    cycle: Literal["weekly", "monthly"] = "weekly"
    due: int = Field(
        default=5,
        ge=1,
        le=31,
        description="weekly: ISO weekday reports are due (5 = Friday); monthly: day of month",
    )

    @model_validator(mode="after")
    def _due_fits_cycle(self) -> ReportingSpec:
        if self.cycle == "weekly" and self.due > 7:
            raise ValueError("按周报送时 `due` 是星期几：1（星期一）到 7（星期日）")
        return self


class BriefingDistribution(Strict):
    """Who the briefing goes to, printed in its 版记 (报、送、发 lines)."""

    report_to: list[Text] = Field(default_factory=list, description="报: superiors it reports to")
    copy_to: list[Text] = Field(default_factory=list, description="送: peers it is sent to")
    issue_to: list[Text] = Field(default_factory=list, description="发: units it is issued to")


class PlanSpec(Strict):
    """The plan itself: what it is, who issued it, when it runs, who coordinates and leads."""

    id: Id
    title: Text
    issuing_body: Text
    period: Period
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    coordinator: Id = Field(description="unit id of the coordinating office (督办牵头单位)")
    leadership: Id = Field(description="unit id of the leadership the ladder ends at")
    declared_village_units: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="how many villages/communities the plan text says",
    )
    reporting: ReportingSpec = Field(default_factory=ReportingSpec)
    briefing_title: Text | None = Field(
        default=None,
        description="masthead of the weekly briefing (default: title + 实施工作简报); the "
        "monthly and quarterly editions end in 月通报 and 季度推进情况通报 instead",
    )
    briefing_distribution: BriefingDistribution | None = Field(
        default=None, description="the briefing's 报、送、发 lines (default: leadership; all units)"
    )
    close_out_workdays: int = Field(
        default=DEFAULT_CLOSE_OUT_WORKDAYS,
        ge=0,
        le=1000,
        description="working days after the period's end during which reminders go on (收尾期)",
    )
    close_out_until: date | None = Field(
        default=None,
        description="the coordinator's extension: reminders go on until this day (inclusive)",
    )
    source: str | None = None

    @field_validator("close_out_until")
    @classmethod
    def _close_out_after_the_end(cls, until: date | None, info: ValidationInfo) -> date | None:
        period = info.data.get("period")
        end = period.end if isinstance(period, Period) else None
        if until is not None and not (end or until) <= until <= LAST_DAY:
            raise ValueError(f"{until} 须在规划截止日 {end} 与 {LAST_DAY} 之间")
        return until


class Contact(Strict):
    """A person at a unit to notify, by role."""

    name: Text
    role: Literal["head", "deputy", "liaison", "staff"]
    email: str | None = None
    phone: str | None = Field(default=None, max_length=32)
    notify: list[str] = Field(default_factory=list, description="apprise-style URLs")


class UnitSpec(Strict):
    """A responsible body. ``id`` is what the rest of the catalogue refers to."""

    id: Id
    name: Text
    kind: UnitKind
    parent: Id | None = None
    division_code: (
        Annotated[str, StringConstraints(pattern=r"^\d{6}(\d{3}(\d{3})?)?$", max_length=12)] | None
    ) = None
    urban: bool = False
    proposed: bool = False
    contacts: list[Contact] = Field(default_factory=list)


UnitSelector = Id | list[Id]
"""A unit id, a unit-set name (townships, villages, ...) or a list mixing both."""


class Recurrence(Strict):
    """An RFC 5545 RRULE (without DTSTART) expanded between ``start`` and ``end`` inclusive."""

    rrule: Text
    start: date
    end: date


DUE_TO_FILL = "待填"
"""What a carry-over draft writes as a due date the coordinator has to set: refused until
replaced by a date."""


class CarriedFrom(Strict):
    """The milestone of an older plan (in the same database) that a milestone carries over."""

    plan: Id = Field(description="the older plan's id")
    milestone: Id = Field(description="the milestone's id in that plan")


class MilestoneSpec(Strict):
    """A dated deliverable: one due date or a recurrence; one owner or a fan-out to units."""

    id: Id
    title: Text
    deliverable: str = ""
    evidence: list[Text] = Field(default_factory=list, description="evidence required to close")
    due: date | None = None
    recurrence: Recurrence | None = None
    start: date | None = Field(default=None, description="when work on it may begin (window)")
    owner: Id | None = Field(default=None, description="default: the task's lead unit")
    fan_out: UnitSelector | None = None
    depends_on: list[Id] = Field(default_factory=list)
    proposed: bool = False
    carried_from: CarriedFrom | None = Field(
        default=None, description="结转: the older plan's milestone whose unfinished work this is"
    )

    @field_validator("due", mode="before")
    @classmethod
    def _due_filled_in(cls, due: object) -> object:
        if isinstance(due, str) and due.strip() == DUE_TO_FILL:
            raise ValueError(
                f"完成时限还是“{DUE_TO_FILL}”：请把它改为新规划中的日期"
                "（如 2026-12-31）后再校验、同步"
            )
        return due

    @model_validator(mode="after")
    def _one_schedule(self) -> MilestoneSpec:
        if (self.due is None) == (self.recurrence is None):
            raise ValueError("`due` 和 `recurrence` 须有且只有一个")
        return self


class TaskSpec(Strict):
    """A key task (重点任务), with the plan's wording and its responsible units."""

    number: int = Field(ge=1, le=9999)
    id: Id | None = Field(default=None, description="default: T followed by the 2-digit number")
    title: Text
    description: str = ""
    lead: Id
    cooperating: list[Id] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0, le=1000)
    responsibility: Literal["plan", "proposed"] = Field(
        default="plan", description="whether lead/cooperating come from the plan or are proposed"
    )
    milestones: list[MilestoneSpec] = Field(default_factory=list)

    @property
    def code(self) -> str:
        return self.id or f"T{self.number:02d}"


class MeasureSpec(Strict):
    """A quantity reported per unit, the raw material of indicators."""

    id: Id
    name: Text
    unit_of_measure: UnitOfMeasure = ""
    type: Literal["number", "integer", "boolean"] = "number"
    reported_by: UnitSelector


class Target(Strict):
    op: Literal[">=", "<=", ">", "<", "=="]
    value: float = Field(ge=-1e15, le=1e15)


class Formula(Strict):
    """County value = sum(numerator measures) × factor / sum(denominator measures).

    The pseudo-measure ``units`` counts the units in scope (for coverage rates).
    """

    numerator: list[Id] = Field(min_length=1)
    denominator: list[Id] = Field(min_length=1)
    factor: float = Field(default=1.0, ge=-1e9, le=1e9)


class IndicatorSpec(Strict):
    """A plan indicator with its target and how it is computed from unit measures."""

    id: Id
    name: Text
    unit_of_measure: UnitOfMeasure = ""
    target: Target
    aspirational: bool = Field(default=False, description="力争: a goal to strive for")
    due: date
    scope: UnitSelector
    formula: Formula
    proposed: bool = False


class CatalogFile(Strict):
    """What one YAML file of a plan folder may hold; every section is optional."""

    plan: PlanSpec | None = None
    units: list[UnitSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    measures: list[MeasureSpec] = Field(default_factory=list)
    indicators: list[IndicatorSpec] = Field(default_factory=list)


class SourcePoint(Strict):
    """Where a value was written, for a problem found only later (by the sync)."""

    file: Path
    line: int | None
    field: str


class Catalog(Strict):
    """A whole plan, merged from its files and checked for consistency."""

    plan: PlanSpec
    units: list[UnitSpec]
    tasks: list[TaskSpec]
    measures: list[MeasureSpec]
    indicators: list[IndicatorSpec]
    checksum: str
    carried_from_at: dict[str, dict[str, SourcePoint]] = Field(default_factory=dict)
    """Per carried-over milestone id, where its ``carried_from`` ``plan`` and ``milestone`` are
    written: the sync checks them against the database."""
    plan_id_at: SourcePoint | None = None
    """Where the plan's id is written: the sync checks it against the plans already synced."""
