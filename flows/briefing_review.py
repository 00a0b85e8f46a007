"""The coordinator's review of a written document for leadership, shared by every briefing
edition and the 考评通报: wait for approval of the draft (or approve by itself), then send it to
leadership within the delivery hours.

The approval is Prefect's wait-for-input form on the paused run (approve or not, with a
comment). Unattended installations set ``DUBAN_BRIEFING_APPROVAL=auto``. Without an answer
within ``DUBAN_BRIEFING_APPROVAL_TIMEOUT`` seconds the briefing stays unsent (it is written and
recorded; ``send_later``, a `duban brief … --send` command, sends it) and the coordinator is told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Completed
from pydantic import Field
from sqlalchemy import Engine

from config.settings import get_settings
from domain.services.alerts import alert_coordinator
from domain.services.briefing.approval import approve_briefing, in_delivery_hours
from flows.common import engine, logger
from flows.stages import WrittenBriefing, send_briefing


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


def ask_for_approval(title: str, timeout: int, kind: str = "简报") -> BriefingApproval | None:
    """Pause the run until the coordinator answers; None if nobody did in time (Prefect then
    marks the run failed, "never resumed"; the failure hook knows this case)."""
    logger().info(
        "%s草稿已生成，请在 Prefect 界面审核（运行页的 Resume 表单），%s内有效：%s",
        kind,
        duration_zh(timeout),
        title,
    )
    try:
        return pause_flow_run(wait_for_input=BriefingApproval, timeout=timeout)
    except FlowPauseTimeout:
        return None


@dataclass(frozen=True)
class ForReview:
    """A document written and recorded, awaiting the coordinator's approval: what it is called
    (``kind``: 简报, 考评通报), how to approve its record and send it, and the command that
    sends it later."""

    kind: str
    title: str
    record_id: int
    files: dict[str, str]
    alert_key: str
    send_later: str
    approve: Callable[[Engine, int, str], None]
    send: Callable[[int], dict[str, int]]


def briefing_for_review(written: WrittenBriefing, send_later: str) -> ForReview:
    """A written briefing of any edition, for :func:`review_and_send`."""
    return ForReview(
        kind="简报",
        title=f"{written.title} 第{written.number}期（{written.label}）",
        record_id=written.record_id,
        files=written.files,
        alert_key=f"briefing-{written.record_id}-unapproved",
        send_later=send_later,
        approve=approve_briefing,
        send=send_briefing,
    )


def review_and_send(
    pid: str,
    doc: ForReview,
    result: dict[str, Any],
    *,
    send: bool,
    approval: Literal["wait", "auto"] | None,
    ask: Callable[[str, int, str], BriefingApproval | None] = ask_for_approval,
) -> dict[str, Any]:
    """Unless ``send`` is off, have the written document approved (``approval``, default the
    setting; ``ask`` puts the question), then send it now or, outside the delivery hours, leave it
    to the next working day's daily cycle; ``result`` (the flow's result so far) is completed
    with what happened and returned."""
    if not send:
        logger().info("只生成，不发送（send=false）")
        return result
    settings = get_settings()
    mode = approval or settings.briefing_approval
    title, kind, send_later = doc.title, doc.kind, doc.send_later
    if mode == "auto":
        logger().info("自动审核通过（DUBAN_BRIEFING_APPROVAL=auto）")
        answer: BriefingApproval | None = BriefingApproval(approve=True, actor=AUTO_APPROVER)
    else:
        answer = ask(title, settings.briefing_approval_timeout, kind)
    if answer is None:
        waited = duration_zh(settings.briefing_approval_timeout)
        logger().warning("%s内未审核，%s未发送；审核后可用 `%s` 发送", waited, kind, send_later)
        alert_coordinator(
            engine(),
            pid,
            key=doc.alert_key,
            subject=f"【督办系统】{kind}待审核：{title}",
            body=f"{title} 已生成，但在{waited}内未审核，尚未发送给县领导。\n"
            f"审核后发送：`{send_later}`\n"
            "文件：\n" + "\n".join(doc.files.values()),
        )
        result["approval"] = "timed out"
        return cast(  # see flows.refusals.refusing: a caller gets the result
            dict[str, Any],
            Completed(
                name="未审核",
                message=f"{waited}内未审核，{kind}未发送；审核后可用 `{send_later}` 发送",
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
    doc.approve(engine(), doc.record_id, answer.actor)
    result["approval"] = "approved"
    if not in_delivery_hours(engine(), pid):
        logger().info(
            "现在不在发送时段（工作日 %s）：%s将在下一个工作日随每日流程发送给县领导",
            settings.delivery_hours,
            kind,
        )
        result["held"] = True
        return result
    result["sent"] = doc.send(doc.record_id)["sent"]
    return result
