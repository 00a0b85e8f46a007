"""Issuing a briefing: numbering, rendering the files, and recording what was issued.

A briefing belongs to an ISO week (the week of its date). The first briefing of a week takes the
next number of the year (第N期); regenerating the week keeps its number, rewrites its files and
records the checksum of its numbers, so a regeneration without new data is seen to reproduce
the same briefing. Files go to ``<briefings>/<plan>/<week>/``: ``brief-<week>.md`` with its chart
PNGs beside it, a self-contained ``.html`` and the ``.docx``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.briefing.build import build_briefing
from domain.briefing.charts import indicator_attainment, task_progress
from domain.briefing.documents import render_html, render_markdown
from domain.briefing.docx_writer import write_docx
from domain.briefing.fonts import choose_fonts
from domain.briefing.gather import gather
from domain.briefing.layout import sections
from domain.briefing.model import Briefing
from models import clock
from models.orm import Briefing as BriefingRecord
from models.orm import Plan

FORMATS = ("md", "html", "docx")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def week_key(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def as_of_for_week(text: str, reporting_due: int) -> date:
    """``2021-W52`` → the week's reporting due day (Friday by default); ValueError if not a week."""
    match = _WEEK.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a week like 2021-W52")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {week}") from None
    return monday + timedelta(days=min(max(reporting_due, 1), 7) - 1)


def parse_formats(text: str) -> list[str]:
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise ValueError(
            f"unknown format {', '.join(unknown) or '(none)'}; use some of {','.join(FORMATS)}"
        )
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


def _number_for(
    session: Session, plan: Plan, week: str, year: int
) -> tuple[BriefingRecord | None, int]:
    record = session.scalars(
        select(BriefingRecord).where(BriefingRecord.plan_id == plan.id, BriefingRecord.week == week)
    ).one_or_none()
    if record is not None:
        return record, record.number
    last = session.scalar(
        select(func.max(BriefingRecord.number)).where(
            BriefingRecord.plan_id == plan.id, BriefingRecord.year == year
        )
    )
    return None, (last or 0) + 1


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _all_text(view: Briefing) -> str:
    """Every character the document will show (for font coverage)."""
    parts = [view.masthead.title, view.masthead.issuer, view.masthead.period_zh]
    for section in sections(view):
        parts.append(section.heading)
        parts.append(repr(section.blocks))
    return "".join(parts)


def issue_briefing(
    session: Session,
    plan: Plan,
    as_of: date,
    *,
    formats: list[str],
    out: Path,
    yellow_workdays: int,
    pace_margin: int | None,
    fonts: str,
    actor: str,
) -> Issued:
    """Build, render and record the briefing dated ``as_of``."""
    week = week_key(as_of)
    record, number = _number_for(session, plan, week, as_of.year)
    facts = gather(
        session,
        plan,
        as_of,
        number=number,
        yellow_workdays=yellow_workdays,
        pace_margin=pace_margin,
    )
    view = build_briefing(facts)
    checksum = hashlib.sha256(view.numbers().encode("utf-8")).hexdigest()
    folder = out / plan.id / week
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"brief-{week}"
    charts: dict[str, Path] = {}
    if {"md", "html", "docx"} & set(formats):
        charts["tasks"] = task_progress(view, folder / f"{stem}-tasks.png").path
        indicator_chart = indicator_attainment(view, folder / f"{stem}-indicators.png")
        if indicator_chart is not None:
            charts["indicators"] = indicator_chart.path
    files: dict[str, Path] = {}
    if "md" in formats:
        files["md"] = folder / f"{stem}.md"
        relative = {name: os.path.relpath(path, folder) for name, path in charts.items()}
        _write_text(files["md"], render_markdown(view, relative))
    if "html" in formats:
        files["html"] = folder / f"{stem}.html"
        _write_text(files["html"], render_html(view, charts))
    choice = choose_fonts(fonts, _all_text(view))
    if "docx" in formats:
        files["docx"] = folder / f"{stem}.docx"
        tmp = folder / f"{stem}.docx.tmp"
        write_docx(view, charts, choice.faces, tmp)
        tmp.replace(files["docx"])
    now = clock.now()
    reproduced = record is not None and record.checksum == checksum
    paths = {
        k: str(v) for k, v in {**files, **{f"chart:{k}": v for k, v in charts.items()}}.items()
    }
    if record is None:
        record = BriefingRecord(
            plan_id=plan.id,
            week=week,
            year=as_of.year,
            number=number,
            as_of=as_of,
            checksum=checksum,
            files=paths,
            generations=1,
            first_generated_at=now,
            generated_at=now,
            actor=actor,
        )
        session.add(record)
        new = True
    else:
        record.as_of, record.checksum, record.generated_at, record.actor = (
            as_of,
            checksum,
            now,
            actor,
        )
        record.files = {**record.files, **paths}
        record.generations += 1
        new = False
    session.flush()
    return Issued(
        view=view,
        record_id=record.id,
        number=number,
        checksum=checksum,
        files=files,
        new=new,
        reproduced=reproduced,
        font_notes=choice.notes,
    )
