"""Time the daily cycle's stages and the weekly briefing at a few sizes, on SQLite and
PostgreSQL, beside a bare scan of the same work-item table.

    .venv/bin/python bench/cycle_scale.py [--weekly N ...] [--postgres URL]

Sizes as in ``status_scale.py`` (the Shidian catalogue plus N weekly milestones fanned out to
the 138 villages, ≈36,000 items each) with the sample reports of six weeks collected
(*reports*), or ``--counties N``: a synthetic province (``synthetic.py``, ≈3,400 items a
county) with 30 % of its started items reported in progress (*reports* = that SQL), and the same
reports repeated weekly for ``--history-weeks`` weeks before (26 by default: the report table's
size must not show in the day's figures), with the outbox those weeks leave: each week's
missing-report notices and the ladder notices the items overdue now had before (their earlier
levels and repeat cycles). Stages, each in a transaction that is rolled back:

* collect: a batch of ``--files`` unit workbooks (villages of the first county) landed;
* lights: the status picture's counts with the 1,000 longest-overdue items (what ``evaluate
  lights`` gives the dashboard and the overdue table) and the last closed cycle's missing
  reports;
* notices: the ladder's notices planned into the outbox on the day (``first day``: an empty
  outbox, every notice new) and on the next day (the steady state: only what is new);
* task pages: per key task, its milestones' light counts and its 50 most urgent items;
* briefing: the view model (gather + build) of the whole plan and of one county (the first
  unit under the root with units of its own: a township of Shidian), then the whole plan's
  files (charts, md, html, docx);

and the Prefect task runs a daily cycle makes (stages + one per key task: a number that must not
grow with the items). Peak memory is the process's maximum resident set so far.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

sys.path.insert(0, str(Path(__file__).resolve().parent))
from status_scale import backends, catalogue
from synthetic import seed_history, seed_ladder_history, seed_reports, write_catalogue

from config.ladder import load_ladder
from config.settings import temporary_settings
from domain.queries.briefing_facts import gather
from domain.queries.completeness import completeness_view
from domain.queries.context import build_context
from domain.queries.escalation import all_due_notices
from domain.queries.outbox import write_outbox
from domain.queries.status import status_view, task_page_status
from domain.queries.sync import sync_catalog
from domain.rules.briefing.build import build_briefing
from domain.rules.context import Context, LightPolicy
from domain.rules.dashboard import ATTENTION, ATTENTION_ROWS, MISSING_ROWS, OVERDUE_ROWS
from domain.services.briefing.issue import FORMATS, issue_briefing
from domain.services.intake.inbox import collect
from domain.services.workbooks import write_workbook
from duban.sample import fill_workbook, progress_rows, workbook_ids, write_sample_inbox
from models import clock
from models.db import dispose_engine, engine_for, session_scope
from models.enums import Status
from models.migrate import upgrade
from models.orm import Plan, Unit, WorkItem
from tasks_catalog.loader import load_catalog

STAGES_PER_CYCLE = 5  # collect, lights, plan notices, deliver, publish view

POLICY = LightPolicy(yellow_workdays=5, pace_margin=25)
"""The light policy of the stages timed."""


def timed(results: dict[str, float], label: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    return value


def unit_files(session: Session, plan: Plan, folder: Path, period: date, n: int) -> int:
    """``n`` village workbooks of the first county (or of the plan), filled in as units do."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    units = session.scalars(
        select(Unit)
        .where(Unit.plan_id == plan.id, Unit.kind.in_(["village", "community"]))
        .order_by(Unit.code)
        .limit(n)
    ).all()
    staging = folder.parent / "staging"
    for unit in units:
        made = write_workbook(session, plan, unit, period, staging)
        fill_workbook(made.path, progress_rows(rng, workbook_ids(made.path), {}), None)
        folder.mkdir(parents=True, exist_ok=True)
        made.path.rename(folder / made.path.name)
    return len(units)


def first_county(session: Session, plan: Plan) -> str:
    """The first unit under the plan's root that has units of its own: a county of the
    province, a township of Shidian."""
    parent = aliased(Unit)
    return session.scalars(
        select(Unit.code)
        .join(parent, parent.parent_id == Unit.id)
        .where(Unit.plan_id == plan.id, Unit.parent_id.is_not(None))
        .order_by(Unit.code)
        .limit(1)
    ).one()


def run(
    url: str,
    folder: Path,
    home: Path,
    as_of: date,
    *,
    sample: bool,
    files: int,
    history_weeks: int = 0,
) -> dict[str, float]:
    r: dict[str, float] = {}
    engine = engine_for(url)
    upgrade(engine)
    catalog, _ = load_catalog(folder)
    with temporary_settings(database_url=url, home=home, inbox=None):
        # loaded at the start of the plan: on the day of the cycle the history is settled
        with clock.frozen_time(datetime(2021, 1, 4, 2, tzinfo=UTC)), session_scope(engine) as s:
            timed(r, "sync", lambda: sync_catalog(s, catalog))
        last_friday = as_of - timedelta(days=(as_of.weekday() - 4) % 7 or 7)
        with session_scope(engine) as s:
            plan = s.scalars(select(Plan)).one()
            inbox = home / "inbox" / "sample"
            batches = (  # every report by the inbox, as the sample had before its web units
                write_sample_inbox(s, plan, inbox, last_friday=last_friday, web_weeks=0, mail=False)
                if sample
                else []
            )
        start = time.perf_counter()
        for batch in batches:
            with clock.frozen_time(clock.end_of_working_day(batch.collect_on, plan.timezone)):
                collect(engine, plan.id, batch.folder)
        if not sample:  # a province: 30 % of the started items in progress, in SQL
            seed_reports(engine, plan.id, last_friday, share=30, seed=1)
            # and half a year of weekly reports before it: history must not slow the day
            r["history"], r["history_notices"] = seed_history(
                engine, plan.id, last_friday, weeks=history_weeks
            )
            if history_weeks:  # and the ladder notices the items overdue now had before
                r["history_notices"] += seed_ladder_history(engine, plan.id, as_of, load_ladder())
        r["reports"] = time.perf_counter() - start
        with session_scope(engine) as s:
            batch_folder = home / "inbox" / "batch"
            r["files"] = unit_files(s, plan, batch_folder, last_friday - timedelta(days=4), files)
        with clock.frozen_time(clock.end_of_working_day(last_friday, plan.timezone)):
            timed(r, "collect", lambda: collect(engine, plan.id, batch_folder))
        ladder = load_ladder()
        with (
            clock.frozen_time(clock.end_of_working_day(as_of, plan.timezone)),
            session_scope(engine, rollback=True) as s,
        ):
            plan = s.scalars(select(Plan)).one()
            r["items"] = s.scalar(select(func.count()).select_from(WorkItem)) or 0
            bare = select(WorkItem.state, func.count(), func.max(WorkItem.due)).group_by(
                WorkItem.state
            )
            s.execute(bare).all()  # warm the cache like the stages after it

            def at(day: date) -> Context:
                """The context a stage builds for ``day``."""
                return build_context(s, plan, day, POLICY)

            def plan_notices(ctx: Context) -> int:
                return write_outbox(s, ctx, all_due_notices(s, ctx, ladder, only_new=True))

            timed(r, "bare", lambda: s.execute(bare).all())
            view = timed(
                r,
                "lights",
                lambda: (
                    status_view(
                        s,
                        at(as_of),
                        only_statuses=frozenset({Status.OVERDUE}),
                        item_limit=OVERDUE_ROWS,
                    ),
                    completeness_view(
                        s, at(last_friday), cycles=1, rates=False, missing_limit=MISSING_ROWS
                    ),
                )[0],
            )
            r["first_notices"] = timed(
                r,
                "notices_first",
                lambda: plan_notices(at(as_of)),
            )
            next_day = as_of + timedelta(days=1)
            r["next_notices"] = timed(
                r,
                "notices",
                lambda: plan_notices(at(next_day)),
            )

            def pages() -> None:
                for t in view.tasks:
                    task_page_status(
                        s,
                        at(as_of),
                        task=t.task,
                        only_statuses=ATTENTION,
                        item_limit=ATTENTION_ROWS,
                    )

            timed(r, "task_pages", pages)
            r["task_runs"] = STAGES_PER_CYCLE + len(view.tasks)
            timed(
                r,
                "brief_model",
                lambda: build_briefing(gather(s, plan, at(as_of), number=1, year=as_of.year)),
            )
            county = first_county(s, plan)
            timed(
                r,
                "brief_county",
                lambda: build_briefing(
                    gather(s, plan, at(as_of), number=1, year=as_of.year, unit=county)
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
                    fonts="official",
                    actor="bench",
                    policy=POLICY,
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
    parser.add_argument("--files", type=int, default=150, help="unit workbooks to collect")
    parser.add_argument(
        "--history-weeks",
        type=int,
        default=26,
        help="with --counties: weeks of earlier weekly reports (copies of the seeded ones)",
    )
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
                r = run(
                    url,
                    folder,
                    home,
                    args.as_of,
                    sample=kind == "weekly",
                    files=args.files,
                    history_weeks=args.history_weeks,
                )
                cycle = r["lights"] + r["notices"]
                print(
                    f"{backend:10} items={int(r['items']):>7}  sync={r['sync']:.2f}s  "
                    f"reports={r['reports']:.2f}s (history {int(r.get('history', 0))} reports,"
                    f" {int(r.get('history_notices', 0))} notices)  "
                    f"collect {int(r['files'])} files={r['collect']:.2f}s  "
                    f"lights={r['lights']:.2f}s  "
                    f"notices first day={r['notices_first']:.2f}s "
                    f"({int(r['first_notices'])})  next day={r['notices']:.2f}s "
                    f"({int(r['next_notices'])})  "
                    f"lights+notices={cycle:.2f}s  bare scan={r['bare'] * 1000:.0f}ms  "
                    f"ratio={cycle / r['bare']:.1f}x  task pages={r['task_pages']:.2f}s  "
                    f"briefing model={r['brief_model']:.2f}s  "
                    f"one county's={r['brief_county']:.2f}s  "
                    f"briefing files={r['brief_files']:.2f}s  "
                    f"task runs/cycle={int(r['task_runs'])}  peak={r['peak_mb']:.0f}MB",
                    flush=True,
                )


if __name__ == "__main__":
    main()
