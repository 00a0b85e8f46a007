"""`duban backup` and `duban restore`: a consistent snapshot of the data directory in one file,
and its restore into a fresh data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from duban.app import app, out, warn
from models import clock


def size_text(size: int) -> str:
    """Bytes for a person: ``1.5 MB``, ``820 KB``."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} 字节"


@app.command()
def backup(
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="写入的文件（.tar.gz）；默认：在 DUBAN_BACKUPS（<DUBAN_HOME>/backups）中"
            "新建一个，并只保留最新的 DUBAN_BACKUP_KEEP 份。",
        ),
    ] = None,
) -> None:
    """把数据目录（数据库和全部留存文件）一致地备份成一个文件，每日流程运行时也可备份；
    文件含填报表签名密钥，权限设为 0600。"""
    from config.settings import get_settings
    from models.backup import back_up, not_in_snapshot

    settings = get_settings()
    warn(not_in_snapshot(settings))
    result, pruned = back_up(settings, out_file, moment=clock.now())
    manifest = result.manifest
    database = "SQLite 数据库 + " if manifest.database else ""
    out.print(
        f"已写入备份 {result.path}：{database}{result.files} 个文件，"
        f"共 {size_text(result.size)}（数据库结构版本 {manifest.schema_revision or '未知'}）。",
        markup=False,
    )
    out.print(
        "该文件含报表签名密钥（workbook.key），权限已设为仅本人可读写（0600）：请妥善保管，勿外传。"
    )
    if result.skipped:
        names = "、".join(result.skipped[:5])
        out.print(
            f"未备份 {len(result.skipped)} 个非普通文件（链接、套接字等）：{names}", markup=False
        )
    if pruned:
        out.print(
            f"按保留份数 {settings.backup_keep} 删除了 {len(pruned)} 份旧备份："
            + "、".join(p.name for p in pruned),
            markup=False,
        )
    out.print(f"恢复：duban restore {result.path} --home <新的数据目录>", markup=False)


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="`duban backup` 写出的备份文件。")],
    home: Annotated[
        Path | None,
        typer.Option(help="新的数据目录（须不存在或为空；默认 DUBAN_HOME）。"),
    ] = None,
) -> None:
    """把备份恢复到新的数据目录，逐个文件对照备份清单核验；
    拒绝损坏的或不是 duban 备份的文件，也拒绝非空的目标目录。"""
    from config.settings import get_settings
    from models.restore import restore_backup

    settings = get_settings()
    target = home or settings.home
    result = restore_backup(source, target)
    manifest = result.manifest
    zone = settings.schedule_timezone
    taken = manifest.created_at.astimezone(ZoneInfo(zone))
    database = f"数据库（{manifest.database}）+ " if manifest.database else ""
    files = len(manifest.members) - (1 if manifest.database else 0)
    out.print(
        f"已从 {source} 恢复到 {result.home}：{database}{files} 个文件，"
        f"共 {size_text(result.size)}；"
        f"备份时间 {taken:%Y年%-m月%-d日 %H:%M:%S} （{zone}），原数据目录 {manifest.source_home}。",
        markup=False,
    )
    if manifest.database not in (None, "duban.db"):
        out.print(
            f"数据库在 {result.home / str(manifest.database)}：请设置 "
            f"DUBAN_DATABASE_URL=sqlite:///{result.home / str(manifest.database)}",
            markup=False,
        )
    if manifest.database is None:
        out.print("这份备份不含数据库（PostgreSQL）：请用 pg_restore 恢复同时刻的 pg_dump 文件。")
    if result.needs_upgrade:
        out.print(
            f"数据库结构较旧：请先运行 DUBAN_HOME={result.home} duban init 升级。", markup=False
        )
    out.print(f"下一步：DUBAN_HOME={result.home} duban status", markup=False)
