"""`duban backup` and `duban restore` as an operator meets them, and a snapshot taken in the
middle of a collection that restores to exactly the record as it stood at that moment."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from config.settings import Settings, temporary_settings
from domain.services.intake.inbox import collect
from domain.services.workbooks import write_workbook
from duban.cli import app, main
from models.backup import take_backup
from models.clock import frozen_time
from models.db import session_scope
from models.home_lock import LOCK_NAME, home_lock
from models.orm import Plan, Unit
from models.restore import restore_backup
from tests.fixtures.catalog import SYNCED_AT as AT
from tests.fixtures.db import BACKEND

PLAN = "demo-plan"

runner = CliRunner()
sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="the database is in the snapshot")


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run through `main()`, the console script, which turns user errors into exit 2."""
    monkeypatch.setattr("sys.argv", ["duban", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def table_checksums(database: Path) -> dict[str, str]:
    """Every table of an SQLite file: a SHA-256 of its rows in a fixed order."""
    connection = sqlite3.connect(database)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: hashlib.sha256(
                repr(sorted(map(repr, connection.execute(f'SELECT * FROM "{table}"')))).encode()
            ).hexdigest()
            for table in sorted(tables)
        }
    finally:
        connection.close()


def kept_files(home: Path) -> dict[str, str]:
    """Every kept file of a data directory with its SHA-256 (not the database or the lock)."""
    return {
        p.relative_to(home).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
        and p.name != LOCK_NAME
        and not p.name.startswith("duban.db")
        and p.relative_to(home).parts[0] != "backups"
    }


def record_of(home: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(table checksums, kept files): the record of a data directory."""
    return table_checksums(home / "duban.db"), kept_files(home)


def report_files(engine: Engine, folder: Path) -> list[Path]:
    """One signed workbook per unit (blank: each counts as that unit's report) and a file that
    is rejected, in the order a collection takes them."""
    with session_scope(engine) as session:
        plan = session.get(Plan, PLAN)
        assert plan is not None
        units = list(session.scalars(select(Unit).order_by(Unit.code)))
        files = [write_workbook(session, plan, u, date(2021, 6, 21), folder).path for u in units]
    bad = folder / "zz-bad.csv"
    bad.write_text("item_id,state\nnot-a-number,推进中\n", encoding="utf-8")
    return [*files, bad]


def lock_state(home: Path) -> set[str]:
    """The flock states on the data directory's lock (Linux /proc/locks): "held" or "waiting"
    for each exclusive request."""
    inode = (home / LOCK_NAME).stat().st_ino
    states = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        waiting = fields[1] == "->"
        kind, mode, device = (fields[2], fields[4], fields[6]) if waiting else fields[1:6:2]
        if kind == "FLOCK" and mode == "WRITE" and device.rsplit(":", 1)[-1] == str(inode):
            states.add("waiting" if waiting else "held")
    return states


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` (up to 30 s) for a state another thread reaches."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.005)


@sqlite_only
def test_a_snapshot_mid_collect_restores_the_record_as_it_stood(
    synced: Engine, settings: Settings, tmp_path: Path
) -> None:
    """A collection lands files one by one, each under the data directory's shared lock (as the
    inbox does). The backup, asked for while the sixth file is being landed, waits for it, then
    copies while the seventh waits: the restored record (every table's checksum and every kept
    file) is the source's right after the sixth file, not before it and not the final one."""
    home, inbox = settings.home, settings.resolved_inbox
    files = report_files(synced, tmp_path / "pending")
    assert len(files) > 8
    sixth, states = 6, []
    in_sixth, release, backup_done = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def collecting() -> None:
        try:
            for n, path in enumerate(files, 1):
                with home_lock(home):
                    if n == sixth:
                        in_sixth.set()
                        assert release.wait(30)
                    inbox.mkdir(exist_ok=True)
                    shutil.move(path, inbox / path.name)
                    collect(synced, PLAN, inbox)
                    states.append(record_of(home))
                if n == sixth:  # let the waiting backup in before the seventh file
                    wait_until(
                        lambda: "held" in lock_state(home) or backup_done.is_set(),
                        "the backup holds the lock",
                    )
        except BaseException as exc:
            failures.append(exc)
            release.set()

    def backing_up() -> None:
        try:
            take_backup(home, settings.resolved_database_url, tmp_path / "snap.tar.gz", moment=AT)
        except BaseException as exc:
            failures.append(exc)
        finally:
            backup_done.set()

    collector = threading.Thread(target=collecting)
    backup = threading.Thread(target=backing_up)
    collector.start()
    assert in_sixth.wait(30)
    backup.start()
    try:
        wait_until(
            lambda: "waiting" in lock_state(home) or backup_done.is_set(),
            "the backup waits for the file being landed",
        )
        assert not backup_done.is_set(), "the backup copied while a file was being landed"
    finally:
        release.set()
        collector.join(60)
        backup.join(60)
    assert not failures, failures
    assert len(states) == len(files)

    restored = tmp_path / "restored"
    restore_backup(tmp_path / "snap.tar.gz", restored)
    tables, kept = record_of(restored)
    at_snapshot = states[sixth - 1]
    assert tables == at_snapshot[0]
    assert kept == at_snapshot[1]
    assert (tables, kept) != states[sixth - 2]
    assert (tables, kept) != states[-1]
    assert any(name.startswith("inbox/archive/") for name in kept)
    assert "workbook.key" in kept


def test_backup_and_restore_from_the_command_line(
    synced: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`duban backup` writes a 0600 snapshot into <home>/backups and keeps the newest
    DUBAN_BACKUP_KEEP there; `duban restore` brings it back: `status` reads the same."""
    inbox = settings.resolved_inbox
    inbox.mkdir()
    for path in report_files(synced, tmp_path / "pending")[:3]:
        shutil.move(path, inbox / path.name)
    with frozen_time(AT):
        collect(synced, PLAN, inbox)
    with temporary_settings(backup_keep=2):
        for second in range(3):
            with frozen_time(AT.replace(second=second)):
                result = runner.invoke(app, ["backup"], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            assert "已写入备份" in result.stdout
            assert "0600" in result.stdout
    folder = settings.home / "backups"
    assert [p.name for p in sorted(folder.iterdir())] == [
        "duban-20210625-170001.tar.gz",
        "duban-20210625-170002.tar.gz",
    ]
    assert "删除了 1 份旧备份" in result.stdout
    newest = folder / "duban-20210625-170002.tar.gz"
    assert stat.S_IMODE(newest.stat().st_mode) == 0o600

    restored = tmp_path / "restored"
    result = runner.invoke(app, ["restore", str(newest), "--home", str(restored)])
    assert result.exit_code == 0, result.output
    assert "已从" in result.stdout
    assert not (restored / "backups").exists()
    assert kept_files(restored) == kept_files(settings.home)
    if BACKEND == "sqlite":  # on PostgreSQL the database is pg_dump's to restore
        status = ["status", "--as-of", "2021-06-25"]
        before = runner.invoke(app, status, catch_exceptions=False).stdout
        with temporary_settings(home=restored, database_url=None):
            after = runner.invoke(app, status, catch_exceptions=False).stdout
        assert after == before

    assert run_main(monkeypatch, "restore", str(newest), "--home", str(restored)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["restore", "{tmp}/nosuch.tar.gz", "--home", "{tmp}/new"], "找不到备份文件"),
        (["restore", "{tmp}/junk.tar.gz", "--home", "{tmp}/new"], "不是完好的 duban 备份"),
        (["backup", "--out", "{tmp}/junk.tar.gz"], "已存在"),
    ],
)
def test_mistakes_exit_2_with_a_chinese_message(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    """A missing or junk backup file and an existing --out: exit 2, the reason, no traceback."""
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    code = run_main(monkeypatch, *(a.format(tmp=tmp_path) for a in args))
    error = capsys.readouterr().err
    assert code == 2
    assert message in error
    assert "Traceback" not in error
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(BACKEND != "postgresql", reason="the PostgreSQL case")
def test_on_postgresql_the_files_are_backed_up_and_pg_dump_is_named(
    synced: Engine, settings: Settings, tmp_path: Path
) -> None:
    """On PostgreSQL the snapshot holds the data directory's files and says to use pg_dump."""
    (settings.home / "workbook.key").write_text("k" * 64)
    result = runner.invoke(app, ["backup", "--out", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 0, result.output
    assert "pg_dump" in result.output
    restored = restore_backup(tmp_path / "b.tar.gz", tmp_path / "restored")
    assert restored.manifest.database is None
    assert restored.manifest.schema_revision is not None
    assert (tmp_path / "restored" / "workbook.key").read_text() == "k" * 64
    assert (
        "pg_restore"
        in runner.invoke(
            app, ["restore", str(tmp_path / "b.tar.gz"), "--home", str(tmp_path / "again")]
        ).stdout
    )
