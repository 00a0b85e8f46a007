"""Time sync and the status picture at a few sizes, on SQLite and PostgreSQL, beside a bare scan.

    .venv/bin/python bench/status_scale.py [--weekly N ...] [--postgres URL]

Each size is the Shidian catalogue plus N weekly milestones fanned out to all 138 villages over
2021–2025 (138 × 261 ≈ 36,000 items each). The bare scan is a GROUP BY state over work_item
(count and max due): the floor any whole-plan query pays. Prints one line per backend and size.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from config.settings import DEFAULT_CATALOG, temporary_settings
from domain.queries.completeness import completeness_view
from domain.queries.context import build_context
from domain.queries.status import status_view
from domain.queries.sync import sync_catalog
from domain.rules.context import LightPolicy
from models.db import engine_for, session_scope
from models.migrate import upgrade
from models.orm import WorkItem
from tasks_catalog.loader import load_catalog

EXTRA = """
  - number: {number}
    title: 规模测试任务 {number}
    lead: mzj
    responsibility: proposed
    milestones:
      - id: B{number}-M1
        title: 周报
        recurrence: {{rrule: "FREQ=WEEKLY;BYDAY=FR", start: 2021-01-01, end: 2025-12-31}}
        fan_out: villages
        proposed: true
"""

POLICY = LightPolicy(yellow_workdays=5)
"""The light policy the status is timed under (no behind-pace light)."""


def catalogue(folder: Path, weekly: int) -> Path:
    shutil.copytree(DEFAULT_CATALOG, folder)
    with (folder / "tasks.yaml").open("a", encoding="utf-8") as handle:
        for n in range(weekly):
            handle.write(EXTRA.format(number=13 + n))
    return folder


def timed(label: str, results: dict[str, float], fn: object) -> object:
    start = time.perf_counter()
    value = fn()  # type: ignore[operator]
    results[label] = time.perf_counter() - start
    return value


def run(url: str, folder: Path, as_of: date) -> dict[str, float]:
    results: dict[str, float] = {}
    engine = engine_for(url)
    upgrade(engine)
    catalog, _ = load_catalog(folder)
    with temporary_settings(database_url=url):
        with session_scope(engine) as s:
            timed("sync", results, lambda: sync_catalog(s, catalog))
        with session_scope(engine) as s:
            timed("resync", results, lambda: sync_catalog(s, catalog))
        with session_scope(engine) as s:
            results["items"] = s.scalar(select(func.count()).select_from(WorkItem)) or 0
            timed(
                "bare_scan",
                results,
                lambda: s.execute(
                    select(WorkItem.state, func.count(), func.max(WorkItem.due)).group_by(
                        WorkItem.state
                    )
                ).all(),
            )
            timed(
                "status",
                results,
                lambda: status_view(s, build_context(s, None, as_of, POLICY)),
            )
            timed(
                "status_items",
                results,
                lambda: status_view(s, build_context(s, None, as_of, POLICY), with_items=True),
            )
            timed(
                "completeness_8_cycles",
                results,
                lambda: completeness_view(s, build_context(s, None, as_of, POLICY)),
            )
    engine.dispose()
    return results


@contextmanager
def scratch_postgres(postgres: str, prefix: str = "duban_bench") -> Iterator[str]:
    """The URL of a new database on the server of ``postgres``, dropped afterwards."""
    admin_url = make_url(postgres)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        host=admin_url.host,
        port=admin_url.port or 5432,
        user=admin_url.username,
        dbname=admin_url.database,
        autocommit=True,
    ) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.set(database=name).render_as_string(False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def backends(postgres: str, tmp: str) -> Iterator[list[tuple[str, str]]]:
    """(backend, URL) for a scratch SQLite file in ``tmp`` and a scratch PostgreSQL database on
    the server of ``postgres`` (dropped afterwards)."""
    with scratch_postgres(postgres) as url:
        yield [("sqlite", f"sqlite:///{tmp}/bench.db"), ("postgresql", url)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weekly", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2023, 6, 14))
    args = parser.parse_args()
    for weekly in args.weekly:
        with tempfile.TemporaryDirectory() as tmp, backends(args.postgres, tmp) as urls:
            folder = catalogue(Path(tmp) / "plan", weekly)
            for backend, url in urls:
                with temporary_settings(home=Path(tmp)):
                    r = run(url, folder, args.as_of)
                ratio = r["status"] / r["bare_scan"] if r["bare_scan"] else 0
                print(
                    f"{backend:10} items={int(r['items']):>7}  sync={r['sync']:.2f}s  "
                    f"resync={r['resync']:.2f}s  status={r['status']:.3f}s  "
                    f"status+items={r['status_items']:.3f}s  "
                    f"completeness(8 cycles)={r['completeness_8_cycles']:.2f}s  "
                    f"bare scan={r['bare_scan'] * 1000:.1f}ms  "
                    f"status/bare={ratio:.0f}x",
                    flush=True,
                )


if __name__ == "__main__":
    main()
