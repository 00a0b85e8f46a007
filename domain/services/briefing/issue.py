"""Issuing a briefing: numbering, rendering the files, and recording what was issued.

A briefing belongs to an ISO week (the week of its date). The first briefing of a week takes the
next number of the year (第N期); regenerating the week keeps its number, rewrites its files and
records the checksum of its numbers, so a regeneration without new data is seen to reproduce
the same briefing. Files go to ``<briefings>/<plan>/<week>/``: ``brief-<week>.md`` with its chart
PNGs beside it, a self-contained ``.html`` and the ``.docx``. Numbers count within the ISO year of
the week (2021-W52 is in 2021 even when dated 2022-01-01), in the order briefings are first made.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.errors import ConflictError
from domain.adapters.briefing.charts import indicator_attainment, task_progress
from domain.adapters.briefing.documents import render_html, render_markdown
from domain.adapters.briefing.docx_writer import write_docx
from domain.adapters.briefing.fonts import choose_fonts
from domain.adapters.files import write_atomically
from domain.queries.briefing_facts import gather
from domain.queries.calendar import ensure_calendar
from domain.queries.context import build_context
from domain.rules.briefing.build import build_briefing
from domain.rules.briefing.layout import (
    ChartBlock,
    ListBlock,
    Para,
    Subheading,
    TableBlock,
    sections,
)
from domain.rules.briefing.model import Briefing
from domain.rules.context import LightPolicy
from domain.rules.glossary import zh_date
from domain.rules.isoweek import IsoWeek
from models import clock
from models.orm import Briefing as BriefingRecord
from models.orm import CalendarDay, Plan

FORMATS = ("md", "html", "docx")
LATE_AFTER_PLAN = timedelta(days=366)
"""A briefing may be dated up to a year after the plan's period (the final summing up)."""


class BriefingDateError(ValueError):
    """The date asked for is outside what a briefing of this plan can describe."""


def report_day(session: Session, plan: Plan, week: IsoWeek) -> date:
    """The date a week's briefing is dated: its reporting due day (weekly plans; Friday for
    monthly ones), moved back to the last working day of the week if that is a holiday."""
    monday = week.monday
    weekday = plan.reporting_due if plan.reporting_cycle == "weekly" else 5
    day = monday + timedelta(days=min(max(weekday, 1), 7) - 1)
    ensure_calendar(session, monday, week.sunday)
    workdays = session.scalars(
        select(CalendarDay.day).where(
            CalendarDay.day.between(monday, day), CalendarDay.is_workday.is_(True)
        )
    ).all()
    return max(workdays) if workdays else day


def check_date(plan: Plan, as_of: date) -> None:
    """BriefingDateError if ``as_of`` is before the plan or more than a year after it."""
    if as_of < plan.period_start:
        raise BriefingDateError(f"{zh_date(as_of)}早于规划起始日（{zh_date(plan.period_start)}）")
    if as_of > plan.period_end + LATE_AFTER_PLAN:
        raise BriefingDateError(
            f"{zh_date(as_of)}已在规划结束（{zh_date(plan.period_end)}）一年之后"
        )


def parse_formats(text: str) -> list[str]:
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise ValueError(f"未知的格式 {'、'.join(unknown) or '（无）'}；可选 {'、'.join(FORMATS)}")
    return chosen


@dataclass(frozen=True)
class Issued:
    """What ``issue_briefing`` did."""

    view: Briefing
    record_id: int
    number: int
    checksum: str
    files: dict[str, Path]
    new: bool  # first briefing of its week
    reproduced: bool  # same numbers as the previous generation of the week
    font_notes: list[str]


def _record_for(
    session: Session, plan: Plan, week: IsoWeek, as_of: date, actor: str
) -> tuple[BriefingRecord, bool]:
    """The week's record, created with the next number of its ISO year if new (flushed at
    once, so a concurrent generation of another week fails here, before any file is written)."""
    record = session.scalars(
        select(BriefingRecord)
        .where(BriefingRecord.plan_id == plan.id, BriefingRecord.week == str(week))
        .with_for_update()
    ).one_or_none()
    if record is not None:
        return record, False
    year = week.year
    last = session.scalar(
        select(func.max(BriefingRecord.number)).where(
            BriefingRecord.plan_id == plan.id, BriefingRecord.year == year
        )
    )
    now = clock.now()
    record = BriefingRecord(
        plan_id=plan.id,
        week=str(week),
        year=year,
        number=(last or 0) + 1,
        as_of=as_of,
        checksum="",
        files={},
        generations=0,
        first_generated_at=now,
        generated_at=now,
        actor=actor,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # the caller's transaction rolls back
        raise ConflictError(f"规划 {plan.id} 的另一期简报正在编号；请稍后再试") from None
    return record, True


def previous_date(session: Session, plan: Plan, week: IsoWeek, as_of: date) -> date:
    """What "since last week" means: the date of the previous briefing if it is at most two
    weeks old (briefings are not always exactly seven days apart: a Friday holiday moves one),
    else a week before ``as_of``."""
    last = session.scalar(
        select(func.max(BriefingRecord.as_of)).where(
            BriefingRecord.plan_id == plan.id,
            BriefingRecord.week != str(week),
            BriefingRecord.as_of < as_of,
        )
    )
    if last is not None and as_of - last <= timedelta(days=14):
        return last
    return as_of - timedelta(days=7)


def _all_text(view: Briefing) -> str:
    """Every character the document will show (for font coverage)."""
    parts = [view.masthead.title, view.masthead.issuer, view.masthead.period_zh]
    for section in sections(view):
        parts.append(section.heading)
        for block in section.blocks:
            if isinstance(block, Para | Subheading):
                parts += [getattr(block, "lead", ""), block.text]
            elif isinstance(block, TableBlock):
                parts += [*block.headers, *(c for row in block.rows for c in row), block.note]
            elif isinstance(block, ListBlock):
                parts += [t for entry in block.entries for t in entry]
            elif isinstance(block, ChartBlock):
                parts.append(block.caption)
    return "".join(parts)


def issue_briefing(
    session: Session,
    plan: Plan,
    as_of: date,
    *,
    formats: list[str],
    out: Path,
    policy: LightPolicy,
    fonts: str,
    actor: str,
) -> Issued:
    """Build, render and record the briefing dated ``as_of`` (BriefingDateError if the date
    is outside the plan; OSError if the files cannot be written: the caller's transaction then
    rolls back and nothing is recorded)."""
    check_date(plan, as_of)
    week = IsoWeek.of(as_of)
    record, new = _record_for(session, plan, week, as_of, actor)
    facts = gather(
        session,
        plan,
        build_context(session, plan, as_of, policy),
        number=record.number,
        year=record.year,
        since=previous_date(session, plan, week, as_of),
    )
    view = build_briefing(facts)
    checksum = hashlib.sha256(view.numbers().encode("utf-8")).hexdigest()
    folder = out / plan.id / str(week)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"brief-{week}"
    charts: dict[str, Path] = {"tasks": task_progress(view, folder / f"{stem}-tasks.png").path}
    indicator_chart = indicator_attainment(view, folder / f"{stem}-indicators.png")
    if indicator_chart is not None:
        charts["indicators"] = indicator_chart.path
    files: dict[str, Path] = {}
    if "md" in formats:
        files["md"] = folder / f"{stem}.md"
        relative = {name: os.path.relpath(path, folder) for name, path in charts.items()}
        write_atomically(files["md"], render_markdown(view, relative).encode("utf-8"))
    if "html" in formats:
        files["html"] = folder / f"{stem}.html"
        write_atomically(files["html"], render_html(view, charts).encode("utf-8"))
    choice = choose_fonts(fonts, _all_text(view))
    if "docx" in formats:
        files["docx"] = folder / f"{stem}.docx"
        tmp = folder / f"{stem}.docx.tmp"
        write_docx(view, charts, choice.faces, tmp)
        tmp.replace(files["docx"])
    reproduced = not new and record.checksum == checksum
    record.as_of, record.checksum, record.actor = as_of, checksum, actor
    record.generated_at = clock.now()
    record.files = {k: str(v) for k, v in files.items()} | {
        f"chart:{k}": str(v) for k, v in charts.items()
    }
    record.generations += 1
    session.flush()
    return Issued(
        view=view,
        record_id=record.id,
        number=record.number,
        checksum=checksum,
        files=files,
        new=new,
        reproduced=reproduced,
        font_notes=choice.notes,
    )
