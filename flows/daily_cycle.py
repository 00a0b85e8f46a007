"""The daily cycle: read report mail (when ``DUBAN_IMAP_HOST`` is set) → collect reports →
light every item → plan the ladder's notices (in one process, or per partition on a work pool's
workers) → deliver them → publish the coordinator's view and queues (待核验销号, 受阻, 延期申请,
退回待重报), then each key task's page in a task run named after it.

With several plans in the database and no plan named, one run works on every plan and delivers
once for them all: one digest per recipient across the plans (:mod:`flows.every_plan`).

Cron cannot know Chinese make-up working days, so the flow asks the working-day calendar
first and finishes early on a rest day, saying why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, tags

from flows.common import alert_on_failure, plan_and_day, run_name
from flows.every_plan import every_plan, every_plan_id
from flows.forms import field
from flows.plan_day import not_today, prepare_plan, publish_plan
from flows.stages import deliver_notices

__all__ = ["daily_cycle"]


@flow(
    name="daily-cycle",
    flow_run_name=run_name,
    description="收集报送，为每个事项亮灯，催办逾期事项，发送提醒，发布督办总览。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
def daily_cycle(
    plan_id: str | None = field(
        "规划编号", "目录中的规划编号（部署已填好）；留空为数据库中的每个规划", None
    ),
    as_of: date | None = field("日期", "按哪一天运行；留空为今天", None),
    force: bool = field("休息日也运行", "勾选后休息日也收集、督办", False),
    partitions: list[str] | None = field(
        "分区", "单位编号，分派到工作池运行；留空在本机运行", None
    ),
) -> dict[str, Any]:
    """The day's work for a plan (``as_of`` defaults to today in the plan's timezone). With
    ``partitions`` (unit codes), the notices are planned per partition in runs of the
    ``daily-cycle-partition`` deployment on a work pool (see :mod:`flows.partitioned`). With no
    ``plan_id`` and several plans in the database, every plan's, in this one run
    (:func:`flows.every_plan.every_plan`)."""
    several = every_plan_id() if plan_id is None else []
    if len(several) > 1:
        return every_plan(several, as_of, force=force, partitions=partitions)
    pid, _, day = plan_and_day(plan_id, as_of)
    with tags(pid, "daily"):
        refused = not_today(pid, day, force=force)
        if refused is not None:
            return refused
        prepared = prepare_plan(pid, day, partitions)
        delivered = deliver_notices(pid)
        queues = publish_plan(pid, day, prepared.lights)
        return {"as_of": day.isoformat(), **prepared.result(), "delivery": delivered, **queues}
