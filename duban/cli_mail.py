"""``duban mail-intake``: read the report mailbox (``DUBAN_IMAP_*``) once, land what the mails
carry through the inbox's intake, answer each sender, and say mail by mail what happened."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from domain.rules.glossary import zh_date
from duban.app import PlanOpt, app, err, out
from duban.dates import parse_date
from models import clock

if TYPE_CHECKING:
    from config.settings import Settings
    from domain.services.mail_intake import MailOutcome, MailReport

STATUS = {"answered": "已处理", "kept": "未处理", "repeated": "此前已处理"}
ROLES = {"head": "负责人", "deputy": "分管负责人", "liaison": "联络员", "staff": "工作人员"}


@app.command("mail-intake")
def mail_intake(
    limit: Annotated[int, typer.Option(min=1, help="本次最多处理的邮件数（从最早的起）。")] = 200,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="按这一天收到记录这些邮件的附件（重放历史）；默认：现在。"),
    ] = None,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的输出。")] = False,
) -> None:
    """收取报送邮箱（DUBAN_IMAP_*）中的邮件：附件按收件箱的规则整份入库或退回，并回复发件人。"""
    from config.settings import get_settings
    from domain.adapters.mailbox import MailboxError, MailBusyError, why
    from domain.queries.context import resolve_plan
    from domain.services.mail_intake import mail_intake as read_mailbox
    from duban.database import ready_engine
    from models.db import session_scope

    settings = get_settings()
    engine = ready_engine()
    with session_scope(engine) as session:
        plan_row = resolve_plan(session, plan)
        plan_id, tz = plan_row.id, plan_row.timezone
    day = parse_date(as_of)
    try:
        with clock.frozen_time(clock.end_of_working_day(day, tz)) if day else clock.unfrozen():
            report = read_mailbox(engine, plan_id, limit=limit)
    except MailBusyError:
        out.print("另一个收信任务正在运行，本次未收信；稍后再试。", markup=False)
        return
    except MailboxError as exc:
        err.print(
            f"无法读取收信邮箱 {_where(settings)}：{why(exc)}。邮件均留在原处，下次收信时再处理。",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(_as_json(report), ensure_ascii=False, indent=1) + "\n")
    else:
        _print(report, settings)
    refused = [f for m in report.mails for f in m.files if f.status == "rejected"]
    if refused or any(m.status == "kept" for m in report.mails):
        raise typer.Exit(2)


def _where(settings: Settings) -> str:
    where = f"{settings.imap_user}@{settings.imap_host}:{settings.imap_port}"
    return f"{where}（{settings.imap_folder}）"


def _who(m: MailOutcome) -> str:
    h = m.heading
    who = h.sender or "（发件人无法识别）"
    if m.sender is not None:
        role = ROLES.get(m.sender.role, m.sender.role)
        who += f"（{m.sender.unit_name}{role}{m.sender.name}）"
    elif h.sender:
        who += "（不在联系人名单中）"
    return f"{who}《{h.subject or '（无主题）'}》"


def _print(report: MailReport, settings: Settings) -> None:
    if not report.mails:
        out.print(f"收信邮箱 {_where(settings)}：没有待处理的邮件", markup=False)
        return
    out.print(f"收信邮箱 {_where(settings)}：{len(report.mails)} 封邮件", markup=False)
    for m in report.mails:
        out.print(f"  {STATUS[m.status]}  {_who(m)}", markup=False, soft_wrap=True)
        for f in m.files:
            if f.status == "landed" and f.landed is not None:
                when = f"（{zh_date(f.period)}所在报送期）" if f.period else ""
                line = f"入库  {f.name}：{f.landed.unit_name}{when}，进展 {f.landed.reports} 条"
                line += f"，指标值 {f.landed.measures} 个" if f.landed.measures else ""
            elif f.status == "duplicate":
                line = f"重复  {f.name}：与{f.first_landed}内容相同，不再重复入库"
            else:
                line = f"退回  {f.name}：{len(f.problems)} 个问题，均未入库"
                line += f"；说明见 {f.error_report}"
            out.print(f"      {line}", markup=False, soft_wrap=True)
        for reason in m.kept:
            out.print(f"      原因：{reason}", markup=False, soft_wrap=True)
        if m.kept_at is not None:
            out.print(
                f"      原件与原因留在 {m.kept_at}，"
                f"邮件已移到“{settings.imap_kept_folder}”并加旗标",
                markup=False,
                soft_wrap=True,
            )
        if m.reply_id is not None:
            out.print(f"      已回复 {m.heading.reply_to}（消息 {m.reply_id}）", markup=False)
        elif m.status != "repeated":
            out.print("      未回复（自动邮件，或陌生地址且没有报送文件）", markup=False)
    counts = {s: sum(m.status == s for m in report.mails) for s in STATUS}
    sent, failed = len(report.delivery.sent), len(report.delivery.failed)
    out.print(
        f"共 {len(report.mails)} 封：已处理 {counts['answered']} 封，未处理 {counts['kept']} 封，"
        f"此前已处理 {counts['repeated']} 封；回复已发出 {sent} 封"
        + (f"，发送失败 {failed} 封（稍后重发）" if failed else ""),
        markup=False,
        soft_wrap=True,
    )


def _as_json(report: MailReport) -> dict[str, object]:
    from duban import render

    return {
        "mails": [
            {
                "message_id": m.heading.message_id,
                "sender": m.heading.sender,
                "subject": m.heading.subject,
                "status": m.status,
                "unit": None if m.sender is None else m.sender.unit_code,
                "files": render.collect_json(m.files)["files"],
                "ignored": m.ignored,
                "kept": m.kept,
                "kept_at": None if m.kept_at is None else str(m.kept_at),
                "reply_message": m.reply_id,
            }
            for m in report.mails
        ],
        "replies_sent": len(report.delivery.sent),
        "replies_failed": len(report.delivery.failed),
    }
