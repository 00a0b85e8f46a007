"""Issuing a briefing: numbering, rendering the files, and recording what was issued.

A briefing belongs to a period of its edition (:mod:`domain.rules.periods`): the ISO week of its
date for the weekly 工作简报, a month (月通报) or a quarter (季度推进), dated the period's last
day. The first briefing of a period takes the next number of its edition's year (第N期);
regenerating the period keeps its number, rewrites its files and records the checksum of its
numbers, so a regeneration without new data is seen to reproduce the same briefing. Files go to
``<briefings>/<plan>/<period>/``: ``brief-<period>.md`` with its chart PNGs beside it, a
self-contained ``.html`` and the ``.docx``. Numbers count within the period's year (2021-W52 is
in 2021 even when dated 2022-01-01), in the order briefings are first made.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.errors import ConflictError
from domain.adapters.briefing.charts import task_progress
from domain.adapters.briefing.documents import render_html, render_markdown
from domain.adapters.briefing.docx_writer import write_docx
from domain.adapters.briefing.fonts import choose_fonts
from domain.adapters.files import write_atomically
from domain.queries.briefing_facts import gather
from domain.queries.calendar import ensure_calendar
from domain.queries.context import build_context
from domain.rules.briefing.build import build_briefing
from domain.rules.briefing.model import Briefing
from domain.rules.briefing.printed import Printed, document, printed_text
from domain.rules.context import LightPolicy
from domain.rules.glossary import zh_date
from domain.rules.isoweek import IsoWeek
from domain.rules.periods import Period, ended_before, issue_day
from domain.rules.workdays import LONGEST_REST
from models import clock
from models.enums import Edition
from models.orm import CalendarDay, Plan
from models.records import Briefing as BriefingRecord

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


def briefing_date(session: Session, plan: Plan, period: Period) -> date:
    """The date a period's briefing describes: a week's report day (:func:`report_day`), the
    last day of a month or a quarter."""
    if period.edition is Edition.WEEK:
        return report_day(session, plan, IsoWeek(period.year, period.index))
    return period.last


def _workdays(session: Session, first: date, last: date) -> Callable[[date], bool]:
    """Whether a day is a working day, for days ``first`` to ``last`` plus the longest rest
    that may follow them (KeyError beyond)."""
    end = last + timedelta(days=LONGEST_REST + 1)
    ensure_calendar(session, first, end)
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.is_workday).where(CalendarDay.day.between(first, end))
    )
    return {day: bool(workday) for day, workday in rows}.__getitem__


def scheduled_day(session: Session, period: Period) -> date:
    """The first working day after ``period`` on the calendar: when a monthly or quarterly
    briefing is issued (:func:`domain.rules.periods.issue_day`)."""
    after = period.last + timedelta(days=1)
    return issue_day(period, _workdays(session, after, after))


def period_due(session: Session, edition: Edition, day: date) -> Period | None:
    """The month or quarter whose briefing ``day`` issues (the first working day after it), or
    None (:func:`domain.rules.periods.ended_before`)."""
    start = Period.of(edition, day).first
    return ended_before(edition, day, _workdays(session, start, day))


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
    new: bool  # first briefing of its period
    reproduced: bool  # same numbers as the previous generation of the period
    font_notes: list[str]
    printed: Printed  # the document as printed (with the catalogue's 版记)


def _record_for(
    session: Session, plan: Plan, period: Period, as_of: date, actor: str
) -> tuple[BriefingRecord, bool]:
    """The period's record, created with the next number of its edition's year if new (flushed
    at once, so a concurrent generation of another period fails here, before any file is
    written)."""
    record = session.scalars(
        select(BriefingRecord)
        .where(
            BriefingRecord.plan_id == plan.id,
            BriefingRecord.edition == period.edition.value,
            BriefingRecord.period == str(period),
        )
        .with_for_update()
    ).one_or_none()
    if record is not None:
        return record, False
    year = period.year
    last = session.scalar(
        select(func.max(BriefingRecord.number)).where(
            BriefingRecord.plan_id == plan.id,
            BriefingRecord.edition == period.edition.value,
            BriefingRecord.year == year,
        )
    )
    now = clock.now()
    record = BriefingRecord(
        plan_id=plan.id,
        edition=period.edition.value,
        period=str(period),
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


def previous_date(session: Session, plan: Plan, period: Period, as_of: date) -> date:
    """What "since the last one" means. A month or quarter compares with the end of the one
    before (the previous edition's date). A week compares with the date of the previous weekly
    briefing if it is at most two weeks old (briefings are not always exactly seven days apart:
    a Friday holiday moves one), else a week before ``as_of``."""
    if period.edition is not Edition.WEEK:
        return period.previous().last
    last = session.scalar(
        select(func.max(BriefingRecord.as_of)).where(
            BriefingRecord.plan_id == plan.id,
            BriefingRecord.edition == Edition.WEEK.value,
            BriefingRecord.period != str(period),
            BriefingRecord.as_of < as_of,
        )
    )
    if last is not None and as_of - last <= timedelta(days=14):
        return last
    return as_of - timedelta(days=7)


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
    period: Period | None = None,
) -> Issued:
    """Build, render and record the briefing of ``period`` (default: the ISO week of
    ``as_of``) dated ``as_of`` (BriefingDateError if the date is outside the plan or the
    period; OSError if the files cannot be written: the caller's transaction then rolls back and
    nothing is recorded)."""
    check_date(plan, as_of)
    period = period or Period.of(Edition.WEEK, as_of)
    if not period.first <= as_of <= period.last:
        raise BriefingDateError(f"{zh_date(as_of)}不在{period.label}之内")
    record, new = _record_for(session, plan, period, as_of, actor)
    facts = gather(
        session,
        plan,
        build_context(session, plan, as_of, policy),
        number=record.number,
        year=record.year,
        since=previous_date(session, plan, period, as_of),
        period=period,
    )
    if period.edition is not Edition.WEEK:
        facts = replace(facts, printed_on=scheduled_day(session, period))
    view = build_briefing(facts)
    checksum = hashlib.sha256(view.numbers().encode("utf-8")).hexdigest()
    folder = out / plan.id / str(period)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"brief-{period}"
    charts: dict[str, Path] = {"tasks": task_progress(view, folder / f"{stem}-tasks.png").path}
    files: dict[str, Path] = {}
    printed = document(view, plan.briefing_distribution)
    m = view.masthead
    if "md" in formats:
        files["md"] = folder / f"{stem}.md"
        relative = {name: os.path.relpath(path, folder) for name, path in charts.items()}
        markdown = render_markdown(view, relative, printed)
        write_atomically(files["md"], markdown.encode("utf-8"))
    if "html" in formats:
        files["html"] = folder / f"{stem}.html"
        html = render_html(view, charts, printed)
        write_atomically(files["html"], html.encode("utf-8"))
    choice = choose_fonts(fonts, printed_text(printed, m.title, m.issuer, m.period_zh))
    if "docx" in formats:
        files["docx"] = folder / f"{stem}.docx"
        tmp = folder / f"{stem}.docx.tmp"
        write_docx(view, charts, choice.faces, tmp, printed)
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
        printed=printed,
    )
