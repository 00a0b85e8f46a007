"""The weekly briefing: write it, show it in the UI, wait for the coordinator's approval of the
draft, then send it to leadership.

The approval is Prefect's wait-for-input form on the paused run (approve or not, with a
comment). Unattended installations set ``DUBAN_BRIEFING_APPROVAL=auto``. Without an answer
within ``DUBAN_BRIEFING_APPROVAL_TIMEOUT`` seconds the briefing stays unsent (it is written and
recorded; `duban brief --send` sends it) and the coordinator is told.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, cast

from prefect import flow, tags
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Completed
from pydantic import Field

from config.settings import get_settings
from domain.queries.plans import plan_of
from domain.rules.isoweek import IsoWeek
from domain.services.alerts import alert_coordinator
from domain.services.briefing.approval import approve_briefing, in_delivery_hours
from domain.services.briefing.issue import check_date, report_day
from flows.common import RunFormError, alert_on_failure, engine, logger, plan_and_day, run_name
from flows.forms import field
from flows.refusals import refusing
from flows.stages import send_briefing, write_briefing
from models.db import session_scope


class BriefingApproval(RunInput):
    """The coordinator's answer on the draft briefing (the form in the Prefect UI)."""

    approve: bool = Field(
        default=True, title="审核通过", description="发送给县领导（取消勾选则不发送）"
    )
    actor: str = Field(
        title="经办人", description="您的姓名（记入简报的审核记录）", min_length=1, pattern=r"\S"
    )
    comment: str = Field(default="", title="意见", description="可不填，记入日志")


AUTO_APPROVER = "自动审核（DUBAN_BRIEFING_APPROVAL=auto）"


def duration_zh(seconds: float) -> str:
    """14400 → 4小时; 1800 → 30分钟; 20 → 20秒."""
    if seconds >= 3600:
        return f"{seconds / 3600:g}小时"
    if seconds >= 60:
        return f"{seconds / 60:g}分钟"
    return f"{seconds:g}秒"


def ask_for_approval(title: str, timeout: int) -> BriefingApproval | None:
    """Pause the run until the coordinator answers; None if nobody did in time (Prefect then
    marks the run failed, "never resumed"; the failure hook knows this case)."""
    logger().info(
        "简报草稿已生成，请在 Prefect 界面审核（运行页的 Resume 表单），%s内有效：%s",
        duration_zh(timeout),
        title,
    )
    try:
        return pause_flow_run(wait_for_input=BriefingApproval, timeout=timeout)
    except FlowPauseTimeout:
        return None


@flow(
    name="weekly-briefing",
    flow_run_name=run_name,
    description="生成每周简报，等待审核，发送给县领导。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def weekly_briefing(
    plan_id: str | None = field("规划编号", "目录中的规划编号（部署已填好）", None),
    as_of: date | None = field("日期", "按哪一天的情况出简报；留空为今天", None),
    week: str | None = field(
        "周次", "出哪一周的简报，写成 2022-W01（年-W周）；留空则按上面的日期", None
    ),
    send: bool = field("审核后发送", "取消勾选则只生成、不发送", True),
    approval: Literal["wait", "auto"] | None = field(
        "审核方式", "wait：等协调员审核；auto：自动通过；留空按设置", None
    ),
) -> dict[str, Any]:
    """``week`` (2021-W52) picks that week's report day; else ``as_of`` (default today)."""
    pid, _, day = plan_and_day(plan_id, as_of)
    with session_scope(engine()) as session:
        plan = plan_of(session, pid)
        try:
            day = report_day(session, plan, IsoWeek.parse(week)) if week else day
            check_date(plan, day)
        except ValueError as exc:
            raise RunFormError(f"周次或日期（week/as_of）有误：{exc}") from None
    with tags(pid, "weekly"):
        written = write_briefing(pid, day)
        result: dict[str, Any] = {"week": written.week, "number": written.number, "sent": 0}
        if not send:
            logger().info("只生成，不发送（send=false）")
            return result
        settings = get_settings()
        mode = approval or settings.briefing_approval
        title = f"{written.title} 第{written.number}期（{written.week}）"
        if mode == "auto":
            logger().info("自动审核通过（DUBAN_BRIEFING_APPROVAL=auto）")
            answer: BriefingApproval | None = BriefingApproval(approve=True, actor=AUTO_APPROVER)
        else:
            answer = ask_for_approval(title, settings.briefing_approval_timeout)
        if answer is None:
            waited = duration_zh(settings.briefing_approval_timeout)
            send_later = f"duban brief --week {written.week} --send"
            logger().warning("%s内未审核，简报未发送；审核后可用 `%s` 发送", waited, send_later)
            alert_coordinator(
                engine(),
                pid,
                key=f"briefing-{written.record_id}-unapproved",
                subject=f"【督办系统】简报待审核：{title}",
                body=f"{title} 已生成，但在{waited}内未审核，尚未发送给县领导。\n"
                f"审核后发送：`{send_later}`\n"
                "文件：\n" + "\n".join(written.files.values()),
            )
            result["approval"] = "timed out"
            return cast(  # see flows.refusals.refusing: a caller gets the result
                dict[str, Any],
                Completed(
                    name="未审核",
                    message=f"{waited}内未审核，简报未发送；审核后可用 `{send_later}` 发送",
                    data=result,
                ),
            )
        if not answer.approve:
            logger().info("审核未通过，不发送。意见：%s", answer.comment or "（无）")
            result["approval"] = "rejected"
            return result
        logger().info(
            "%s 审核通过%s", answer.actor, f"，意见：{answer.comment}" if answer.comment else ""
        )
        approve_briefing(engine(), written.record_id, answer.actor)
        result["approval"] = "approved"
        if not in_delivery_hours(engine(), pid):
            logger().info(
                "现在不在发送时段（工作日 %s）：简报将在下一个工作日随每日流程发送给县领导",
                settings.delivery_hours,
            )
            result["held"] = True
            return result
        sent = send_briefing(written.record_id)
        result["sent"] = sent["sent"]
        return result
