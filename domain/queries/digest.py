"""A digest's lines read from the database, with working days counted on the day it is sent, and
the reporting deadline it names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queries.calendar import ensure_calendar, reporting_cycle
from domain.queries.outbox import IDS_PER_STATEMENT
from domain.rules.digest import COUNTY, DigestItem, timing
from domain.rules.glossary import ITEM_STATES, zh_date
from models.enums import ItemState, UnitKind
from models.orm import CalendarDay, Milestone, Plan, Task, Unit, WorkItem
from models.records import Notice

MISSING_REPORT = "进展报送"
"""The title and the task of a missing-report notice's line."""


def place_of(unit: Unit, units: dict[int, Unit]) -> str:
    """The township a unit's items are counted under: its own, its parent's, or the county's."""
    if unit.kind == UnitKind.TOWNSHIP.value:
        return unit.name
    parent = units.get(unit.parent_id) if unit.parent_id is not None else None
    if unit.kind != UnitKind.DEPARTMENT.value and parent is not None:
        return parent.name
    return COUNTY


def digest_items(
    session: Session,
    notices: list[Notice],
    units: dict[int, Unit],
    today: date,
    facts: DigestFacts | None = None,
) -> list[DigestItem]:
    """The digest's lines, with working days counted on the day it is sent (``facts``: what is
    already read of the notices' items and days; what it lacks is read here)."""
    if not notices:
        return []
    facts = facts or DigestFacts()
    facts.read(session, notices, today)
    ordinal, rows = facts.ordinals, facts.rows
    out = []
    for n in sorted(notices, key=lambda n: (n.due or date.min, n.item_id or 0)):
        r = rows.get(n.item_id or -1)
        overdue = ordinal[today] - ordinal[n.due] if n.due else 0
        unit = units[n.unit_id]
        due_zh = zh_date(n.due) if n.due else ""
        out.append(
            DigestItem(
                level_name=n.level_name,
                task=r.task if r else MISSING_REPORT,
                title=r.title if r else MISSING_REPORT,
                unit_name=unit.name,
                place=place_of(unit, units),
                due_zh=due_zh,
                timing=timing(n.kind, overdue, r.percent if r else 0, due_zh),
                overdue=overdue,
                state_label=ITEM_STATES[ItemState(r.state)] if r else "",
                percent=r.percent if r else 0,
                evidence="、".join(r.evidence or []) if r else "",
            )
        )
    return out


@dataclass
class DigestFacts:
    """What digests' lines are made of, read for many notices at once and kept: each item's
    state, percent, milestone and task, and each day's working-day ordinal."""

    rows: dict[int, Any] = field(default_factory=dict)
    ordinals: dict[date, int] = field(default_factory=dict)
    asked: set[int] = field(default_factory=set)

    def read(self, session: Session, notices: Iterable[Notice], today: date) -> None:
        """Read what ``notices`` need and is not yet known (one statement for the items, and
        the calendar's for days not seen before)."""
        notices = list(notices)
        ids = sorted({n.item_id for n in notices if n.item_id is not None} - self.asked)
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            self.rows.update(
                (r.id, r)
                for r in session.execute(
                    select(
                        WorkItem.id,
                        WorkItem.state,
                        WorkItem.percent,
                        Milestone.title,
                        Milestone.evidence,
                        Task.title.label("task"),
                    )
                    .join(Milestone, Milestone.id == WorkItem.milestone_id)
                    .join(Task, Task.id == Milestone.task_id)
                    .where(WorkItem.id.in_(ids[start : start + IDS_PER_STATEMENT]))
                )
            )
        self.asked.update(ids)
        days = ({today} | {n.due for n in notices if n.due}) - self.ordinals.keys()
        if days:
            ensure_calendar(session, *days)
            self.ordinals.update(
                (d.day, d.ordinal)
                for d in session.scalars(select(CalendarDay).where(CalendarDay.day.in_(days)))
            )


def reporting_deadline(session: Session, plan: Plan, today: date) -> date:
    """本期报送截止: the first reporting-cycle due day on or after ``today``, a due day on a rest
    day moved to the next working day (顺延, :func:`domain.queries.calendar.reporting_cycle`)."""
    kind, due = plan.reporting_cycle, plan.reporting_due
    current = reporting_cycle(session, kind, due, today)
    previous = reporting_cycle(session, kind, due, current.start - timedelta(days=1))
    following = reporting_cycle(session, kind, due, current.end + timedelta(days=1))
    return next(c.due for c in (previous, current, following) if c.due >= today)
