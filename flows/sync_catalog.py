"""Validate and load the plan catalogue into the database (what `duban catalog sync` does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from prefect import flow, tags
from prefect.artifacts import create_markdown_artifact

from config.settings import get_settings
from domain.queries.sync import sync_catalog as sync
from domain.rules.retirement import refuse_mass_retirement
from flows.common import alert_on_failure, engine, logger, stage
from flows.refusals import REFUSALS, refused, refusing
from flows.stages import artifact_key
from models.db import session_scope
from tasks_catalog.loader import load_catalog


@stage("同步目录")
def sync_stage(catalog: Path, allow_retire: bool) -> dict[str, Any]:
    """Sync, or ``{"refused": reason}`` for a catalogue that cannot be synced (nothing written;
    the stage itself did its job, so it does not fail)."""
    try:
        return _sync(catalog, allow_retire)
    except REFUSALS as exc:
        return {"refused": str(exc)}


def _sync(catalog: Path, allow_retire: bool) -> dict[str, Any]:
    loaded, warnings = load_catalog(catalog)
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
def sync_catalog(catalog: str | None = None, allow_retire: bool = False) -> dict[str, Any]:
    """``catalog``: a plan folder or file (default: DUBAN_CATALOG)."""
    path = Path(catalog) if catalog else get_settings().catalog
    with tags("sync"):
        result = sync_stage(path, allow_retire)
    if "refused" in result:
        return cast(dict[str, Any], refused(result["refused"]))  # see flows.refusals.refusing
    return result
