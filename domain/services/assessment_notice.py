"""Issuing the 考评通报 of a quarter or a year, and sending it to leadership once approved.

A notice is issued after its period has ended: the scores as of the period's last day, with the
objections decided by the day it is issued. The first notice of a period takes the next number
of the year it is issued in (考评〔2022〕1号); issuing it again keeps the number, rewrites its
files and records the checksum of its figures (a changed notice needs approving again). Files go
to ``<briefings>/<plan>/assessment-<period>/``. Approval and sending follow the briefings'
(:mod:`domain.services.briefing.approval`): through the outbox, once per approved version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.assessment import AssessmentRules
from domain.adapters.assessment_document import all_text, render_html, render_markdown, write_docx
from domain.adapters.briefing.fonts import choose_fonts
from domain.adapters.channels import Channel
from domain.adapters.files import write_atomically
from domain.queries.assessment_notice import notice_record, period_assessment, workday_after
from domain.queries.context import build_context
from domain.queries.plans import plan_of
from domain.rules.assessment_periods import AssessedPeriod
from domain.rules.assessment_report import Notice, NoticeFacts, build_notice, notice_masthead
from domain.rules.context import LightPolicy
from domain.rules.glossary import zh_date
from domain.services.briefing.distribute import Distribution, send_to_leadership
from models import clock
from models.db import session_scope
from models.orm import Plan, Unit
from models.records import AssessmentNotice, Message

FORMATS = ("md", "html", "docx")


class NoticeDateError(ValueError):
    """A notice asked for before its period has ended."""


@dataclass(frozen=True)
class IssuedNotice:
    """What :func:`issue_notice` did."""

    notice: Notice
    record_id: int
    number: int
    year: int
    label: str  # 2021年第四季度
    checksum: str
    files: dict[str, Path]
    new: bool
    reproduced: bool  # the same figures as the period's previous generation
    font_notes: list[str]


def _issuer(session: Session, plan: Plan) -> str:
    name = session.scalar(
        select(Unit.name).where(Unit.plan_id == plan.id, Unit.code == plan.coordinator_code)
    )
    return name or plan.issuing_body


def issue_notice(
    session: Session,
    plan: Plan,
    period: AssessedPeriod,
    day: date,
    *,
    rules: AssessmentRules,
    formats: list[str],
    out: Path,
    policy: LightPolicy,
    fonts: str,
    actor: str,
) -> IssuedNotice:
    """Build, write and record the notice of ``period`` issued on ``day`` (NoticeDateError if
    the period has not ended by then; OSError if a file cannot be written: the caller's
    transaction then rolls back)."""
    if day <= period.end:
        raise NoticeDateError(
            f"{period.label}到{zh_date(period.end)}才结束，考评通报须在期末之后出具"
        )
    record, new = notice_record(session, plan.id, period, day, actor)
    ctx = build_context(session, plan, day, policy)
    assessed = period_assessment(session, ctx, rules, period, day)
    facts = NoticeFacts(
        plan_title=plan.title,
        masthead=notice_masthead(plan.title, plan.briefing_title),
        issuer=_issuer(session, plan),
        period=period,
        issued_on=day,
        year=record.year,
        number=record.number,
        rules=rules,
        scores=assessed.scores,
        before=assessed.before,
        decided=assessed.decided,
        pending=assessed.pending,
        objection_deadline=workday_after(session, period.end, rules.objections.within_workdays),
        distribution=plan.briefing_distribution,
    )
    notice = build_notice(facts)
    checksum = hashlib.sha256(notice.numbers.encode("utf-8")).hexdigest()
    folder = out / plan.id / f"assessment-{period.key}"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"kaoping-{period.key}"
    files: dict[str, Path] = {}
    if "md" in formats:
        files["md"] = folder / f"{stem}.md"
        write_atomically(files["md"], render_markdown(notice).encode("utf-8"))
    if "html" in formats:
        files["html"] = folder / f"{stem}.html"
        write_atomically(files["html"], render_html(notice).encode("utf-8"))
    choice = choose_fonts(fonts, all_text(notice))
    if "docx" in formats:
        files["docx"] = folder / f"{stem}.docx"
        tmp = folder / f"{stem}.docx.tmp"
        write_docx(notice, choice.faces, tmp, day)
        tmp.replace(files["docx"])
    reproduced = not new and record.checksum == checksum
    record.issued_on, record.checksum, record.actor = day, checksum, actor
    record.generated_at = clock.now()
    record.files = {k: str(v) for k, v in files.items()}
    record.generations += 1
    session.flush()
    return IssuedNotice(
        notice=notice,
        record_id=record.id,
        number=record.number,
        year=record.year,
        label=period.label,
        checksum=checksum,
        files=files,
        new=new,
        reproduced=reproduced,
        font_notes=choice.notes,
    )


def approve_notice(engine: Engine, notice_id: int, actor: str) -> None:
    """Record that ``actor`` approved the notice's current version now."""
    with session_scope(engine) as session:
        record = session.get(AssessmentNotice, notice_id)
        assert record is not None  # the flow has just written it
        record.approved_checksum = record.checksum
        record.approved_at, record.approved_by = clock.now(), actor


def distribute_notice(
    engine: Engine, notice_id: int, *, channel: Channel | None = None
) -> Distribution:
    """Send the notice's current version (HTML body, Markdown text, DOCX attached) to the
    leadership's contacts, once: a retry after a partial failure reaches only the recipients
    this version has not reached."""
    with session_scope(engine) as session:
        record = session.get(AssessmentNotice, notice_id)
        assert record is not None
        plan = plan_of(session, record.plan_id)
        session.expunge(plan)
        files, checksum = dict(record.files), record.checksum
        subject = f"【考评通报】{notice_masthead(plan.title, plan.briefing_title)}"
        subject += f"（考评〔{record.year}〕{record.number}号）"
        result = Distribution(subject=subject)
        if record.sent_checksum == checksum:
            result.already = True
            return result
        served = set(
            session.scalars(
                select(Message.recipient).where(
                    Message.plan_id == plan.id,
                    Message.briefing_checksum == checksum,
                    Message.status.in_(("sent", "sending")),
                )
            )
        )
    report = send_to_leadership(
        engine,
        plan,
        (AssessmentNotice, notice_id, "考评通报"),
        subject=subject,
        files=files,
        served=served,
        checksum=checksum,
        channel=channel,
    )
    result.sent, result.failed = report.sent, report.failed
    return result
