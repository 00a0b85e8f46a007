"""The daily cycle of every plan in the database, in one run: each plan's mail, reports, lights
and notices (its stage runs named with the plan's id), then one delivery for all of them, one
digest per recipient across the plans (:mod:`domain.services.delivery_plans`), then each plan's
views, queues and key tasks' pages. A plan outside its period or on a rest day is left out,
saying why; one scheduled run a day, so a liaison of both plans is not reminded twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import tags

from config.ladder import load_ladder
from config.settings import get_settings
from domain.queries.plans import plan_ids
from domain.services.briefing.approval import send_approved
from domain.services.delivery_plans import deliver_plans
from flows.common import engine, logger, outside_delivery_hours, plan_and_day, stage
from flows.deployments import EVERY_PLAN
from flows.plan_day import Prepared, named, not_today, prepare_plan, publish_plan
from models.db import session_scope


def every_plan_id() -> list[str]:
    """Every plan in the database, by id."""
    with session_scope(engine()) as session:
        return plan_ids(session)


@stage("发送提醒")
def deliver_every_plan(plan_ids: list[str]) -> dict[str, int]:
    """Send the outbox of every plan in ``plan_ids``: one digest per recipient across them,
    within working hours and the daily cap; then the briefings approved outside the hours."""
    settings = get_settings()
    report = deliver_plans(engine(), plan_ids, cap=load_ladder(settings.ladder).daily_cap)
    log = logger()
    if report.quiet:
        log.info(outside_delivery_hours(plan_ids[0], settings.delivery_hours))
    else:
        log.info(
            "发送（%s 合并，每人一份）：%d 封成功，%d 封失败，%d 个收件人达到当日上限，"
            "%d 条因事项变化跳过",
            "、".join(plan_ids),
            len(report.sent),
            len(report.failed),
            len(report.capped),
            report.skipped,
        )
    for failed in report.failed:
        log.warning("发送失败 %s：%s", failed.recipient, failed.error)
    for pid in plan_ids:
        for briefing in send_approved(engine(), pid):
            log.info("已审核的文件在发送时段发出：%s，%d 份", briefing.subject, len(briefing.sent))
    return {"sent": len(report.sent), "failed": len(report.failed), "quiet": int(report.quiet)}


def every_plan(
    ids: list[str], as_of: date | None, *, force: bool, partitions: list[str] | None
) -> dict[str, Any]:
    """The daily cycle of each plan of ``ids`` on ``as_of`` (None: today in each plan's
    timezone), delivering once for them all. Partitions are a single plan's: with several plans
    they are not used (the log says so)."""
    results: dict[str, Any] = {}
    working: list[tuple[str, date]] = []
    with tags(*ids, "daily"):
        if partitions:
            logger().warning("分区只用于单个规划的运行；本次运行各规划均在本机运行")
        for pid in ids:
            _, _, day = plan_and_day(pid, as_of)
            refused = not_today(pid, day, force=force, label=f"规划 {pid}")
            if refused is None:
                working.append((pid, day))
            else:
                results[pid] = refused
        prepared: dict[str, Prepared] = {
            pid: prepare_plan(pid, day, label=pid) for pid, day in working
        }
        deliver = named(deliver_every_plan, EVERY_PLAN)
        delivered = deliver([pid for pid, _ in working]) if working else None
        for pid, day in working:
            done = prepared[pid]
            queues = publish_plan(pid, day, done.lights, label=pid)
            results[pid] = {"as_of": day.isoformat(), **done.result(), **queues}
    return {"plans": results, "delivery": delivered}
