"""The coordinator's actions as flows with typed parameters: the Prefect UI's run form is the
control panel (approve an extension, verify or return an item, re-send a notice). Each is one
transaction through the same library calls as the command line, recorded with its actor; what
the lifecycle refuses ends the run as 未执行 (:mod:`flows.refusals`), not as a failure."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from domain.queries.items import extend_item, move_item, verify_item
from domain.services.resend import resend_notice as resend
from flows.common import alert_on_failure, engine, logger
from flows.forms import actor_field, field
from flows.refusals import refusing
from models.db import session_scope
from models.enums import ItemState
from models.orm import WorkItem


@flow(
    name="approve-extension",
    flow_run_name="延期审批 #{item_id} · {actor}",
    description="延期审批：改变事项的完成时限，并说明原因。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def approve_extension(
    item_id: int = field("事项编号", "督办总览和待办清单中的事项编号", ge=1),
    new_due: date = field("新的完成时限", "延期后的完成日期"),
    reason: str = field("延期原因", "批准延期的理由（记入办理记录）", min_length=1),
    actor: str = actor_field(),
) -> dict[str, Any]:
    with session_scope(engine()) as session:
        old = extend_item(session, item_id, new_due, actor=actor, reason=reason)
        new_due = session.get(WorkItem, item_id).due  # type: ignore[union-attr]  # 顺延
    logger().info("事项 %d 延期：%s → %s（%s）", item_id, old, new_due, reason)
    return {"item": item_id, "old_due": old.isoformat(), "new_due": new_due.isoformat()}


@flow(
    name="verify-item",
    flow_run_name="核验销号 #{item_id} · {actor}",
    description="核验销号：核验佐证材料后关闭已申请办结的事项。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def verify(
    item_id: int = field("事项编号", "待核验销号清单中的事项编号", ge=1),
    note: str = field("核验意见", "可不填（记入办理记录）", ""),
    actor: str = actor_field(),
) -> str:
    with session_scope(engine()) as session:
        move = verify_item(session, item_id, actor=actor, note=note or None)
    logger().info("事项 %d 已核验销号（%s → %s）", item_id, move.from_state, move.to_state)
    return move.to_state


@flow(
    name="return-item",
    flow_run_name="退回 #{item_id} · {actor}",
    description="退回：把已申请办结的事项退回责任单位，并说明原因。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def return_item(
    item_id: int = field("事项编号", "待核验销号清单中的事项编号", ge=1),
    reason: str = field("退回原因", "责任单位将在其页面上看到这段话", min_length=1),
    actor: str = actor_field(),
) -> str:
    with session_scope(engine()) as session:
        move = move_item(session, item_id, ItemState.RETURNED, actor=actor, reason=reason)
    logger().info("事项 %d 已退回：%s", item_id, reason)
    return move.to_state


@flow(
    name="resend-notice",
    flow_run_name="重发提醒 #{notice_id}",
    description="重发：立即把一条提醒再发给它的收件人。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def resend_notice(
    notice_id: int = field("提醒编号", "`duban notices` 列出的提醒编号", ge=1),
) -> list[str]:
    report = resend(engine(), notice_id)
    for m in report.sent:
        logger().info("提醒 %d 已重发给 %s（%s）", notice_id, m.recipient, m.channel)
    for m in report.failed:
        logger().warning("提醒 %d 重发给 %s 失败：%s", notice_id, m.recipient, m.error)
    if report.failed:
        raise ConnectionError(f"notice {notice_id}: {len(report.failed)} recipient(s) failed")
    return [m.recipient for m in report.sent]
