"""Time the daily cycle's stages and the weekly briefing at a few sizes, on SQLite and
PostgreSQL, beside a bare scan of the same work-item table.

    .venv/bin/python bench/cycle_scale.py [--weekly N ...] [--postgres URL]

Sizes as in ``status_scale.py`` (the Shidian catalogue plus N weekly milestones fanned out to
the 138 villages, ≈36,000 items each) with the sample reports of six weeks collected
(*reports*), or ``--counties N``: a synthetic province (``synthetic.py``, ≈3,400 items a
county) with 30 % of its started items reported in progress (*reports* = that SQL). Stages, each
in a transaction that is rolled back:

* lights: the status picture's counts with the overdue items (what ``evaluate lights`` gives
  the dashboard and the overdue table) and the completeness of the last closed cycle;
* notices: the ladder's notices due that day (planned, not written);
* task pages: per key task, its milestones' light counts and its red and yellow items;
* briefing: the view model (gather + build), then everything (charts, md, html, docx);

and the Prefect task runs a daily cycle makes (stages + one per key task: a number that must not
grow with the items). Peak memory is the process's maximum resident set so far.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from status_scale import backends, catalogue
from synthetic import seed_reports, write_catalogue

from config.ladder import load_ladder
from config.settings import temporary_settings
from domain.briefing.build import build_briefing
from domain.briefing.gather import gather
from domain.briefing.issue import FORMATS, issue_briefing
from domain.completeness import completeness_view
from domain.escalation import all_due_notices
from domain.intake.inbox import collect
from domain.status import status_view
from domain.sync import sync_catalog
from duban.sample import write_sample_inbox
from models import clock
from models.db import dispose_engine, engine_for, session_scope
from models.enums import Status
from models.migrate import upgrade
from models.orm import Plan, WorkItem
from tasks_catalog.loader import load_catalog

STAGES_PER_CYCLE = 5  # collect, lights, plan notices, deliver, publish view


def timed(results: dict[str, float], label: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    return value


def run(url: str, folder: Path, home: Path, as_of: date, *, sample: bool) -> dict[str, float]:
    r: dict[str, float] = {}
    engine = engine_for(url)
    upgrade(engine)
    catalog, _ = load_catalog(folder)
    with temporary_settings(database_url=url, home=home, inbox=None):
        with session_scope(engine) as s:
            timed(r, "sync", lambda: sync_catalog(s, catalog))
        last_friday = as_of - timedelta(days=(as_of.weekday() - 4) % 7 or 7)
        with session_scope(engine) as s:
            plan = s.scalars(select(Plan)).one()
            inbox = home / "inbox" / "sample"
            batches = write_sample_inbox(s, plan, inbox, last_friday=last_friday) if sample else []
        start = time.perf_counter()
        for batch in batches:
            with clock.frozen_time(clock.end_of_working_day(batch.collect_on, plan.timezone)):
                collect(engine, plan.id, batch.folder)
        if not sample:  # a province: 30 % of the started items in progress, in SQL
            seed_reports(engine, plan.id, last_friday, share=30, seed=1)
        r["collect"] = time.perf_counter() - start
        ladder = load_ladder()
        with session_scope(engine, rollback=True) as s:
            plan = s.scalars(select(Plan)).one()
            r["items"] = s.scalar(select(func.count()).select_from(WorkItem)) or 0
            timed(
                r,
                "bare",
                lambda: s.execute(
                    select(WorkItem.state, func.count(), func.max(WorkItem.due)).group_by(
                        WorkItem.state
                    )
                ).all(),
            )
            view = timed(
                r,
                "lights",
                lambda: (
                    status_view(
                        s,
                        plan_id=plan.id,
                        as_of=as_of,
                        yellow_workdays=5,
                        only_statuses=frozenset({Status.OVERDUE}),
                    ),
                    completeness_view(s, plan, last_friday),
                )[0],
            )
            timed(r, "notices", lambda: all_due_notices(s, plan, as_of, ladder, 5))
            timed(
                r,
                "task_pages",
                lambda: [
                    status_view(s, plan_id=plan.id, as_of=as_of, yellow_workdays=5, task=t.task)
                    for t in view.tasks
                ],
            )
            r["task_runs"] = STAGES_PER_CYCLE + len(view.tasks)
            timed(
                r,
                "brief_model",
                lambda: build_briefing(
                    gather(
                        s, plan, as_of, number=1, year=as_of.year, yellow_workdays=5, pace_margin=25
                    )
                ),
            )
            timed(
                r,
                "brief_files",
                lambda: issue_briefing(
                    s,
                    plan,
                    as_of,
                    formats=list(FORMATS),
                    out=home / "briefings",
                    yellow_workdays=5,
                    pace_margin=25,
                    fonts="official",
                    actor="bench",
                ),
            )
    dispose_engine(url)
    r["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weekly", type=int, nargs="+", default=[0, 4])
    parser.add_argument(
        "--counties",
        type=int,
        nargs="+",
        help="instead of --weekly: synthetic provinces of N counties (bench/synthetic.py)",
    )
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2021, 12, 27))
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = (
        [("counties", n) for n in args.counties]
        if args.counties
        else [("weekly", n) for n in args.weekly]
    )
    for kind, n in sizes:
        with tempfile.TemporaryDirectory() as tmp, backends(args.postgres, tmp) as urls:
            folder = (
                write_catalogue(Path(tmp) / "plan", n, seed=1)
                if kind == "counties"
                else catalogue(Path(tmp) / "plan", n)
            )
            for backend, url in urls:
                if backend not in args.backends.split(","):
                    continue
                home = Path(tmp) / backend
                home.mkdir()
                r = run(url, folder, home, args.as_of, sample=kind == "weekly")
                lights_ratio = r["lights"] / r["bare"] if r["bare"] else 0
                print(
                    f"{backend:10} items={int(r['items']):>7}  sync={r['sync']:.2f}s  "
                    f"reports={r['collect']:.2f}s  lights={r['lights']:.2f}s  "
                    f"notices={r['notices']:.2f}s  task pages={r['task_pages']:.2f}s  "
                    f"briefing model={r['brief_model']:.2f}s  "
                    f"briefing files={r['brief_files']:.2f}s  "
                    f"bare scan={r['bare'] * 1000:.1f}ms  lights/bare={lights_ratio:.0f}x  "
                    f"task runs/cycle={int(r['task_runs'])}  peak={r['peak_mb']:.0f}MB",
                    flush=True,
                )


if __name__ == "__main__":
    main()
