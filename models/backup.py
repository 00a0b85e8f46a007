"""A consistent snapshot of the data directory — database and kept files — in one tar.gz file.

The snapshot holds the data directory's lock exclusive (:mod:`models.home_lock`) while it copies,
so a file kept together with a database change is either wholly in it or wholly not. SQLite files
are copied with SQLite's online backup API (a running daily cycle may go on writing); a
PostgreSQL database is left to ``pg_dump``. ``manifest.json``, the last member, names every other
member with its SHA-256; :mod:`models.restore` checks them before it writes anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from config.errors import InputError
from config.settings import Settings, mask_url
from models.db import engine_for, sqlite_file
from models.home_lock import LOCK_NAME, home_lock
from models.schema_version import current_revision

FORMAT = "duban-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
SKIPPED_SUFFIXES = (".tmp", ".pid")
"""Half-written files (``domain.adapters.files.write_atomically``) and a running server's pid
file."""
SNAPSHOT_NAME = re.compile(r"^duban-(\d{8}-\d{6})(?:-(\d+))?\.tar\.gz$")
"""The names :func:`snapshot_path` gives; retention only ever deletes files named so."""


class BackupError(InputError):
    """A backup cannot be written or restored for a reason the operator can fix (a path, a
    damaged or foreign file, a non-empty target): nothing was written."""


class Member(BaseModel):
    """One file of the snapshot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    sha256: str
    size: int


class Manifest(BaseModel):
    """What a backup holds and how to check it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["duban-backup"]
    version: int
    created_at: datetime
    source_home: str
    backend: str
    database: str | None  # the member holding the SQLite database, None on PostgreSQL
    schema_revision: str | None
    members: list[Member]


@dataclass(frozen=True)
class BackupResult:
    """What :func:`take_backup` wrote."""

    path: Path
    manifest: Manifest
    size: int
    skipped: list[str] = field(default_factory=list)  # links, sockets and other non-files

    @property
    def files(self) -> int:
        """Members other than the database."""
        return sum(1 for m in self.manifest.members if m.path != self.manifest.database)


def is_skipped(name: str) -> bool:
    """Whether a file of this name is never backed up: the lock, temporary files, pid files."""
    return name == LOCK_NAME or name.endswith(SKIPPED_SUFFIXES)


def to_prune(names: list[str], keep: int) -> list[str]:
    """The snapshot names beyond the newest ``keep`` (by the time and counter in the name);
    other names are ignored."""
    order = {}
    for name in names:
        if found := SNAPSHOT_NAME.match(name):
            order[name] = (found.group(1), int(found.group(2) or 0))
    return sorted(order, key=order.__getitem__, reverse=True)[keep:]


def snapshot_path(folder: Path, moment: datetime) -> Path:
    """A new file name in ``folder`` for a snapshot taken at ``moment`` (its local time)."""
    base = f"duban-{moment:%Y%m%d-%H%M%S}"
    path, n = folder / f"{base}.tar.gz", 1
    while path.exists():
        path, n = folder / f"{base}-{n}.tar.gz", n + 1
    return path


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete the snapshots in ``folder`` beyond the newest ``keep``; returns what went."""
    if not folder.is_dir():
        return []
    gone = [folder / name for name in to_prune([p.name for p in folder.iterdir()], keep)]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def backup_folder(settings: Settings) -> Path:
    """Where snapshots go: ``DUBAN_BACKUPS``, default ``<home>/backups``."""
    return settings.backups or settings.home / "backups"


def back_up(
    settings: Settings, out: Path | None, *, moment: datetime
) -> tuple[BackupResult, list[Path]]:
    """Snapshot the configured data directory to ``out``, or to a new file in the backups
    folder that is then pruned to ``DUBAN_BACKUP_KEEP`` snapshots; returns what was written
    and what was pruned."""
    home, folder = settings.home.resolve(), backup_folder(settings).resolve()
    if folder == home:
        raise BackupError(f"DUBAN_BACKUPS 不能是数据目录 {home} 本身：请指定另一个文件夹。")
    url = settings.resolved_database_url
    revision = None
    if sqlite_database(url) is None:
        try:
            revision = current_revision(engine_for(url))
        except OperationalError as exc:
            raise BackupError(
                f"无法连接数据库 {mask_url(url)}"
                f"（{exc.orig}）：请检查 DUBAN_DATABASE_URL 和数据库服务。"
            ) from None
    local = moment.astimezone(ZoneInfo(settings.schedule_timezone))
    target = out or snapshot_path(folder, local)
    result = take_backup(
        home, url, target, moment=moment, schema_revision=revision, leave_out=(folder,)
    )
    pruned = prune_backups(folder, settings.backup_keep) if out is None else []
    return result, pruned


def not_in_snapshot(settings: Settings) -> list[str]:
    """What of the record a snapshot of the data directory leaves out, as notes for a person."""
    home = settings.home.resolve()
    notes = []
    if sqlite_database(settings.resolved_database_url) is None:
        notes.append(
            "数据库为 PostgreSQL：本备份只含数据目录中的文件。请另用 pg_dump 备份数据库，"
            "例如 pg_dump --format=custom --file=duban.dump <数据库地址>；"
            "恢复用 pg_restore --dbname=<新数据库> duban.dump。"
        )
    folders = {
        "DUBAN_INBOX": settings.resolved_inbox,
        "DUBAN_BRIEFINGS": settings.resolved_briefings,
        "DUBAN_CALENDAR_OVERRIDES": settings.resolved_calendar_overrides,
    }
    for name, path in folders.items():
        if path is not None and path.exists() and not path.resolve().is_relative_to(home):
            notes.append(f"{name} 指向数据目录之外的 {path}：它不在本备份中，请另行备份。")
    if settings.workbook_secret is not None:
        notes.append(
            "报表签名密钥由 DUBAN_WORKBOOK_SECRET 提供，不在本备份中："
            "恢复后须设置同一个值，已发出的报表才能验签。"
        )
    return notes


def sqlite_database(database_url: str) -> Path | None:
    """The database file of an SQLite URL, or None for another backend."""
    if make_url(database_url).get_backend_name() != "sqlite":
        return None
    path = sqlite_file(database_url)
    if path is None:  # an in-memory database
        raise BackupError(f"数据库 {database_url} 不是文件，无法备份：请检查 DUBAN_DATABASE_URL。")
    return path.resolve()


def take_backup(
    home: Path,
    database_url: str,
    out: Path,
    *,
    moment: datetime,
    schema_revision: str | None = None,
    leave_out: tuple[Path, ...] = (),
) -> BackupResult:
    """Write a snapshot of ``home`` (and its SQLite database, wherever it lives) to ``out``,
    mode 0600, holding the data directory's lock exclusive. ``leave_out``: folders not to copy
    (the backups folder). ``schema_revision`` is recorded for a non-SQLite database."""
    home = home.resolve()
    if not home.is_dir():
        raise BackupError(f"数据目录 {home} 不存在：请检查 DUBAN_HOME。")
    out = out.resolve()
    if out.exists():
        raise BackupError(f"{out} 已存在：备份不覆盖已有文件，请换一个文件名。")
    database = sqlite_database(database_url)
    if database is not None and not database.is_file():
        raise BackupError(
            f"数据库文件 {database} 不存在：这个数据目录还没有数据。请先运行 duban init。"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise BackupError(f"无法在 {out.parent} 写入备份：{exc.strerror}。请换一个位置。") from None
    os.close(handle)  # mkstemp made it 0600; the tar is written to it by name
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        skip = {staging, *(p.resolve() for p in leave_out)}
        with (
            home_lock(home, exclusive=True),
            tarfile.open(temporary, "w:gz", compresslevel=6) as tar,
        ):
            writer = _Writer(tar, staging)
            member = _database_member(home, database) if database is not None else None
            if database is not None and member is not None:
                schema_revision = writer.add_sqlite(database, member)
            skipped = writer.add_tree(home, skip, database)
            manifest = Manifest(
                format=FORMAT,
                version=VERSION,
                created_at=moment,
                source_home=str(home),
                backend=make_url(database_url).get_backend_name(),
                database=member,
                schema_revision=schema_revision,
                members=writer.members,
            )
            data = manifest.model_dump_json(indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(moment.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
        with Path(temporary).open("rb+") as written:
            os.fsync(written.fileno())
        Path(temporary).replace(out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupResult(out, manifest, out.stat().st_size, skipped)


def _database_member(home: Path, database: Path) -> str:
    """The database's path inside the snapshot: where it sits in ``home``, else ``duban.db``."""
    if database.is_relative_to(home):
        return database.relative_to(home).as_posix()
    return "duban.db"


class _HashingReader(io.RawIOBase):
    """A file read once: what tar stores is what is hashed."""

    def __init__(self, handle: io.BufferedReader) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.digest.update(chunk)
        return chunk


class _Writer:
    """Adds files to the tar and records them for the manifest."""

    def __init__(self, tar: tarfile.TarFile, staging: Path) -> None:
        self.tar, self.staging = tar, staging
        self.members: list[Member] = []
        self.names: set[str] = set()

    def add_file(self, source: Path, member: str) -> None:
        with source.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            info = tarfile.TarInfo(member)
            info.size, info.mtime = stat.st_size, int(stat.st_mtime)
            info.mode = stat.st_mode & 0o777
            reader = _HashingReader(handle)
            self.tar.addfile(info, reader)
        self.members.append(Member(path=member, sha256=reader.digest.hexdigest(), size=info.size))
        self.names.add(member)

    def add_sqlite(self, source: Path, member: str) -> str | None:
        """A consistent copy of a live SQLite database, through the online backup API; returns
        the copy's schema revision (Alembic's), if it has one."""
        copy = self.staging / "copy.db"
        try:
            _sqlite_snapshot(source, copy)
        except sqlite3.DatabaseError as exc:
            raise BackupError(
                f"数据库文件 {source} 无法读取（{exc}）：它可能已损坏。未写入备份；"
                "请检查该文件，必要时从上一份备份恢复。"
            ) from None
        try:
            self.add_file(copy, member)
            return _sqlite_revision(copy)
        finally:
            copy.unlink()

    def add_tree(self, home: Path, skip: set[Path], database: Path | None) -> list[str]:
        """Every kept file under ``home`` in name order; returns what is not a plain file."""
        skipped: list[str] = []
        for folder, dirs, files in os.walk(home):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if (here / d).resolve() not in skip)
            for name in sorted(files):
                path = here / name
                member = path.relative_to(home).as_posix()
                if is_skipped(name) or member in self.names or _is_companion(path):
                    continue
                if path.is_symlink() or not path.is_file():
                    skipped.append(member)
                elif path.resolve() == database:
                    continue
                elif _is_sqlite(path):
                    self.add_sqlite(path, member)
                else:
                    self.add_file(path, member)
        return skipped


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def _is_companion(path: Path) -> bool:
    """An SQLite database's write-ahead log, shared memory or journal (its copy has them)."""
    for suffix in SQLITE_COMPANIONS:
        if path.name.endswith(suffix):
            base = path.with_name(path.name.removesuffix(suffix))
            if base.is_file() and _is_sqlite(base):
                return True
    return False


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """Copy a live SQLite database with its online backup API (one step: one consistent read)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _sqlite_revision(path: Path) -> str | None:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def read_manifest(data: bytes) -> Manifest:
    """The manifest from its JSON; ValueError if it is not one of ours."""
    loaded = json.loads(data.decode("utf-8"))
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        raise ValueError("not a duban backup manifest")
    return Manifest.model_validate(loaded)
