"""The schedules and deployments, defined once for `duban serve` (Prefect) and `duban scheduler`
(APScheduler, embedded mode).

Scheduled: the daily cycle (``DUBAN_DAILY_CRON``, default 08:30) and the weekly briefing
(``DUBAN_WEEKLY_CRON``, default Friday 16:00), both in ``DUBAN_SCHEDULE_TIMEZONE``
(Asia/Shanghai). On demand, from the Prefect UI's run form: the catalogue sync and the
coordinator's actions (extension, verify, return, re-send), and the two scheduled flows with
other parameters (a chosen week's briefing, say).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from config.settings import Settings

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment


@dataclass(frozen=True)
class Scheduled:
    """A flow that runs on a cron schedule."""

    key: str
    flow: str  # "module:attribute", importable (APScheduler stores jobs by reference)
    cron: str
    timezone: str
    description: str


ON_DEMAND = (
    "flows.sync_catalog:sync_catalog",
    "flows.actions:approve_extension",
    "flows.actions:verify",
    "flows.actions:return_item",
    "flows.actions:resend_notice",
)


def scheduled(settings: Settings) -> list[Scheduled]:
    tz = settings.schedule_timezone
    return [
        Scheduled(
            "daily-cycle",
            "flows.daily_cycle:daily_cycle",
            settings.daily_cron,
            tz,
            "每个工作日：收集报送、亮灯、督办提醒、发送、更新看板",
        ),
        Scheduled(
            "weekly-briefing",
            "flows.weekly_briefing:weekly_briefing",
            settings.weekly_cron,
            tz,
            "每周：生成工作简报，协调员审核后发送县领导",
        ),
    ]


def load_flow(reference: str) -> Flow[..., Any]:
    module, attribute = reference.split(":")
    flow: Flow[..., Any] = getattr(importlib.import_module(module), attribute)
    return flow


def deployments(settings: Settings, plan_id: str) -> list[RunnerDeployment]:
    """Every deployment for one plan, named after the plan, tagged with it."""
    from prefect.schedules import Cron  # noqa: PLC0415 - import Prefect only when serving

    out: list[Any] = []  # to_deployment is sync here (we are not in an event loop)
    for s in scheduled(settings):
        out.append(
            load_flow(s.flow).to_deployment(
                name=plan_id,
                schedules=[Cron(s.cron, timezone=s.timezone)],
                parameters={"plan_id": plan_id},
                tags=[plan_id],
                description=s.description,
            )
        )
    for reference in ON_DEMAND:
        flow = load_flow(reference)
        params = {"plan_id": plan_id} if "plan_id" in flow.parameters.properties else {}
        out.append(flow.to_deployment(name=plan_id, parameters=params, tags=[plan_id]))
    return out
