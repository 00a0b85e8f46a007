"""A digest's lines read from the database, with working days counted on the day it is sent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queries.calendar import ensure_calendar
from domain.rules.digest import DigestItem, timing
from domain.rules.glossary import ITEM_STATES, zh_date
from models.enums import ItemState
from models.orm import CalendarDay, Milestone, Notice, Task, Unit, WorkItem


def digest_items(
    session: Session, notices: list[Notice], units: dict[int, Unit], today: date
) -> list[DigestItem]:
    """The digest's lines, with working days counted on the day it is sent."""
    ids = [n.item_id for n in notices if n.item_id is not None]
    rows = {
        r.id: r
        for r in session.execute(
            select(
                WorkItem.id,
                WorkItem.state,
                WorkItem.percent,
                WorkItem.due,
                Milestone.code,
                Milestone.title,
                Milestone.evidence,
                Task.code.label("task"),
            )
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Task, Task.id == Milestone.task_id)
            .where(WorkItem.id.in_(ids))
        )
    }
    days = {today} | {n.due for n in notices if n.due}
    ensure_calendar(session, *days)
    ordinal = {
        d.day: d.ordinal
        for d in session.scalars(select(CalendarDay).where(CalendarDay.day.in_(days)))
    }
    out = []
    for n in sorted(notices, key=lambda n: (n.due or date.min, n.item_id or 0)):
        r = rows.get(n.item_id or -1)
        overdue = ordinal[today] - ordinal[n.due] if n.due else 0
        out.append(
            DigestItem(
                item_id=n.item_id,
                level_name=n.level_name,
                task=r.task if r else "",
                milestone=r.code if r else "",
                title=r.title if r else "进展报送",
                unit_name=units[n.unit_id].name,
                due_zh=zh_date(n.due) if n.due else "",
                timing=timing(n.kind, overdue, r.percent if r else 0),
                overdue=overdue,
                state_label=ITEM_STATES[ItemState(r.state)] if r else "",
                percent=r.percent if r else 0,
                evidence="、".join(r.evidence or []) if r else "",
            )
        )
    return out
