"""The guard against a catalogue sync that retires a large share of a plan's open items."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.errors import InputError

if TYPE_CHECKING:
    from domain.rules.sync_report import SyncReport

MASS_RETIRE_SHARE = 0.2
"""A sync retiring more than this share of the open items is refused unless explicitly allowed."""


def refuse_mass_retirement(report: SyncReport) -> None:
    """Raise InputError if the sync retires a large share of the open items (a truncated file?)."""
    retired = report.retired.get("work items", 0)
    if retired > max(10, MASS_RETIRE_SHARE * report.live_items_before):
        raise InputError(
            f"拒绝同步 {report.plan_id}：这次同步会撤销 {report.live_items_before} 项在办事项中的 "
            f"{retired} 项。如果目录文件被误清空或截断，请恢复它；如果确要删除，请加 "
            "--allow-retire 重新运行。没有写入任何内容。"
        )
