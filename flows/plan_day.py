"""One plan's day, in the steps the daily cycle is made of: whether to work on the day, the
morning (mail, collect, lights, notices) and the publishing (views, queues, key tasks' pages).
The daily cycle of one plan and that of every plan (:mod:`flows.every_plan`) share them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date
from typing import Any, ParamSpec, TypeVar

from prefect import Task
from prefect.futures import PrefectFuture

from config.settings import get_settings
from flows.common import logger, outside_plan, working_day
from flows.desk import publish_desk
from flows.partitioned import fan_out_notices
from flows.stages import (
    Lights,
    collect_reports,
    evaluate_lights,
    plan_notices,
    publish_plan_view,
    publish_task_page,
    read_report_mail,
)

P = ParamSpec("P")
R = TypeVar("R")

PAGES_AT_ONCE = 4
"""Key-task pages published at once: one page's queries run in the database while another's
artifact goes to Prefect. Few enough for the database connection pool (5 + 10 overflow)."""


def not_today(pid: str, day: date, *, force: bool, label: str = "") -> dict[str, Any] | None:
    """Why the plan is not worked on ``day`` (outside the plan, or a rest day unless ``force``),
    said in the log (after ``label``, if any) and as the run's result; None when it is."""
    outside = outside_plan(pid, day)
    said = f"{label}：" if label else ""
    if outside:
        logger().info("%s%s 不在规划期内，今日不运行（%s）", said, day, outside)
        return {"as_of": day.isoformat(), "skipped": outside}
    workday, note = working_day(day)
    if not workday and not force:
        logger().info(
            "%s%s 不是工作日（%s），今日不收集、不督办；下一个工作日照常运行",
            said,
            day,
            note or "休息日",
        )
        return {"as_of": day.isoformat(), "skipped": note or "休息日"}
    return None


@dataclass(frozen=True)
class Prepared:
    """One plan's morning: mail read, reports collected, lights, notices planned."""

    mailed: dict[str, int] | None
    collected: dict[str, int]
    lights: Lights
    planned: dict[str, int]

    def result(self) -> dict[str, Any]:
        """The run result's part for these stages."""
        return {
            **({"mail": self.mailed} if self.mailed is not None else {}),
            "collected": self.collected,
            "lights": {k.value: v for k, v in self.lights.status.summary.items()},
            "notices": self.planned,
        }


def named(stage: Task[P, R], label: str) -> Task[P, R]:
    """``stage`` with its runs named after ``label`` too (a run of every plan names the plan)."""
    return stage.with_options(task_run_name=f"{stage.name} · {label}") if label else stage


def prepare_plan(
    pid: str, day: date, partitions: list[str] | None = None, *, label: str = ""
) -> Prepared:
    """Read report mail (when ``DUBAN_IMAP_HOST`` is set), collect, light every item and plan
    the day's notices of one plan (stage runs named with ``label``, if any)."""
    mailed = named(read_report_mail, label)(pid) if get_settings().imap_host else None
    collected = named(collect_reports, label)(pid)
    lights = named(evaluate_lights, label)(pid, day)
    planned = (
        fan_out_notices(pid, day, partitions)
        if partitions
        else named(plan_notices, label)(pid, day)
    )
    return Prepared(mailed, collected, lights, planned)


def publish_plan(pid: str, day: date, lights: Lights, *, label: str = "") -> dict[str, Any]:
    """Publish one plan's view and queues, then each key task's page in a task run named after
    the key task ("T03 不断创新城乡社区服务机制"), ``PAGES_AT_ONCE`` at a time."""
    named(publish_plan_view, label)(pid, lights)
    queues = named(publish_desk, label)(pid, day)
    prefix = f"{label} " if label else ""
    running: deque[PrefectFuture[str]] = deque()
    for t in lights.status.tasks:
        if len(running) == PAGES_AT_ONCE:
            running.popleft().result()  # a failed page fails the run, as it did in turn
        name = f"{prefix}{t.task} {t.title}".replace("{", "{{").replace("}", "}}")  # a template
        running.append(publish_task_page.with_options(task_run_name=name).submit(pid, t.task, day))
    for page in running:
        page.result()
    return {"queues": queues}
