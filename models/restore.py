"""Restore a snapshot written by :mod:`models.backup` into a fresh data directory.

Everything is unpacked into a hidden folder beside the target and checked against the manifest
(every member listed, none extra, every SHA-256 equal, a schema this code knows) before the
folder takes the target's name: a damaged or foreign file leaves nothing behind. A target that
exists and is not empty is refused.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from pydantic import ValidationError

from models.backup import MANIFEST, VERSION, BackupError, Manifest, read_manifest
from models.migrate import alembic_config, head_revision

CHUNK = 1 << 20
DAMAGED = "已损坏或不完整"
ADVICE = "未写入任何内容；请改用另一份备份。"


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore_backup` wrote."""

    home: Path
    manifest: Manifest
    size: int
    needs_upgrade: bool  # the database is at an older schema: run `duban init`


def restore_backup(source: Path, home: Path) -> RestoreResult:
    """Unpack the snapshot ``source`` into ``home``, which must not exist or be empty."""
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}：请检查路径。")
    home = home.absolute()
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise BackupError(
            f"目标目录 {home} 不是空的：恢复只写入全新的数据目录，不覆盖现有数据。"
            "请用 --home 指定一个新目录，或先把现有目录移走。"
        )
    try:
        home.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=home.parent, prefix=f".{home.name}.restore-"))
    except OSError as exc:
        raise BackupError(f"无法在 {home.parent} 写入：{exc.strerror}。请换一个目录。") from None
    try:
        manifest, size = _unpack(source, staging)
        needs_upgrade = _check_schema(source, manifest)
        if home.exists():
            home.rmdir()
        staging.replace(home)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RestoreResult(home, manifest, size, needs_upgrade)


def _unpack(source: Path, staging: Path) -> tuple[Manifest, int]:
    """Extract every member into ``staging``, hashing as it goes; check them against the
    manifest. Returns the manifest and the bytes written."""
    digests: dict[str, str] = {}
    manifest_data: bytes | None = None
    try:
        with tarfile.open(source, "r|gz") as tar:
            for member in tar:
                if member.name == MANIFEST and member.isfile():
                    handle = tar.extractfile(member)
                    assert handle is not None
                    manifest_data = handle.read()
                    continue
                if member.name in digests:
                    raise _damaged(source, f"成员 {member.name} 出现了两次")
                digests[member.name] = _extract(tar, member, staging, source)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(
            f"{source} 不是完好的 duban 备份（无法作为 tar.gz 读完：{exc}）。{ADVICE}"
        ) from None
    except OSError as exc:
        raise BackupError(f"恢复时读写失败：{exc}。{ADVICE}") from None
    if manifest_data is None:
        raise BackupError(
            f"{source} 不是 duban 备份，或{DAMAGED}：其中没有清单 {MANIFEST}。{ADVICE}"
        )
    try:
        manifest = read_manifest(manifest_data)
    except (ValueError, ValidationError):
        raise BackupError(f"{source} 不是 duban 备份：清单 {MANIFEST} 无法识别。{ADVICE}") from None
    if manifest.version > VERSION:
        raise BackupError(
            f"{source} 的格式版本为 {manifest.version}，本程序只认到 {VERSION}："
            "请用较新版本的 duban 恢复。"
        )
    listed = {m.path: m.sha256 for m in manifest.members}
    for path in sorted(listed.keys() - digests.keys()):
        raise _damaged(source, f"清单中的 {path} 不在文件中")
    for path in sorted(digests.keys() - listed.keys()):
        raise _damaged(source, f"{path} 不在清单中")
    for path, digest in sorted(digests.items()):
        if listed[path] != digest:
            raise _damaged(source, f"{path} 的校验和（SHA-256）与清单不符")
    return manifest, sum(m.size for m in manifest.members)


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, staging: Path, source: Path) -> str:
    """Write one regular-file member under ``staging``; returns its SHA-256."""
    if not member.isfile():
        raise _damaged(source, f"{member.name} 不是普通文件")
    try:
        safe = tarfile.data_filter(member, str(staging))
    except tarfile.FilterError:
        raise _damaged(source, f"{member.name} 的路径指向数据目录之外") from None
    target = staging / safe.name
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tar.extractfile(member)
    assert handle is not None
    digest = hashlib.sha256()
    with target.open("xb") as written:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            written.write(chunk)
    target.chmod((safe.mode or 0o600) & 0o700 | 0o600)
    return digest.hexdigest()


def _check_schema(source: Path, manifest: Manifest) -> bool:
    """Refuse a database newer than this code; True when it is older (upgrade it)."""
    revision = manifest.schema_revision
    if revision is None:
        return False
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"{source} 的数据库结构版本 {revision} 比本程序新（或不认识）："
            "请用写出这份备份的 duban 版本（或更新的版本）恢复。"
        )
    return revision != head_revision()


def _damaged(source: Path, what: str) -> BackupError:
    return BackupError(f"{source} {DAMAGED}：{what}。{ADVICE}")
