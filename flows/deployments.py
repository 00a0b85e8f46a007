"""The schedules and deployments, defined once for `duban serve` (Prefect) and `duban scheduler`
(APScheduler, embedded mode).

Scheduled: the daily cycle (``DUBAN_DAILY_CRON``, default 08:30), the weekly briefing
(``DUBAN_WEEKLY_CRON``, default Friday 16:00), the monthly and quarterly ones
(``DUBAN_MONTHLY_CRON``, ``DUBAN_QUARTERLY_CRON``: 09:00 on the first fifteen days of a month, or
of a quarter's first month; each flow acts only on the first working day after its period), the
考评通报 (``DUBAN_ASSESSMENT_CRON``: 09:30 on the first fifteen days of a quarter's first
month), all in ``DUBAN_SCHEDULE_TIMEZONE`` (Asia/Shanghai), and the nightly snapshot of the data
directory (``DUBAN_BACKUP_CRON``, default 02:00). An empty cron turns the monthly, quarterly,
assessment or backup schedule off. On demand, from the Prefect UI's run form: the catalogue sync
and the coordinator's actions (extension, verify, return, re-send), and the scheduled flows with
other parameters (a chosen week's briefing, say). With several plans (:func:`deployments_for`),
each plan's briefings, 考评通报 and actions are its own deployments, and the daily cycle and the
backup are one deployment for all (the day's reminders go out once: one digest per person).
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from config.settings import Settings
from flows.forms import chinese_form

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
    jobs = [
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
    for key, flow, cron, description in (
        (
            "monthly-briefing",
            "flows.period_briefing:monthly_briefing",
            settings.monthly_cron,
            "每月后第一个工作日：生成上月的月通报，协调员审核后发送县领导",
        ),
        (
            "quarterly-briefing",
            "flows.period_briefing:quarterly_briefing",
            settings.quarterly_cron,
            "每季度后第一个工作日：生成上季度的季度推进，协调员审核后发送县领导",
        ),
        (
            "assessment-report",
            "flows.assessment_report:assessment_report",
            settings.assessment_cron,
            "每季度、每年后第一个工作日：生成考评通报，协调员审核后发送县领导",
        ),
    ):
        if cron.strip():
            jobs.append(Scheduled(key, flow, cron, tz, description))
    if settings.backup_cron.strip():
        jobs.append(
            Scheduled(
                "nightly-backup",
                "flows.nightly_backup:nightly_backup",
                settings.backup_cron,
                tz,
                "每晚：备份数据目录（数据库与全部留存文件），保留最近几份",
            )
        )
    return jobs


def load_flow(reference: str) -> Flow[..., Any]:
    module, attribute = reference.split(":")
    flow: Flow[..., Any] = getattr(importlib.import_module(module), attribute)
    return flow


LABELS = {
    "daily-cycle": "每日督办",
    "weekly-briefing": "每周简报",
    "monthly-briefing": "月通报",
    "quarterly-briefing": "季度推进",
    "assessment-report": "考评通报",
    "nightly-backup": "夜间备份",
    "sync-catalog": "同步规划目录",
    "approve-extension": "延期审批",
    "verify-item": "核验销号",
    "return-item": "退回重报",
    "resend-notice": "重发提醒",
}
"""Each deployment's name in the Prefect UI (with its plan): what a coordinator looks for."""


SERVED_BY = (
    "\n\n提交后由 `duban serve` 执行，通常几秒内完成；若显示“Late”并注明没有 duban serve 在运行，"
    "请联系系统管理员启动它，本次运行会在它启动后执行。"
)
"""Said on every form's page: a run waits for `duban serve` (`duban server` marks the runs
nothing serves, :mod:`duban.unserved`)."""


def deployment_name(flow_name: str, plan_id: str) -> str:
    """``核验销号 · shidian-2021-2025``: distinct per flow, and per plan."""
    return f"{LABELS.get(flow_name, flow_name)} · {plan_id}"


def deployments(settings: Settings, plan_id: str) -> list[RunnerDeployment]:
    """Every deployment for one plan, named for what it does and the plan, tagged with the
    plan; its run form in Chinese (:mod:`flows.forms`)."""
    out: list[RunnerDeployment] = []  # to_deployment is sync here (not in an event loop)
    for s in scheduled(settings):
        params: dict[str, Any] = {"plan_id": plan_id}
        if s.key == "daily-cycle" and settings.partition_codes:
            params["partitions"] = settings.partition_codes
        out.append(scheduled_deployment(s, plan_id, params, [plan_id]))
    for reference in ON_DEMAND:
        flow = load_flow(reference)
        checks_plan = "plan_id" in flow.parameters.properties and flow.name not in ANY_PLAN
        params = {"plan_id": plan_id} if checks_plan else {}
        deployment = cast(
            "RunnerDeployment",
            flow.to_deployment(
                name=deployment_name(flow.name, plan_id),
                parameters=params,
                tags=[plan_id],
                description=f"{flow.description}{SERVED_BY}",
            ),
        )
        chinese_form(deployment._parameter_openapi_schema.properties, flow.fn)
        out.append(deployment)
    return out


def scheduled_deployment(
    s: Scheduled, label: str, params: dict[str, Any], tags: list[str]
) -> RunnerDeployment:
    """The deployment of the scheduled flow ``s``, named with ``label`` (a plan's id, or
    :data:`EVERY_PLAN`), its run form in Chinese."""
    from prefect.schedules import Cron  # noqa: PLC0415 - import Prefect only when serving

    flow = load_flow(s.flow)
    deployment = cast(
        "RunnerDeployment",
        flow.to_deployment(
            name=deployment_name(flow.name, label),
            schedules=[Cron(s.cron, timezone=s.timezone)],
            parameters=params,
            tags=tags,
            description=s.description,
        ),
    )
    chinese_form(deployment._parameter_openapi_schema.properties, flow.fn)
    return deployment


ANY_PLAN = frozenset({"sync-catalog"})
"""On demand for whichever plan its input holds: the catalogue sync (one plan's deployment
refuses another plan's catalogue only when there are several, :data:`ONE_CATALOG`)."""
ONE_CATALOG = (
    "\n\n本部署只同步规划 {plan} 的目录。数据库只记下各规划目录内容的校验值，不记目录位置；"
    "“目录位置”留空时用 DUBAN_CATALOG（{path}），它可能是另一个规划的目录：请填写规划 {plan} "
    "的目录位置。目录若属于另一个规划，本次运行不写入任何内容并说明原因；要载入一个新规划，"
    "请清空“规划”一栏。"
)
"""Said on the run form of each plan's catalogue sync when several plans are served."""

EVERY_PLAN = "全部规划"
"""The label of the deployments that serve every plan at once."""
SHARED = frozenset({"daily-cycle", "nightly-backup"})
"""Scheduled once for every plan: the daily cycle (one digest per recipient across the plans)
and the backup (of the whole data directory)."""


def deployments_for(settings: Settings, plan_ids: list[str]) -> list[RunnerDeployment]:
    """The deployments of one plan (:func:`deployments`), or of several: each plan's briefings,
    actions and catalogue sync (refusing another plan's catalogue) under its id, and one daily
    cycle and one backup for them all, named ``每日督办 · 全部规划`` (a day's reminders go out
    once, one digest per recipient)."""
    if len(plan_ids) == 1:
        return deployments(settings, plan_ids[0])
    out = []
    for pid in plan_ids:
        for d in deployments(settings, pid):
            if d.flow_name in ANY_PLAN:  # this plan's catalogue only, said on its run form
                d.parameters = {"plan_id": pid}
                d.description = (
                    f"{d.description}{ONE_CATALOG.format(plan=pid, path=settings.catalog)}"
                )
            if d.flow_name not in SHARED:
                out.append(d)
    for s in scheduled(settings):
        if s.key in SHARED:
            out.append(scheduled_deployment(s, EVERY_PLAN, {}, [*plan_ids]))
    return out


ROOT = Path(__file__).resolve().parent.parent
PARTITION_ENTRYPOINT = "flows/partitioned.py:daily_cycle_partition"


def deploy_partitions(settings: Settings, plan_id: str, pool: str) -> UUID:
    """Register ``daily-cycle-partition/<plan>`` on the work pool ``pool`` (a process pool, made
    if missing). Its workers run the code from ``DUBAN_CODE_SOURCE`` (a git URL) or from this
    checkout's folder, which must then be at the same path on every worker machine."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415 - Prefect when deploying
    from prefect.client.schemas.actions import WorkPoolCreate  # noqa: PLC0415
    from prefect.exceptions import ObjectAlreadyExists  # noqa: PLC0415

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    partition_flow = load_flow("flows.partitioned:daily_cycle_partition")
    # from_source and deploy are sync here (we are not in an event loop)
    remote = cast(
        "Flow[..., Any]",
        partition_flow.from_source(
            source=settings.code_source or str(ROOT), entrypoint=PARTITION_ENTRYPOINT
        ),
    )
    deployment_id = remote.deploy(
        name=plan_id,
        work_pool_name=pool,
        build=False,
        push=False,
        tags=[plan_id],
        description="督办提醒的一个分区（由每日运行按分区启动）",
        print_next_steps=False,
        ignore_warnings=True,  # Prefect's hint to use .serve instead: not what is wanted here
    )
    return cast(UUID, deployment_id)
