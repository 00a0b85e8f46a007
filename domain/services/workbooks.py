"""Unit workbooks (台账): one .xlsx per unit, prefilled with its items, signed, ready to fill in
(what the sheets look like: :mod:`domain.adapters.unit_workbook`); the items and measures they
hold read from the database, a plan's part once a day and many units' items at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.adapters.files import fit_name
from domain.adapters.unit_workbook import FONT, HEADER_ROW, MeasureRow, write_unit_workbook
from domain.queries.calendar import reporting_cycle
from domain.queries.indicators import measure_table
from domain.queries.plans import unit_of
from domain.rules.lifecycle import done_values
from domain.rules.reporting import Cycle
from models.enums import ItemState
from models.orm import Milestone, Plan, Task, Unit, WorkItem
from models.records import Measure
from models.unitsets import select_units

__all__ = [
    "FONT",
    "HEADER_ROW",
    "PlanWorkbooks",
    "WorkbookFile",
    "unit_items",
    "units_for_workbooks",
    "units_items",
    "write_workbook",
]

WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class WorkbookFile:
    """A written workbook."""

    unit: str
    unit_name: str
    path: Path
    items: int
    measures: int


def unit_items(session: Session, plan: Plan, unit: Unit, as_of: date) -> list[tuple[object, ...]]:
    """The unit's open items whose window opens within 30 days, and items due ±30 days."""
    return units_items(session, plan, [unit.id], as_of).get(unit.id, [])


def units_items(
    session: Session, plan: Plan, unit_ids: Sequence[int], as_of: date
) -> dict[int, list[tuple[object, ...]]]:
    """:func:`unit_items` of several units, by unit id, in one statement a thousand units."""
    out: dict[int, list[tuple[object, ...]]] = defaultdict(list)
    ids = sorted(set(unit_ids))
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(
                WorkItem.unit_id,
                WorkItem.id,
                Task.code,
                Milestone.code,
                Milestone.title,
                WorkItem.due,
                WorkItem.state,
                WorkItem.percent,
            )
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Task, Task.id == Milestone.task_id)
            .where(
                WorkItem.plan_id == plan.id,
                WorkItem.unit_id.in_(ids[start : start + 1000]),
                WorkItem.state != ItemState.RETIRED.value,
                or_(
                    (WorkItem.state.not_in(done_values())) & (WorkItem.start <= as_of + WINDOW),
                    WorkItem.due.between(as_of - WINDOW, as_of + WINDOW),
                ),
            )
            .order_by(WorkItem.unit_id, WorkItem.due, Milestone.code, WorkItem.id)
        )
        for unit_id, *item in rows:
            out[unit_id].append(tuple(item))
    return out


def write_workbook(
    session: Session, plan: Plan, unit: Unit, as_of: date, out: Path
) -> WorkbookFile:
    """Write one unit's workbook into ``out``."""
    return PlanWorkbooks.read(session, plan, as_of).write(unit, out)


@dataclass
class PlanWorkbooks:
    """The plan's part of its units' workbooks on one day, read once (measures, coordinating
    unit, reporting cycle), and the units' items and latest measure values, read for many units
    at a time by :meth:`prefetch` or else for each unit by :meth:`write`."""

    session: Session
    plan: Plan
    as_of: date
    measures: list[Measure]
    coordinator: str
    cycle: Cycle
    items: dict[int, list[tuple[object, ...]]] = field(default_factory=dict)
    previous: dict[int, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, plan: Plan, as_of: date) -> PlanWorkbooks:
        measures = list(
            session.scalars(
                select(Measure)
                .where(Measure.plan_id == plan.id, Measure.retired_at.is_(None))
                .order_by(Measure.id)
            )
        )
        coordinator = (
            session.scalars(
                select(Unit.name).where(Unit.plan_id == plan.id, Unit.code == plan.coordinator_code)
            ).first()
            or ""
        )
        cycle = reporting_cycle(session, plan.reporting_cycle, plan.reporting_due, as_of)
        return cls(session, plan, as_of, measures, coordinator, cycle)

    def measures_of(self, unit: Unit) -> list[Measure]:
        """The measures ``unit`` reports."""
        return [
            m for m in self.measures if select_units(m.reported_by, [unit], key=lambda u: u.code)
        ]

    def prefetch(self, units: Sequence[Unit]) -> None:
        """Read the items of ``units`` and the latest measure values of those that report
        measures, a few statements for all of them."""
        todo = [u for u in units if u.id not in self.items]
        if not todo:
            return
        found = units_items(self.session, self.plan, [u.id for u in todo], self.as_of)
        self.items.update({u.id: found.get(u.id, []) for u in todo})
        measured = [u.id for u in todo if self.measures_of(u)]
        if measured:
            table = measure_table(self.session, self.plan.id, unit_ids=measured)
            self.previous.update({u: table.get(u, {}) for u in measured})

    def write(
        self, unit: Unit, out: Path, writer: Callable[..., None] = write_unit_workbook
    ) -> WorkbookFile:
        """Write ``unit``'s workbook into ``out`` (through ``writer``, which takes
        :func:`write_unit_workbook`'s arguments)."""
        self.prefetch([unit])
        items = self.items[unit.id]
        measures = self.measures_of(unit)
        previous = self.previous.get(unit.id, {})
        out.mkdir(parents=True, exist_ok=True)
        path = out / fit_name(f"{unit.code}-{unit.name}-{self.as_of.isoformat()}.xlsx")
        writer(
            path,
            plan_id=self.plan.id,
            unit_code=unit.code,
            unit_name=unit.name,
            as_of=self.as_of,
            cycle=self.cycle,
            coordinator=self.coordinator,
            items=items,
            measures=[_row(m, previous.get(m.code)) for m in measures],
        )
        return WorkbookFile(unit.code, unit.name, path, len(items), len(measures))


def _row(m: Measure, previous: float | None) -> MeasureRow:
    """A measure as its sheet shows it: a yes/no measure's latest value as 是 or 否."""
    yes_no = m.type == "boolean"
    shown = ("是" if previous else "否") if yes_no and previous is not None else previous
    return MeasureRow(m.code, m.name, m.unit_of_measure, shown, yes_no)


def units_for_workbooks(session: Session, plan: Plan, code: str | None) -> list[Unit]:
    """One named unit, or every unit that has work items or reports measures."""
    if code is not None:
        return [unit_of(session, plan.id, code)]
    query = select(Unit).where(Unit.plan_id == plan.id, Unit.retired_at.is_(None))
    units = list(session.scalars(query.order_by(Unit.code)))
    with_items = set(
        session.scalars(select(WorkItem.unit_id).where(WorkItem.plan_id == plan.id).distinct())
    )
    selectors = [
        m.reported_by
        for m in session.scalars(
            select(Measure).where(Measure.plan_id == plan.id, Measure.retired_at.is_(None))
        )
    ]
    with_measures = {u.id for s in selectors for u in select_units(s, units, key=lambda u: u.code)}
    return [u for u in units if u.id in with_items | with_measures]
