"""Report mails read over IMAP go through the inbox's own intake, and each is answered once.

Mails are taken oldest first, at most ``limit`` a run. A mail answered before (its marker is in
the outbox, :func:`domain.services.mail_receipt.marker`) or kept before is only filed away again.
A mail that is too large, automatic (a bounce, an auto-reply, our own), without a report file,
or that breaks the reading is kept: its raw copy and reasons go under
``<home>/mail/kept/<date>/`` and it is moved, flagged, to the kept folder. Otherwise its report
attachments go through :func:`domain.services.intake.inbox.take` (same checks, all-or-nothing
landing, archive, checksums) and the mail is moved to the done folder. Answers that could not
be sent before are sent again first. The sender is answered
through the outbox (receipt or reasons) when a report file was handled, or when the address is a
contact's; automatic mails and strangers' mails without a report file never are. A lost mail
server or database stops the run; the mails not yet handled stay where they are.
"""

from __future__ import annotations

import logging
import secrets
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from imap_tools import BaseMailBox
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from config.settings import Settings, get_settings, hide_passwords
from domain.adapters import leases
from domain.adapters.channels import Channel
from domain.adapters.files import write_atomically
from domain.adapters.leases import holder_tag
from domain.adapters.mailbox import (
    Heading,
    MailboxError,
    close,
    connect,
    file_away,
    headings,
    intake_lock,
    read_mail,
)
from domain.queries.mail import (
    Sender,
    answered,
    coordinator_name,
    landed_items,
    reply_recipient,
    retake_failed_answers,
    sender_of,
)
from domain.queries.plans import plan_of
from domain.rules.reporting import cycle_of
from domain.services.delivery import DeliveryReport, send_and_confirm
from domain.services.intake.inbox import FileOutcome, take
from domain.services.mail_receipt import REPORT_SUFFIXES, Answer, compose, marker
from domain.services.messages import LEASE, Recipient, new_message, write_message
from models import clock
from models.db import session_scope

OFFERED = (*REPORT_SUFFIXES, ".xls", ".et", ".ods")  # the intake says how to save these
log = logging.getLogger("duban.mail")


@dataclass
class MailOutcome:
    """What happened to one mail: ``answered`` (its files handled), ``kept`` or ``repeated``
    (handled by an earlier run, only filed away again)."""

    heading: Heading
    status: str
    sender: Sender | None = None
    files: list[FileOutcome] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    kept_at: Path | None = None
    reply_id: int | None = None


@dataclass
class MailReport:
    """What one run did, mail by mail, and how its answers went out."""

    mails: list[MailOutcome] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


@dataclass(frozen=True)
class _Run:
    engine: Engine
    plan_id: str
    settings: Settings
    mailbox: BaseMailBox
    token: str
    channel: Channel | None
    report: MailReport
    day: date
    cycle: tuple[str, int]
    coordinator: str


def mail_intake(
    engine: Engine, plan_id: str, *, channel: Channel | None = None, limit: int = 200
) -> MailReport:
    """Read the report folder of ``DUBAN_IMAP_*`` once (see the module docstring)."""
    settings = get_settings()
    token = str(uuid.uuid4())
    with session_scope(engine) as session:
        plan = plan_of(session, plan_id)
        day = clock.local_date(clock.now(), plan.timezone)
        cycle = (plan.reporting_cycle, plan.reporting_due)
        coordinator = coordinator_name(session, plan)
    report = MailReport()
    with intake_lock(settings.home), leases.running(holder_tag(token)):
        mailbox = connect(settings)
        try:
            run = _Run(
                engine, plan_id, settings, mailbox, token, channel, report, day, cycle, coordinator
            )
            _send_failed_answers_again(run)
            for heading in headings(mailbox, limit):
                report.mails.append(_guarded(run, heading))
        finally:
            close(mailbox)
    return report


def _send_failed_answers_again(run: _Run) -> None:
    """Answers an earlier run could not send (the mail server was down) go out first."""
    with session_scope(run.engine) as session:
        until = leases.wall_now() + LEASE
        ids = retake_failed_answers(session, run.plan_id, holder_tag(run.token), until)
    for message_id in ids:
        send_and_confirm(run.engine, message_id, run.channel, run.report.delivery, run.token)


def _guarded(run: _Run, heading: Heading) -> MailOutcome:
    """One mail; a fault of ours keeps it with an incident number, and the run goes on."""
    try:
        return _one(run, heading)
    except (*MailboxError, OperationalError, InterfaceError):
        raise
    except Exception:  # anything else stops only this mail
        incident = secrets.token_hex(4)
        trace = hide_passwords(traceback.format_exc())
        log.error("收信：处理 %s 的邮件时出错（事件 %s）\n%s", heading.sender, incident, trace)
        where = run.settings.home / "incidents" / f"{incident}.txt"
        where.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(where, f"mail: {heading.message_id}\n\n{trace}".encode())
        reason = f"系统处理此邮件时出错（事件编号 {incident}），详情在 incidents/{incident}.txt"
        outcome = MailOutcome(heading, "kept", kept=[reason])
        outcome.kept_at = _keep(run, heading, b"", outcome.kept)
        file_away(run.mailbox, heading.uid, run.settings.imap_kept_folder, flagged=True)
        return outcome


def _one(run: _Run, heading: Heading) -> MailOutcome:
    settings = run.settings
    with session_scope(run.engine) as session:
        sender = sender_of(session, run.plan_id, heading.sender) if heading.sender else None
        done = bool(heading.reply_to) and answered(
            session, run.plan_id, heading.reply_to, marker(heading.key)
        )
    if done or _kept_before(run, heading):
        folder = settings.imap_done_folder if done else settings.imap_kept_folder
        file_away(run.mailbox, heading.uid, folder, flagged=not done)
        return MailOutcome(heading, "repeated", sender)
    outcome = MailOutcome(heading, "answered", sender)
    mail = None
    if heading.size > settings.mail_max_mb * 2**20:
        outcome.kept.append(f"邮件超过 {settings.mail_max_mb} MB，未下载；请只附本单位的报送文件")
    else:
        mail = read_mail(run.mailbox, heading)
        if mail is None:  # moved or deleted by someone else meanwhile
            return MailOutcome(heading, "repeated", sender)
        outcome.kept += _refusals(run, heading)
    if mail is not None and not outcome.kept:
        offered = [a for a in mail.attachments if Path(a.name).suffix.lower() in OFFERED]
        outcome.ignored = [a.name for a in mail.attachments if a not in offered]
        if offered:
            outcome.files = take(
                run.engine,
                run.plan_id,
                settings.resolved_inbox,
                [(a.name, a.data) for a in offered],
                home=settings.home,
            )
        else:
            outcome.kept.append("来信没有报送文件：请把填好的台账（.xlsx）或 CSV/JSON 模板作为附件")
    if outcome.kept:
        outcome.status = "kept"
        outcome.kept_at = _keep(run, heading, mail.raw if mail else b"", outcome.kept)
    if heading.reply_to and not heading.automatic and (outcome.files or sender is not None):
        outcome.reply_id = _answer(run, outcome)
    folder = settings.imap_kept_folder if outcome.kept else settings.imap_done_folder
    file_away(run.mailbox, heading.uid, folder, flagged=bool(outcome.kept))
    return outcome


def _refusals(run: _Run, heading: Heading) -> list[str]:
    """Why a whole mail is not taken (empty: it is)."""
    if heading.sender and heading.sender == run.settings.smtp_sender.lower():
        return ["这是督办系统自己发出的邮件，不处理"]
    if heading.automatic:
        return ["这是退信、自动回复或群发邮件，不处理"]
    return []


def _answer(run: _Run, outcome: MailOutcome) -> int:
    """Write the answer to the outbox and send it now (like an alert); its message id."""
    heading = outcome.heading
    answer = Answer(
        heading.key,
        heading.reply_to,
        heading.subject,
        outcome.sender,
        outcome.files,
        outcome.ignored,
        outcome.kept,
    )
    kind, due = run.cycle

    def period(day: date) -> tuple[date, date]:
        found = cycle_of(day, kind, due, lambda d: d)  # only its days are shown, not its due day
        return found.start, found.end

    with session_scope(run.engine) as session:
        for f in outcome.files:
            if f.status == "landed" and f.sha256:
                answer.items[f.sha256] = landed_items(session, run.plan_id, f.sha256)
    subject, body = compose(answer, period, run.coordinator)
    with session_scope(run.engine) as session:
        plan = plan_of(session, run.plan_id)
        to = Recipient(reply_recipient(heading.reply_to), heading.reply_to, [])
        message = new_message(plan, to, subject=subject, body=body, token=run.token)
        message_id = write_message(session, message)
    send_and_confirm(run.engine, message_id, run.channel, run.report.delivery, run.token)
    return message_id


def _kept_folder(run: _Run) -> Path:
    return run.settings.home / "mail" / "kept"


def _kept_before(run: _Run, heading: Heading) -> bool:
    return any(_kept_folder(run).glob(f"*/{heading.key[:16]}.eml"))


def _keep(run: _Run, heading: Heading, raw: bytes, reasons: list[str]) -> Path:
    """The raw mail (empty when not downloaded) and its reasons, under ``mail/kept/<date>/``."""
    folder = _kept_folder(run) / run.day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{heading.key[:16]}.eml"
    text = [
        f"发件人：{heading.sender or '（无法识别）'}",
        f"主题：{heading.subject}",
        f"邮件标识：{heading.message_id or '（无）'}",
        f"大小：{heading.size} 字节",
        "未处理的原因：",
        *(f"  {r}" for r in reasons),
    ]
    write_atomically(kept.with_name(kept.name + ".reasons.txt"), "\n".join(text).encode())
    write_atomically(kept, raw)  # last: its presence says the mail was kept
    return kept
