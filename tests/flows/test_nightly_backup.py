"""The nightly snapshot as a flow run on a real Prefect server: written, pruned, completed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from config.settings import Settings, get_settings, temporary_settings
from duban.orchestration import prefect_client
from flows.nightly_backup import nightly_backup
from models.clock import frozen_time
from models.restore import restore_backup

pytestmark = pytest.mark.slow


def test_nightly_backup_writes_a_snapshot_and_keeps_the_newest(
    engine: Engine, settings: Settings, prefect_api: str
) -> None:
    """Three nightly runs with DUBAN_BACKUP_KEEP=2: two snapshots stay in <home>/backups, the
    newest restores, and each run completed."""
    (settings.home / "workbook.key").write_text("k" * 64)
    with (
        temporary_settings(prefect_api_url=prefect_api, backup_keep=2),
        prefect_client(get_settings()),
    ):
        results = []
        for night in (3, 4, 5):
            with frozen_time(datetime(2026, 12, night, 18, 0, tzinfo=UTC)):
                results.append(nightly_backup(plan_id="demo-plan"))
    folder = settings.home / "backups"
    assert sorted(p.name for p in folder.iterdir()) == [
        "duban-20261205-020000.tar.gz",
        "duban-20261206-020000.tar.gz",
    ]
    assert results[-1]["pruned"] == ["duban-20261204-020000.tar.gz"]
    restored = restore_backup(folder / "duban-20261206-020000.tar.gz", settings.home.parent / "r")
    assert (restored.home / "workbook.key").read_text() == "k" * 64
    assert not (restored.home / "backups").exists()
