"""The facts a final evaluation is built from, as plain frozen values (gathered by
:mod:`domain.queries.evaluation`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.rules.briefing.facts import ItemFact, TaskFact, UnitFact
from domain.rules.indicators import IndicatorValue


@dataclass(frozen=True)
class IndicatorFact:
    """An indicator on the evaluation day, the days its counted figures were received on, and
    its value at the end of each year of the period (None: no data then)."""

    value: IndicatorValue
    data_from: date | None
    data_to: date | None
    yearly: tuple[tuple[int, float | None], ...]


@dataclass(frozen=True)
class ProblemStatement:
    """A problem written in one report over the period."""

    item_id: int
    unit: str
    unit_name: str
    received_on: date
    problem: str


@dataclass(frozen=True)
class ReportingYear:
    """The reporting cycles whose report fell due in a year: reports owed, and sent on time."""

    year: int
    cycles: int
    owed: int
    on_time: int


@dataclass(frozen=True)
class EvaluationFacts:
    """Everything the final evaluation is built from."""

    plan: str
    plan_title: str
    issuer: str
    period_start: date
    period_end: date
    as_of: date
    items: list[ItemFact]
    tasks: list[TaskFact]
    units: dict[str, UnitFact]
    reasons: dict[int, str]  # item id → the unit's last stated problem
    problems: list[ProblemStatement]
    indicators: list[IndicatorFact]
    reporting: list[ReportingYear]
    close_out_last: date | None = None  # the last day reminders are planned, once ended
    warnings: list[str] = field(default_factory=list)
