"""Validate and load the plan catalogue into the database (what `duban catalog sync` does); with
several plans, each plan's deployment refuses another plan's catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from prefect import flow, tags
from prefect.artifacts import create_markdown_artifact

from config.errors import InputError
from config.settings import get_settings
from domain.queries.sync import sync_catalog as sync
from domain.rules.retirement import refuse_mass_retirement
from flows.common import alert_on_failure, engine, logger, stage
from flows.forms import field
from flows.refusals import REFUSALS, refused, refusing
from flows.stages import artifact_key
from models.db import session_scope
from tasks_catalog.loader import load_catalog


@stage("同步目录")
def sync_stage(catalog: Path, allow_retire: bool, plan_id: str | None = None) -> dict[str, Any]:
    """Sync, or ``{"refused": reason}`` for a catalogue that cannot be synced, or that is not
    plan ``plan_id``'s when given (nothing written; the stage itself did its job, so it does
    not fail)."""
    try:
        return _sync(catalog, allow_retire, plan_id)
    except REFUSALS as exc:
        return {"refused": str(exc)}


def _sync(catalog: Path, allow_retire: bool, plan_id: str | None) -> dict[str, Any]:
    loaded, warnings = load_catalog(catalog)
    if plan_id and loaded.plan.id != plan_id:
        raise InputError(
            f"目录 {catalog} 是规划 {loaded.plan.id}（{loaded.plan.title}）的，"
            f"不是本部署的规划 {plan_id}，未写入任何内容；请在“目录位置”填写规划 {plan_id} "
            "的目录（要载入另一个规划，请清空“规划”一栏）"
        )
    for warning in warnings:
        logger().warning("%s", warning.message)
    with session_scope(engine()) as session:
        report = sync(session, loaded)
        if not allow_retire:
            refuse_mass_retirement(report)
    plan_id = loaded.plan.id
    changes = "\n".join(f"- {d}" for d in report.details[:200]) or "- 无变化"
    create_markdown_artifact(
        f"# 目录同步：{loaded.plan.title}\n\n{changes}\n",
        key=artifact_key(plan_id, "sync"),
        description="目录同步",
    )
    logger().info(
        "目录同步 %s：%s",
        plan_id,
        "无变化" if report.unchanged else f"{len(report.details)} 处变化",
    )
    return {"plan": plan_id, "unchanged": report.unchanged, "changes": len(report.details)}


@flow(
    name="sync-catalog",
    description="校验 YAML 规划目录并载入数据库。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def sync_catalog(
    catalog: str | None = field("目录位置", "规划目录的文件夹或文件；留空用 DUBAN_CATALOG", None),
    allow_retire: bool = field("允许大量撤销", "勾选后允许一次撤销大量事项（慎用）", False),
    plan_id: str | None = field(
        "规划", "目录须是这个规划的，否则不同步（留空：不核对，例如载入一个新规划）", None
    ),
) -> dict[str, Any]:
    """``catalog``: a plan folder or file (default: DUBAN_CATALOG); ``plan_id``: the plan it
    must hold (a deployment of one plan among several)."""
    path = Path(catalog) if catalog else get_settings().catalog
    with tags("sync"):
        result = sync_stage(path, allow_retire, plan_id)
    if "refused" in result:
        return cast(dict[str, Any], refused(result["refused"]))  # see flows.refusals.refusing
    return result
