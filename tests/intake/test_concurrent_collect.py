"""Two `duban collect` processes at once over one inbox: each file is handled once, by one of
them, and both end cleanly (no traceback, exit 0)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select

from config.settings import Settings
from domain.queries.sync import sync_catalog
from models.db import session_scope
from models.orm import InboxFile, Report
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.intake.signed import sign_csv
from tests.intake.support import item_of

REPORTERS = [("t1", "M2"), ("t2", "M2"), ("v11", "M4"), ("v12", "M4"), ("v21", "M4")]


def test_two_collections_at_once_handle_each_file_once(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """Sixty files (ten of them copies of others) and two processes: fifty land, ten are
    duplicates, every file is named in exactly one process's output."""
    with session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog())[0])
    inbox = settings.home / "inbox"
    inbox.mkdir()
    names = []
    for n in range(50):
        unit, milestone = REPORTERS[n % len(REPORTERS)]
        item = item_of(engine, milestone, unit)
        text = sign_csv(f"单位代码,事项编号,本期状态,进展情况\n{unit},{item},推进中,第{n}次\n")
        names.append(f"{n:02d}-{unit}.csv")
        (inbox / names[-1]).write_text(text, encoding="utf-8")
    for n in range(0, 50, 5):  # a copy beside each fifth file, so both may take the same bytes
        names.append(f"{n:02d}-again.csv")
        (inbox / names[-1]).write_bytes((inbox / f"{n:02d}-{REPORTERS[0][0]}.csv").read_bytes())
    env = {
        **os.environ,
        "DUBAN_HOME": str(settings.home),
        "DUBAN_DATABASE_URL": settings.resolved_database_url,
    }
    duban = str(Path(sys.executable).parent / "duban")
    started = [
        subprocess.Popen(
            [duban, "collect", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in started]
    for process, (_, err) in zip(started, results, strict=True):
        assert process.returncode == 0, err
        assert "Traceback" not in err
    handled = [f for out, _ in results for f in json.loads(out)["files"]]
    assert sorted(f["file"] for f in handled) == sorted(names)
    statuses = sorted(f["status"] for f in handled)
    assert statuses == ["duplicate"] * 10 + ["landed"] * 50
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(InboxFile)) == 50
        assert session.scalar(select(func.count()).select_from(Report)) == 50
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
