"""The nightly snapshot: the data directory (database and kept files) into the backups folder,
keeping the newest ``DUBAN_BACKUP_KEEP`` there (what `duban backup` does without ``--out``)."""

from __future__ import annotations

from typing import Any

from prefect import flow, tags

from config.settings import get_settings
from flows.common import alert_on_failure, logger, run_name, stage
from flows.forms import field
from models import clock
from models.backup import back_up, not_in_snapshot


@stage("备份快照")
def snapshot_stage() -> dict[str, Any]:
    """Write one snapshot and prune the folder; log what was written, pruned and left out."""
    settings = get_settings()
    for note in not_in_snapshot(settings):
        logger().warning("%s", note)
    result, pruned = back_up(settings, None, moment=clock.now())
    logger().info(
        "备份已写入 %s：%d 个文件，%d 字节；删除旧备份 %d 份",
        result.path,
        result.files,
        result.size,
        len(pruned),
    )
    return {
        "path": str(result.path),
        "files": result.files,
        "bytes": result.size,
        "pruned": [p.name for p in pruned],
    }


@flow(
    name="nightly-backup",
    flow_run_name=run_name,
    description="把数据目录备份到备份文件夹（只保留最新的 DUBAN_BACKUP_KEEP 份）。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
def nightly_backup(
    plan_id: str | None = field("规划编号", "只用于标记运行；备份的是整个数据目录", None),
) -> dict[str, Any]:
    """``plan_id`` only tags the run: the snapshot holds the whole data directory."""
    with tags("backup", *([plan_id] if plan_id else [])):
        return snapshot_stage()
