"""The coarse Prefect tasks the flows are made of: one per stage of work, never one per item.

Each calls the library (``domain``) in its own transaction and returns plain data. They retry
only transient failures (see :mod:`flows.common`). Results are not cached: every run recomputes
from the database, which is the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from sqlalchemy.orm import Session

from config.ladder import load_ladder
from config.settings import get_settings
from domain.adapters.disclosure_site import write_site
from domain.queries.briefing_facts import escalation_levels
from domain.queries.calendar import reporting_cycle
from domain.queries.completeness import completeness_view
from domain.queries.context import build_context, context_on
from domain.queries.desk import unit_cards
from domain.queries.disclosure import disclosure_view
from domain.queries.escalation import all_due_notices
from domain.queries.outbox import write_outbox
from domain.queries.partitions import partition_label, partition_units
from domain.queries.plan_end import reminders_stopped
from domain.queries.plans import plan_of
from domain.queries.status import status_view, task_page_status
from domain.rules.context import Context, LightPolicy
from domain.rules.dashboard import (
    ATTENTION,
    ATTENTION_ROWS,
    MISSING_ROWS,
    OVERDUE_ROWS,
    completion,
    completion_page,
    missing_reports_table,
    overdue_table,
    plan_dashboard,
    task_page,
)
from domain.rules.glossary import CHANNELS, word
from domain.rules.periods import Period
from domain.rules.plan_keys import key_text
from domain.rules.status_views import CompletenessView, StatusView
from domain.services.briefing.approval import send_approved
from domain.services.briefing.distribute import distribute_briefing
from domain.services.delivery import deliver
from domain.services.intake.inbox import collect
from flows.common import engine, logger, outside_delivery_hours, stage
from models.db import session_scope
from models.enums import Edition, Light, Status


def artifact_key(plan_id: str, *parts: str) -> str:
    """Artifact keys: lowercase letters, digits and dashes (Prefect's rule)."""
    return key_text("-".join([plan_id, *parts]))


@stage("收集报送")
def collect_reports(plan_id: str) -> dict[str, int]:
    """Land every report file waiting in the inbox (each file whole or not at all)."""
    inbox = get_settings().resolved_inbox
    outcomes = collect(engine(), plan_id, inbox)
    counts = {"landed": 0, "rejected": 0, "duplicate": 0}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    log = logger()
    log.info(
        "收集报送 %s：%d 个文件入库，%d 个退回，%d 个重复",
        inbox,
        counts["landed"],
        counts["rejected"],
        counts["duplicate"],
    )
    if counts.get("elsewhere"):
        log.info("收集报送：%d 个文件属于其他规划，留在收件箱由该规划收集", counts["elsewhere"])
    for outcome in outcomes:
        if outcome.status == "rejected":
            log.warning("退回 %s：%s", outcome.name, outcome.error_report)
    return counts


@stage("收信")
def read_report_mail(plan_id: str) -> dict[str, int]:
    """Land the reports mailed to the ``DUBAN_IMAP_*`` mailbox and answer each sender. A mail
    server that cannot be read is logged and the cycle goes on; its mails wait for the next run."""
    # the mail client (imap_tools) is loaded only where DUBAN_IMAP_HOST asks for this stage
    from domain.adapters.mailbox import MailboxError, MailBusyError, why  # noqa: PLC0415
    from domain.services.mail_intake import mail_intake  # noqa: PLC0415

    log = logger()
    try:
        report = mail_intake(engine(), plan_id)
    except MailBusyError:
        log.info("收信：另一个收信任务正在运行，本次跳过")
        return {"busy": 1}
    except MailboxError as exc:
        log.error("收信：无法读取收信邮箱（%s），邮件留在原处，下次再收", why(exc))
        return {"unreachable": 1}
    counts = {"answered": 0, "kept": 0, "repeated": 0}
    for mail in report.mails:
        counts[mail.status] += 1
    counts["replies_sent"], counts["replies_failed"] = (
        len(report.delivery.sent),
        len(report.delivery.failed),
    )
    log.info(
        "收信：%d 封邮件已处理，%d 封未能处理（留存待查），%d 封此前已处理；回复 %d 封",
        counts["answered"],
        counts["kept"],
        counts["repeated"],
        counts["replies_sent"],
    )
    for mail in report.mails:
        if mail.status == "kept":
            sender, reason = mail.heading.sender, mail.kept[0]
            log.warning("未处理 %s 的来信：%s（%s）", sender, reason, mail.kept_at)
    return counts


@dataclass(frozen=True)
class Lights:
    status: StatusView
    completeness: CompletenessView


def context(session: Session, plan_id: str, day: date) -> Context:
    """The stage's as-of context, with the light policy from the settings."""
    settings = get_settings()
    policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
    return build_context(session, plan_id, day, policy)


@stage("亮灯")
def evaluate_lights(plan_id: str, day: date) -> Lights:
    """Every item's light on the day, and who owes this cycle's report."""
    with session_scope(engine()) as session:
        ctx = context(session, plan_id, day)
        view = status_view(  # counts, and the longest overdue items a table can show
            session, ctx, only_statuses=frozenset({Status.OVERDUE}), item_limit=OVERDUE_ROWS
        )
        # the last cycle whose report is due by now (on a Monday: last week's)
        plan = ctx.plan
        cycle = reporting_cycle(
            session, plan.reporting_cycle, plan.reporting_due, day, covered=ctx.calendar
        )
        closed = day if cycle.due <= day else cycle.start - timedelta(days=1)
        done = completeness_view(
            session,
            context_on(session, ctx, closed),
            cycles=1,
            rates=False,
            missing_limit=MISSING_ROWS,
        )
    for warning in view.warnings:
        logger().warning(warning)
    s = view.summary
    logger().info(
        "亮灯 %s：红 %d，黄 %d，绿 %d，逾期完成 %d，灰 %d；本期应报 %d 个单位，未报 %d",
        day,
        s[Light.RED],
        s[Light.YELLOW],
        s[Light.GREEN],
        s[Light.DONE_LATE],
        s[Light.GRAY],
        done.owed,
        done.owed - done.sent,
    )
    return Lights(view, done)


@stage("计划提醒")
def plan_notices(
    plan_id: str, day: date, partition: str | None = None, partitions: Sequence[str] = ()
) -> dict[str, int]:
    """The ladder's notices for the day into the outbox (each planned once, however often): for
    the whole plan, or for the units of ``partition`` among ``partitions`` (see
    :mod:`domain.queries.partitions`)."""
    ladder = load_ladder(get_settings().ladder)
    with session_scope(engine()) as session:
        ctx = context(session, plan_id, day)
        units = (
            None if partition is None else partition_units(session, plan_id, partition, partitions)
        )
        stopped = reminders_stopped(session, ctx.plan, day)
        due = [] if stopped else all_due_notices(session, ctx, ladder, units, only_new=True)
        new = write_outbox(session, ctx, due)
    if stopped is not None:
        logger().info(stopped.words())
    scope = "" if units is None else f"（分区 {partition_label(partition)}，{len(units)} 个单位）"
    logger().info("督办提醒 %s%s：新写入发件箱 %d 条", day, scope, new)
    return {"new": new}


@stage("发送提醒")
def deliver_notices(plan_id: str) -> dict[str, int]:
    """Send the outbox: one digest per recipient, within working hours and the daily cap."""
    ladder = load_ladder(get_settings().ladder)
    report = deliver(engine(), plan_id, cap=ladder.daily_cap)
    log = logger()
    if report.quiet:
        log.info(outside_delivery_hours(plan_id, get_settings().delivery_hours))
    else:
        log.info(
            "发送：%d 封成功，%d 封失败，%d 个收件人达到当日上限，%d 条因事项变化跳过",
            len(report.sent),
            len(report.failed),
            len(report.capped),
            report.skipped,
        )
    for failed in report.failed:
        log.warning("发送失败 %s：%s", failed.recipient, failed.error)
    for briefing in send_approved(engine(), plan_id):  # approved outside the hours before
        log.info("已审核的文件在发送时段发出：%s，%d 份", briefing.subject, len(briefing.sent))
    return {"sent": len(report.sent), "failed": len(report.failed), "quiet": int(report.quiet)}


@stage("发布督办总览")
def publish_plan_view(plan_id: str, lights: Lights) -> int:
    """Dashboard, overdue table, missing reports and overall completion as artifacts (a new
    version of each key per run). Returns how many items are overdue."""
    view = lights.status
    with session_scope(engine()) as session:
        levels = escalation_levels(session, plan_id, view.as_of, {i.id: i.due for i in view.items})
        cards = unit_cards(
            session,
            plan_id,
            {i.unit for i in view.items} | {code for code, _ in lights.completeness.missing},
        )
    create_markdown_artifact(
        plan_dashboard(view, lights.completeness),
        key=artifact_key(plan_id, "dashboard"),
        description=f"{view.plan_title}：各重点任务亮灯情况（{view.as_of}）",
    )
    overdue = overdue_table(view.items, levels, cards)
    total = view.statuses[Status.OVERDUE]
    shown = f"，表中为逾期最久的 {len(overdue)} 项" if len(overdue) < total else ""
    create_table_artifact(
        overdue or [{"事项编号": "—", "事项": "无逾期事项"}],
        key=artifact_key(plan_id, "overdue"),
        description=f"逾期事项 {total} 项（{view.as_of}）{shown}",
    )
    missing = missing_reports_table(lights.completeness, cards)
    unsent = lights.completeness.owed - lights.completeness.sent
    listed = f"，表中为编码在前的 {len(missing)} 个" if len(missing) < unsent else ""
    # (the rows kept are the first by code; the table lists them township by township)
    create_table_artifact(
        missing or [{"单位编码": "—", "单位": "本期无未报单位"}],
        key=artifact_key(plan_id, "missing-reports"),
        description=f"本期未报送单位 {unsent} 个（截止 {lights.completeness.cycle.due}）{listed}",
    )
    logger().info(
        "看板已更新：逾期事项 %d 项，本期未报送单位 %d 个，总体完成 %.1f%%",
        total,
        unsent,
        completion(view),
    )
    create_markdown_artifact(  # not a progress artifact: Prefect's UI shows 1.6 as "1%"
        completion_page(view),
        key=artifact_key(plan_id, "completion"),
        description=f"总体完成 {completion(view)}%：已完成事项占全部事项的比例（{view.as_of}）",
    )
    return total


@stage("重点任务页")
def publish_task_page(plan_id: str, task_code: str, day: date) -> str:
    """One key task's milestones, lights and items needing attention, as an artifact."""
    with session_scope(engine()) as session:
        ctx = context(session, plan_id, day)
        view, milestones = task_page_status(
            session, ctx, task=task_code, only_statuses=ATTENTION, item_limit=ATTENTION_ROWS
        )
        levels = escalation_levels(session, plan_id, day, {i.id: i.due for i in view.items})
    (row,) = view.tasks
    create_markdown_artifact(
        task_page(row, milestones, view.items, levels, day),
        key=artifact_key(plan_id, "task", task_code),
        description=f"{row.task} {row.title}（{day}）",
    )
    s = row.lights
    logger().info(
        "%s %s：%d 项，红 %d，黄 %d，绿 %d",
        row.task,
        row.title,
        row.items,
        s[Light.RED],
        s[Light.YELLOW],
        s[Light.GREEN],
    )
    return row.task


@dataclass(frozen=True)
class WrittenBriefing:
    record_id: int
    title: str
    number: int
    period: str  # 2021-W52, 2021-12 or 2021-Q4
    label: str  # 2021年第52周, 2021年12月, 2021年第四季度
    files: dict[str, str]
    reproduced: bool


def briefing_url(path: Path) -> str:
    """Where a reader's browser finds a briefing file: under ``DUBAN_BRIEFING_BASE_URL`` when
    the briefings folder is published (a web server, an intranet share), else a file:// URI
    (which a browser opens only from the machine itself)."""
    base = get_settings().briefing_base_url
    if not base:
        return path.as_uri()
    relative = path.relative_to(get_settings().resolved_briefings).as_posix()
    return f"{base.rstrip('/')}/{relative}"


@stage("更新公开网页")
def publish_public_pages(plan_id: str, day: date) -> str:
    """The public pages (政务公开) of ``day`` rewritten in the public folder; returns it."""
    settings = get_settings()
    with session_scope(engine()) as session:
        view = disclosure_view(session, context(session, plan_id, day))
    files = write_site(view, settings.resolved_public)
    logger().info("公开网页已更新：%s（%d 个文件）", settings.resolved_public, len(files))
    return str(settings.resolved_public)


@stage("生成简报")
def write_briefing(plan_id: str, day: date, period: str | None = None) -> WrittenBriefing:
    """The briefing of ``period`` (2021-12, 2021-Q4; default the week of ``day``) dated
    ``day``, in every format, numbered and recorded."""
    # the briefing brings matplotlib and python-docx: loaded only by the flows that write one
    from domain.adapters.briefing.documents import render_markdown  # noqa: PLC0415
    from domain.services.briefing.issue import FORMATS, issue_briefing  # noqa: PLC0415

    settings = get_settings()
    with session_scope(engine()) as session:
        plan = plan_of(session, plan_id)
        issued = issue_briefing(
            session,
            plan,
            day,
            formats=list(FORMATS),
            out=settings.resolved_briefings,
            policy=LightPolicy(settings.yellow_workdays, settings.pace_margin),
            fonts=settings.briefing_fonts,
            actor="duban flow",
            period=Period.from_key(period) if period else None,
        )
    m = issued.view.masthead
    files = {k: str(v) for k, v in issued.files.items()}
    series = "briefing" if m.edition is Edition.WEEK else f"briefing-{m.edition.value}"
    create_markdown_artifact(
        render_markdown(issued.view, {}, issued.printed) + "\n*图表见简报的 HTML 与 Word 文件。*\n",
        key=artifact_key(plan_id, series),
        description=f"{m.title} {m.year}年第{m.number}期",
    )
    links = "\n".join(
        f"- {fmt}: [{Path(p).name}]({briefing_url(Path(p))}) （{p}）" for fmt, p in files.items()
    )
    create_markdown_artifact(
        f"# {m.title} {m.year}年第{m.number}期 — 文件\n\n{links}\n",
        key=artifact_key(plan_id, f"{series}-files"),
        description=f"简报文件（{m.period_label}）",
    )
    create_link_artifact(
        briefing_url(Path(files["html"])),
        link_text=f"{m.title} {m.year}年第{m.number}期（HTML）",
        key=artifact_key(plan_id, f"{series}-link"),
        description=f"本期简报（HTML）；Word 文件见 {series}-files",
    )
    logger().info(
        "简报 %s 第%d期（%s）已生成%s：%s",
        m.title,
        m.number,
        m.period_label,
        "，与上次生成的数字相同" if issued.reproduced else "",
        ", ".join(files.values()),
    )
    return WrittenBriefing(
        issued.record_id, m.title, m.number, m.period, m.period_label, files, issued.reproduced
    )


@stage("发送简报")
def send_briefing(record_id: int) -> dict[str, int]:
    """Send the approved briefing to leadership (HTML, text and the Word file) now."""
    result = distribute_briefing(engine(), record_id)
    log = logger()
    if result.already:
        log.info("简报此前已发送给领导，本次不重复发送")
    for m in result.sent:
        log.info("简报已发送：%s（%s）", m.recipient, word(CHANNELS, m.channel))
    for m in result.failed:
        log.warning("简报发送失败：%s：%s", m.recipient, m.error)
    if result.failed:
        raise ConnectionError(f"{len(result.failed)} recipient(s) failed; the outbox keeps them")
    return {"sent": len(result.sent), "already": int(result.already)}
