"""Snapshots of a data directory: what goes in, what never does, and a restore that checks
every byte against the manifest before it writes anything where it was asked to."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import sqlite3
import stat
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.backup import (
    MANIFEST,
    BackupError,
    is_skipped,
    prune_backups,
    snapshot_path,
    take_backup,
    to_prune,
)
from models.home_lock import LOCK_NAME
from models.migrate import head_revision
from models.restore import restore_backup

MOMENT = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


def make_sqlite(path: Path, revision: str, rows: int = 3) -> None:
    """A small SQLite database in WAL mode with an Alembic revision and some rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
    connection.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    connection.execute("CREATE TABLE report (id INTEGER PRIMARY KEY, note TEXT)")
    connection.executemany(
        "INSERT INTO report (note) VALUES (?)", [(f"进展{i}",) for i in range(rows)]
    )
    connection.commit()
    connection.close()


def rows_of(path: Path) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.execute("SELECT * FROM report ORDER BY id"))
    finally:
        connection.close()


def files_of(home: Path) -> dict[str, str]:
    """Every regular file under ``home`` (no links) with its SHA-256."""
    return {
        p.relative_to(home).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data directory with a database, kept files, and things that must never be copied."""
    home = tmp_path / "home"
    make_sqlite(home / "duban.db", head_revision())
    (home / "inbox" / "archive" / "2021-06-25").mkdir(parents=True)
    (home / "inbox" / "archive" / "2021-06-25" / "1a2b3c4d-甲镇.xlsx").write_bytes(b"PK\x03\x04x")
    (home / "inbox" / "rejected" / "2021-06-25").mkdir(parents=True)
    (home / "inbox" / "rejected" / "2021-06-25" / "bad.csv.reasons.txt").write_text("第2行：…")
    (home / "outbox").mkdir()
    (home / "outbox" / "000001-mzj.txt").write_text("To: mzj\n")
    (home / "outbox" / "000002-mzj.txt.tmp").write_text("half")
    key = home / "workbook.key"
    key.write_text("0" * 64)
    key.chmod(0o600)
    (home / LOCK_NAME).write_text("")
    make_sqlite(home / "prefect" / "prefect.db", "prefect", rows=5)
    (home / "prefect" / "server.pid").write_text("123 4200\n")
    (home / "backups").mkdir()
    (home / "backups" / "duban-20261204-020000.tar.gz").write_bytes(b"an older snapshot")
    (home / "link.csv").symlink_to("/etc/passwd")
    return home


def snapshot(home: Path, out: Path) -> Path:
    take_backup(
        home, f"sqlite:///{home / 'duban.db'}", out, moment=MOMENT, leave_out=(home / "backups",)
    )
    return out


def test_skipped_names() -> None:
    """The lock, temporary files and pid files are never backed up; kept files are."""
    assert is_skipped(LOCK_NAME)
    assert is_skipped("000002-mzj.txt.tmp")
    assert is_skipped("server.pid")
    assert not is_skipped("workbook.key")
    assert not is_skipped("1a2b3c4d-甲镇.xlsx")


def test_retention_keeps_the_newest_snapshots_and_nothing_else_is_touched() -> None:
    """Only files named as snapshots count; the newest ``keep`` of them stay."""
    names = [
        "duban-20261201-020000.tar.gz",
        "duban-20261203-020000.tar.gz",
        "duban-20261203-020000-1.tar.gz",
        "duban-20261202-020000.tar.gz",
        "handmade.tar.gz",
        "duban-latest.tar.gz",
    ]
    assert to_prune(names, 2) == ["duban-20261202-020000.tar.gz", "duban-20261201-020000.tar.gz"]
    assert to_prune(names, 10) == []


def test_prune_deletes_beyond_keep(tmp_path: Path) -> None:
    """Three snapshots with keep 2: the oldest goes, an unrelated file stays."""
    for day in (1, 2, 3):
        (tmp_path / f"duban-2026120{day}-020000.tar.gz").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    gone = prune_backups(tmp_path, 2)
    assert [p.name for p in gone] == ["duban-20261201-020000.tar.gz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "duban-20261202-020000.tar.gz",
        "duban-20261203-020000.tar.gz",
        "notes.txt",
    ]


def test_snapshot_names_never_collide(tmp_path: Path) -> None:
    """Two snapshots in the same second get different names, both retained by the pattern."""
    first = snapshot_path(tmp_path, MOMENT)
    first.write_bytes(b"x")
    second = snapshot_path(tmp_path, MOMENT)
    assert first.name == "duban-20261205-180000.tar.gz"
    assert second.name == "duban-20261205-180000-1.tar.gz"
    assert to_prune([first.name, second.name], 1) == [first.name]


def test_round_trip_restores_every_kept_file_and_the_database(home: Path, tmp_path: Path) -> None:
    """Restored: the database's rows, every kept file byte for byte, the key still 0600; never
    the lock, temporary or pid files, links, SQLite side files or the backups folder."""
    out = snapshot(home, tmp_path / "out" / "snap.tar.gz")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    target = tmp_path / "restored"
    result = restore_backup(out, target)
    assert result.manifest.schema_revision == head_revision()
    assert not result.needs_upgrade
    assert rows_of(target / "duban.db") == rows_of(home / "duban.db")
    assert rows_of(target / "prefect" / "prefect.db") == rows_of(home / "prefect" / "prefect.db")
    kept = {
        path: digest
        for path, digest in files_of(home).items()
        if path.split("/")[0] != "backups"
        and not is_skipped(path.rsplit("/", 1)[-1])
        and path not in {"duban.db", "prefect/prefect.db"}
        and not path.endswith(("-wal", "-shm"))
    }
    restored = files_of(target)
    assert set(restored) == {*kept, "duban.db", "prefect/prefect.db"}
    assert {p: restored[p] for p in kept} == kept
    assert stat.S_IMODE((target / "workbook.key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_existing_output_is_never_overwritten(home: Path, tmp_path: Path) -> None:
    """A file already at --out stays as it was; the backup refuses."""
    out = tmp_path / "snap.tar.gz"
    out.write_bytes(b"yesterday's")
    with pytest.raises(BackupError, match="已存在"):
        snapshot(home, out)
    assert out.read_bytes() == b"yesterday's"


def test_a_socket_in_the_data_directory_is_left_out(home: Path, tmp_path: Path) -> None:
    """A socket (a server's, say) is reported as skipped, and the backup goes on."""
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(home / "s.sock"))
        result = take_backup(
            home, f"sqlite:///{home / 'duban.db'}", tmp_path / "b.tar.gz", moment=MOMENT
        )
    assert "s.sock" in result.skipped
    assert "link.csv" in result.skipped
    assert "s.sock" not in {m.path for m in result.manifest.members}


def test_a_non_empty_target_is_refused_and_left_alone(home: Path, tmp_path: Path) -> None:
    """Restore never writes into a data directory that holds anything."""
    out = snapshot(home, tmp_path / "snap.tar.gz")
    target = tmp_path / "busy"
    target.mkdir()
    (target / "duban.db").write_bytes(b"live data")
    with pytest.raises(BackupError, match="不是空的"):
        restore_backup(out, target)
    assert [p.name for p in target.iterdir()] == ["duban.db"]


def test_an_empty_existing_target_is_used(home: Path, tmp_path: Path) -> None:
    """An existing empty folder (made for the purpose) is a fresh data directory."""
    out = snapshot(home, tmp_path / "snap.tar.gz")
    target = tmp_path / "empty"
    target.mkdir()
    restore_backup(out, target)
    assert (target / "workbook.key").exists()


def _rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """Copy a snapshot, replacing (bytes) or dropping (None) members by name; extra names in
    ``change`` are added."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        names = set()
        for member in old.getmembers():
            names.add(member.name)
            if member.name in change:
                data = change[member.name]
                if data is None:
                    continue
                member.size = len(data)
                new.addfile(member, io.BytesIO(data))
            else:
                new.addfile(member, old.extractfile(member))
        for name, data in change.items():
            if name not in names and data is not None:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                new.addfile(info, io.BytesIO(data))


def _manifest(path: Path) -> dict[str, object]:
    with tarfile.open(path, "r:gz") as tar:
        handle = tar.extractfile(MANIFEST)
        assert handle is not None
        loaded: dict[str, object] = json.loads(handle.read())
        return loaded


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workbook.key": b"1" * 64}, "workbook.key 的校验和"),
        ({"outbox/000001-mzj.txt": None}, "清单中的 outbox/000001-mzj.txt 不在文件中"),
        ({"outbox/extra.txt": b"slipped in"}, "outbox/extra.txt 不在清单中"),
        ({MANIFEST: None}, "没有清单"),
        ({MANIFEST: b'{"format": "something-else"}'}, "清单 manifest.json 无法识别"),
    ],
)
def test_a_tampered_snapshot_is_refused_and_nothing_is_written(
    home: Path, tmp_path: Path, change: dict[str, bytes | None], message: str
) -> None:
    """A changed, missing or added member, or a missing or foreign manifest: refused, naming
    the file and the member, and no target folder (or leftover) appears."""
    good = snapshot(home, tmp_path / "good.tar.gz")
    bad = tmp_path / "bad.tar.gz"
    _rewrite(good, bad, change)
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match=message) as refused:
        restore_backup(bad, target)
    assert str(bad) in refused.value.summary
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar.gz", "good.tar.gz", "home"]


def test_a_member_outside_the_data_directory_is_refused(home: Path, tmp_path: Path) -> None:
    """A member named ``../evil`` is refused even when the manifest lists it."""
    good = snapshot(home, tmp_path / "good.tar.gz")
    manifest = _manifest(good)
    evil = b"owned"
    members = manifest["members"]
    assert isinstance(members, list)
    members.append(
        {"path": "../evil", "sha256": hashlib.sha256(evil).hexdigest(), "size": len(evil)}
    )
    bad = tmp_path / "bad.tar.gz"
    _rewrite(good, bad, {MANIFEST: None})
    _rewrite(
        bad, tmp_path / "worse.tar.gz", {"../evil": evil, MANIFEST: json.dumps(manifest).encode()}
    )
    with pytest.raises(BackupError, match="数据目录之外"):
        restore_backup(tmp_path / "worse.tar.gz", tmp_path / "restored")
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "restored").exists()


def test_a_newer_schema_is_refused(home: Path, tmp_path: Path) -> None:
    """A database from a newer duban (a revision this code lacks) is not restored."""
    newer = tmp_path / "newer"
    make_sqlite(newer / "duban.db", "9999_from_the_future")
    out = tmp_path / "snap.tar.gz"
    take_backup(newer, f"sqlite:///{newer / 'duban.db'}", out, moment=MOMENT)
    with pytest.raises(BackupError, match="9999_from_the_future"):
        restore_backup(out, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


@pytest.mark.parametrize(
    "content", [b"", b"not a backup at all", gzip.compress(b"plain text, gzipped")]
)
def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path, content: bytes) -> None:
    """Empty, random or gzip-but-not-tar files are refused with a Chinese reason."""
    path = tmp_path / "x.tar.gz"
    path.write_bytes(content)
    with pytest.raises(BackupError, match="duban 备份"):
        restore_backup(path, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_damage_anywhere_is_refused_or_harmless(
    home: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """A snapshot cut short or with one byte changed anywhere either restores exactly the
    original files or is refused leaving nothing; it never restores something else."""
    work = tmp_path_factory.mktemp("damage")
    good = work / "good.tar.gz"
    if not good.exists():
        snapshot(home, good)
    raw = bytearray(good.read_bytes())
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, 1 << 20), label="length") % len(raw)]
    else:
        at = data.draw(st.integers(0, 1 << 20), label="offset") % len(raw)
        raw[at] ^= data.draw(st.integers(1, 255), label="xor")
    bad = work / "bad.tar.gz"
    bad.write_bytes(bytes(raw))
    target = work / "restored"
    reference = work / "reference"
    restore_backup(good, reference)
    try:
        restore_backup(bad, target)
    except BackupError:
        assert not target.exists()
    else:
        assert files_of(target) == files_of(reference)


def test_a_corrupt_database_is_refused_and_no_file_is_left(home: Path, tmp_path: Path) -> None:
    """A database file that SQLite cannot read: the backup says so, and writes nothing."""
    for side in ("duban.db-wal", "duban.db-shm"):
        (home / side).unlink(missing_ok=True)
    raw = bytearray((home / "duban.db").read_bytes())
    raw[100:4096] = b"\xff" * (4096 - 100)
    (home / "duban.db").write_bytes(bytes(raw))
    out = tmp_path / "out" / "snap.tar.gz"
    with pytest.raises(BackupError, match="可能已损坏"):
        snapshot(home, out)
    assert list(out.parent.iterdir()) == []
