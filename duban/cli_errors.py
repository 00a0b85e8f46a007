"""What stops a command, as one Chinese message per line for ``main`` (exit status 2).

A person's mistake (a setting, a folder without permission) gets its message and nothing else; a
fault of the system that still has a plain meaning (a damaged database file) gets its message
and its traceback in the fault log. Anything else is not explained here and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from config.errors import SettingError
from config.settings import get_settings, hide_passwords
from models.db import damaged_sqlite, database_setting, sqlite_read_only

_PERSON_ERRNOS = {
    errno.EACCES: "没有权限",
    errno.EPERM: "不允许这样操作",
    errno.EROFS: "所在的文件系统只读",
    errno.ENOTDIR: "路径中有一段是文件，不是目录",
    errno.EEXIST: "已有同名的文件",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.ENOENT: "没有这个文件或目录",
}


def os_words(exc: OSError) -> str:
    """Why a file could not be read or written, in Chinese where the cause is a person's."""
    return _PERSON_ERRNOS.get(exc.errno or 0) or exc.strerror or str(exc)


@dataclass(frozen=True)
class Explained:
    """The lines to print, and whether the traceback belongs in the fault log."""

    lines: list[str]
    fault: bool = False


def fault_log() -> Path:
    """Where tracebacks of explained faults go: ``$XDG_STATE_HOME/duban/faults.log``, outside
    the data directory (which may be the thing that is broken)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "duban" / "faults.log"


def record_fault(exc: BaseException) -> Path | None:
    """Append ``exc``'s traceback (URL passwords hidden) to the fault log; the log's path, or
    None if it cannot be written."""
    path = fault_log()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat()} {' '.join(sys.argv)}\n")
            log.write(hide_passwords("".join(traceback.format_exception(exc))))
    except OSError:
        return None
    return path


def explain(exc: BaseException) -> Explained | None:
    """The message for ``exc`` if it is one a person can act on; None otherwise."""
    if isinstance(exc, SettingError):
        return Explained(exc.lines)
    if isinstance(exc, DBAPIError) and damaged_sqlite(exc):
        return Explained(
            [
                f"数据库文件已损坏（{_where()}）：它不是完整的 SQLite 数据库。"
                "请从备份恢复（`duban restore`），或把 DUBAN_HOME 改为新的数据目录后运行 "
                f"`duban init`。 ({str(exc.orig).strip()})"
            ],
            fault=True,
        )
    if isinstance(exc, DBAPIError) and sqlite_read_only(exc):
        return Explained(
            [
                f"数据目录不可写（{_where()}）：请检查目录和其中文件的权限，或改为可写的目录。"
                f" ({str(exc.orig).strip()})"
            ]
        )
    if isinstance(exc, OSError) and exc.errno in _PERSON_ERRNOS and exc.filename:
        path = Path(os.fsdecode(exc.filename))
        owner = _setting_holding(path)
        where = f"（{owner}）" if owner else ""
        return Explained(
            [
                f"无法写入 {path}{where}：{_PERSON_ERRNOS[exc.errno]}。请检查该目录的权限，"
                f"或在设置中改为可写的目录。 ({exc.strerror})"
            ]
        )
    return None


def _where() -> str:
    try:
        return database_setting()
    except SettingError:
        return "DUBAN_HOME"


def _setting_holding(path: Path) -> str | None:
    """The folder setting (DUBAN_INBOX, DUBAN_BRIEFINGS, DUBAN_HOME) ``path`` lies in, as
    ``NAME=folder``."""
    try:
        settings = get_settings()
    except SettingError:
        return None
    folders = (
        ("DUBAN_INBOX", settings.resolved_inbox),
        ("DUBAN_BRIEFINGS", settings.resolved_briefings),
        ("DUBAN_HOME", settings.home),
    )
    for name, folder in folders:
        if path == folder or folder in path.parents:
            return f"{name}={folder}"
    return None
