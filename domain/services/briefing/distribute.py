"""Sending a briefing to leadership through the outbox: HTML body, Markdown text, DOCX attached.

Each recipient is a contact of the plan's leadership unit (every role); a leadership without
contacts gets one message addressed to its head, which the file channel keeps. Messages go
through the same outbox, channels and lease as the reminders (:mod:`domain.services.delivery`). A
briefing is sent once per version: sending again needs ``again`` unless it was regenerated with
different numbers since (a correction); after a partial failure, sending again reaches only the
recipients this version has not reached yet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from config.settings import get_settings
from domain.adapters import leases
from domain.adapters.channels import Channel
from domain.adapters.leases import holder_tag
from domain.queries.plans import plan_of
from domain.rules.briefing.build import masthead_title
from domain.rules.periods import Period
from domain.services.delivery import DeliveryReport, Sent, send_and_confirm
from domain.services.messages import Recipient, new_message, unit_recipients, write_message
from models import clock
from models.db import session_scope
from models.enums import Edition
from models.orm import Plan, Unit
from models.records import AssessmentNotice, Briefing, Message


@dataclass
class Distribution:
    """What sending one briefing did."""

    subject: str
    sent: list[Sent] = field(default_factory=list)
    failed: list[Sent] = field(default_factory=list)
    already: bool = False  # this version went out before; nothing sent


def leadership_recipients(session: Session, plan: Plan) -> list[Recipient]:
    """The leadership's contacts; with mail as the channel each needs an address or URL."""
    unit = session.scalars(
        select(Unit).where(Unit.plan_id == plan.id, Unit.code == plan.leadership_code)
    ).one()
    targets = unit_recipients(session, unit)
    if get_settings().channel == "smtp":
        unreachable = [t.key for t in targets if not (t.email or t.urls)]
        if unreachable or not targets:
            lacking = (
                f"{'、'.join(unreachable)} 没有电子邮件地址或通知地址" if targets else "没有联系人"
            )
            raise NotFoundError(
                f"目录中领导单位 {unit.code}（{unit.name}）{lacking}；"
                "请在它的 `contacts` 下补上，或使用 DUBAN_CHANNEL=file"
            )
    return targets or [Recipient(f"{unit.code}/head", None, [])]


def distribute_briefing(
    engine: Engine, briefing_id: int, *, again: bool = False, channel: Channel | None = None
) -> Distribution:
    """Send the recorded briefing (its HTML, text and DOCX files) to leadership."""
    with session_scope(engine) as session:
        record = session.get(Briefing, briefing_id)
        assert record is not None
        plan = plan_of(session, record.plan_id)
        session.expunge(plan)
        files = dict(record.files)
        period = Period.from_key(record.period)
        masthead = masthead_title(plan.title, plan.briefing_title, period.edition)
        issue = f"{record.year}年第{record.number}期"
        if period.edition is not Edition.WEEK:  # 2021年12月，第1期: the label names the year
            issue = f"{period.label}，第{record.number}期"
        subject = f"【简报】{masthead}（{issue}）"
        result = Distribution(subject=subject)
        if record.sent_checksum == record.checksum and not again:
            result.already = True
            return result
        checksum = record.checksum
        # recipients this version already reached (a retry after a partial failure)
        served = set(
            session.scalars(
                select(Message.recipient).where(
                    Message.briefing_id == briefing_id,
                    Message.briefing_checksum == record.checksum,
                    Message.status.in_(("sent", "sending")),
                )
            )
        )
        if again:
            served = set()
    report = send_to_leadership(
        engine,
        plan,
        (Briefing, briefing_id, "简报"),
        subject=subject,
        files=files,
        served=served,
        checksum=checksum,
        channel=channel,
    )
    result.sent, result.failed = report.sent, report.failed
    return result


IssuedAs = tuple[type[Briefing] | type[AssessmentNotice], int, str]
"""The record a document was issued as (its model, its id) and what the document is called."""


def send_to_leadership(
    engine: Engine,
    plan: Plan,
    issued: IssuedAs,
    *,
    subject: str,
    files: dict[str, str],
    served: set[str],
    checksum: str,
    channel: Channel | None,
) -> DeliveryReport:
    """One message to each leadership recipient not in ``served`` (the Markdown as text, the
    HTML, the Word file attached), written and sent under one lease; when none failed, the
    record notes the checksum sent and when. NotFoundError when one of the files is missing."""
    model, record_id, what = issued
    missing = [f for f in ("md", "html", "docx") if f not in files or not Path(files[f]).exists()]
    if missing:
        raise NotFoundError(
            f"{what}的 {'、'.join(missing)} 文件缺失；请用全部格式重新生成（--format md,html,docx）"
        )
    body = Path(files["md"]).read_text(encoding="utf-8")
    html = Path(files["html"]).read_text(encoding="utf-8")
    token = str(uuid.uuid4())
    with leases.running(holder_tag(token)):  # what it holds is taken over once it ends
        now = clock.now()
        with session_scope(engine) as session:
            plan = session.merge(plan)
            ids = [
                write_message(
                    session,
                    new_message(
                        plan,
                        to,
                        subject=subject,
                        body=body,
                        token=token,
                        html=html,
                        attachments=[files["docx"]],
                        briefing_id=record_id if model is Briefing else None,
                        briefing_checksum=checksum,
                    ),
                )
                for to in leadership_recipients(session, plan)
                if to.key not in served
            ]
        report = DeliveryReport()
        for message_id in ids:
            send_and_confirm(engine, message_id, channel, report, token)
    if not report.failed:
        with session_scope(engine) as session:
            record = session.get(model, record_id)
            assert isinstance(record, Briefing | AssessmentNotice)
            record.sent_checksum, record.sent_at = checksum, now
    return report
