"""The daily cycle: read report mail (when ``DUBAN_IMAP_HOST`` is set) → collect reports →
light every item → plan the ladder's notices (in one process, or per partition on a work pool's
workers) → deliver them → publish the coordinator's view and queues (待核验销号, 受阻, 延期申请,
退回待重报), then one subflow per key task with its own page.

Cron cannot know Chinese make-up working days, so the flow asks the working-day calendar
first and finishes early on a rest day, saying why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, tags

from config.settings import get_settings
from flows.common import (
    alert_on_failure,
    logger,
    outside_plan,
    plan_and_day,
    run_name,
    working_day,
)
from flows.desk import publish_desk
from flows.forms import field
from flows.partitioned import fan_out_notices
from flows.stages import (
    collect_reports,
    deliver_notices,
    evaluate_lights,
    plan_notices,
    publish_plan_view,
    publish_task_page,
    read_report_mail,
)


@flow(
    name="重点任务",
    log_prints=False,
    description="一项重点任务的页面：它的节点和需关注的事项。",
)
def key_task(plan_id: str, task_code: str, as_of: date) -> str:
    """One key task's page (run as a subflow named after the task). Its parameters stay small:
    they are stored with the run, so no item data passes through them."""
    return publish_task_page(plan_id, task_code, as_of)


@flow(
    name="daily-cycle",
    flow_run_name=run_name,
    description="收集报送，为每个事项亮灯，催办逾期事项，发送提醒，发布督办总览。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
def daily_cycle(
    plan_id: str | None = field("规划编号", "目录中的规划编号（部署已填好）", None),
    as_of: date | None = field("日期", "按哪一天运行；留空为今天", None),
    force: bool = field("休息日也运行", "勾选后休息日也收集、督办", False),
    partitions: list[str] | None = field(
        "分区", "单位编号，分派到工作池运行；留空在本机运行", None
    ),
) -> dict[str, Any]:
    """The day's work for a plan (``as_of`` defaults to today in the plan's timezone). With
    ``partitions`` (unit codes), the notices are planned per partition in runs of the
    ``daily-cycle-partition`` deployment on a work pool (see :mod:`flows.partitioned`)."""
    pid, _, day = plan_and_day(plan_id, as_of)
    with tags(pid, "daily"):
        outside = outside_plan(pid, day)
        if outside:
            logger().info("%s 不在规划期内，今日不运行（%s）", day, outside)
            return {"as_of": day.isoformat(), "skipped": outside}
        workday, note = working_day(day)
        if not workday and not force:
            logger().info(
                "%s 不是工作日（%s），今日不收集、不督办；下一个工作日照常运行",
                day,
                note or "休息日",
            )
            return {"as_of": day.isoformat(), "skipped": note or "休息日"}
        mailed = read_report_mail(pid) if get_settings().imap_host else None
        collected = collect_reports(pid)
        lights = evaluate_lights(pid, day)
        planned = fan_out_notices(pid, day, partitions) if partitions else plan_notices(pid, day)
        delivered = deliver_notices(pid)
        publish_plan_view(pid, lights)
        queues = publish_desk(pid, day)
        for t in lights.status.tasks:
            key_task.with_options(flow_run_name=f"{t.task} {t.title}")(pid, t.task, day)
        return {
            "as_of": day.isoformat(),
            **({"mail": mailed} if mailed is not None else {}),
            "collected": collected,
            "lights": {k.value: v for k, v in lights.status.summary.items()},
            "notices": planned,
            "delivery": delivered,
            "queues": queues,
        }
