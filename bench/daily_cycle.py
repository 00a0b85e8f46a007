"""Time the daily cycle as its flow runs it, stage by stage, on a synthetic province.

    # once: a province of N counties (300 ≈ 10⁶ items) on PostgreSQL, kept as a template
    .venv/bin/python bench/daily_cycle.py build --counties 300 --db bench_cycle_base
    # then: the first day and the rest of its week, each run on a fresh copy (median of --runs)
    .venv/bin/python bench/daily_cycle.py days --db bench_cycle_base --runs 3 [--no-delivery]
    # two years of outbox history: add weeks to the template, run the days again
    .venv/bin/python bench/daily_cycle.py history --db bench_cycle_base --weeks 104
    # the first day's first N digests delivered (SMTP to a local sink and the file channel)
    .venv/bin/python bench/daily_cycle.py delivery --db bench_cycle_base --digests 10000

*build* syncs the catalogue (``synthetic.py``) as loaded on 2021-01-04, marks 30 % of the
started items in progress (``seed_reports``), gives them ``--history-weeks`` weeks of earlier
weekly reports with the missing-report notices those weeks left in the outbox, and the ladder
notices the items overdue on the first day had before (``seed_ladder_history``); every unit
gets a liaison, one in ``--smtp-every`` with an e-mail address (the others' digests go to the
file channel).

*days* copies the template (``CREATE DATABASE … TEMPLATE``) and runs, in order, the first day
(2021-12-27: every notice of the day is new) and each working day after it to the Friday:
ordinary days, and two heavy ones (the Wednesday: the ladder's weekly repeats; the Friday: the
week's missing-report reminders), each as the flow runs it: collect (a batch of ``--files``
unit workbooks in the inbox), lights, notices, delivery (SMTP to a local aiosmtpd sink and the
file channel), publish (the coordinator's view and the desk's queues) and the twelve key-task
pages. Each stage is the Prefect task's own body (``.fn``), the artifacts it would upload built
and kept in memory (uploading them is Prefect's part). Beside them: the bare scan (a ``GROUP BY
state`` over ``work_item``, median of three) in the same run, the ratio of the database stages
(lights, notices, publish, pages) to it, the load average, and those stages' CPU time (the
client's and the local server's processes serving the copy: other load barely moves it).
Prefect's own overhead is not in these figures (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import logging
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import seed_history, seed_ladder_history, seed_reports, write_catalogue

from config.ladder import load_ladder
from config.settings import temporary_settings
from domain.queries.sync import sync_catalog
from domain.services.workbooks import write_workbook
from duban.sample import fill_workbook, progress_rows, workbook_ids
from models import clock
from models.db import dispose_engine, engine_for, session_scope
from models.migrate import upgrade
from models.orm import Plan, Unit, WorkItem
from models.records import Contact
from tasks_catalog.loader import load_catalog

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST_DAY = date(2021, 12, 27)
"""A Monday: the history seeded ends the week before; every notice of this day is new."""


def url_of(server: str, db: str) -> str:
    return make_url(server).set(database=db).render_as_string(False)


def admin(server: str) -> psycopg.Connection[Any]:
    u = make_url(server)
    return psycopg.connect(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, autocommit=True
    )


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


# ----------------------------------------------------------------------------------------- build


def build(args: argparse.Namespace) -> None:
    with admin(args.server) as a:
        a.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        a.execute(f'CREATE DATABASE "{args.db}"')
    url = url_of(args.server, args.db)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folder = write_catalogue(Path(tmp) / "plan", args.counties, seed=1)
        engine = engine_for(url)
        upgrade(engine)
        catalog, _ = load_catalog(folder)
        parsed = time.perf_counter()
        with temporary_settings(database_url=url, home=Path(tmp), inbox=None):
            with (
                clock.frozen_time(datetime(2021, 1, 4, 2, tzinfo=UTC)),
                session_scope(engine) as s,
            ):
                sync_catalog(s, catalog)
            synced = time.perf_counter()
            last_friday = FIRST_DAY - timedelta(days=3)
            with session_scope(engine) as s:
                plan_id = s.scalars(select(Plan.id)).one()
            seed_reports(engine, plan_id, last_friday, share=30, seed=1)
            reports, notices = seed_history(engine, plan_id, last_friday, weeks=args.history_weeks)
            notices += seed_ladder_history(engine, plan_id, FIRST_DAY, load_ladder())
            contacts = seed_contacts(engine, plan_id, args.smtp_every)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
            items = count_items(engine)
        dispose_engine(url)
    done = time.perf_counter()
    print(
        f"built {args.db}: {items} items; catalogue parsed {parsed - started:.1f} s, synced "
        f"{synced - parsed:.1f} s, history ({reports} reports, {notices} notices) and "
        f"{contacts} contacts {done - synced:.1f} s; load {load_average()}",
        flush=True,
    )


def history(args: argparse.Namespace) -> None:
    """Weeks ``had`` + 1 … ``weeks`` of reports and missing-report notices added to the
    template (older than those it has)."""
    url = url_of(args.server, args.db)
    engine = engine_for(url)
    upgrade(engine)
    started = time.perf_counter()
    with session_scope(engine) as s:
        plan_id = s.scalars(select(Plan.id)).one()
    reports, notices = seed_history(
        engine, plan_id, FIRST_DAY - timedelta(days=3), weeks=args.weeks - args.had, after=args.had
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
        total = c.execute(text("SELECT count(*) FROM notice")).scalar()
    dispose_engine(url)
    print(
        f"{args.db}: {reports} reports and {notices} notices added in "
        f"{time.perf_counter() - started:.1f} s; the outbox holds {total}",
        flush=True,
    )


def count_items(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(WorkItem)) or 0


def seed_contacts(engine: Engine, plan_id: str, smtp_every: int) -> int:
    """A liaison for every unit; one unit in ``smtp_every`` has an e-mail address."""
    with session_scope(engine) as s:
        ids = s.scalars(select(Unit.id).where(Unit.plan_id == plan_id).order_by(Unit.id)).all()
        rows: list[dict[str, object]] = [
            {
                "unit_id": uid,
                "name": f"联络员{n}",
                "role": "liaison",
                "email": f"u{uid}@example.org" if n % smtp_every == 0 else None,
                "addresses": [],
            }
            for n, uid in enumerate(ids)
        ]
        s.execute(insert(Contact), rows)
        return len(rows)


# ------------------------------------------------------------------------------------------ days


class Sink:
    """A local SMTP server (aiosmtpd) that counts what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller  # noqa: PLC0415

        self.count = 0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, *_: Any) -> str:  # noqa: N802 - aiosmtpd's name
                with sink.lock:
                    sink.count += 1
                return "250 OK"

        with socket.socket() as probe:  # a free port (the controller cannot take port 0)
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class Day:
    kind: str
    day: date
    stages: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    bare: float = 0.0
    load: str = ""
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def database(self) -> float:
        """The stages that are the cycle's database work (collect and delivery excepted)."""
        return sum(self.stages[k] for k in ("lights", "notices", "publish", "pages"))


DB_STAGES = ("lights", "notices", "publish", "pages")
STAGES = ("collect", "lights", "notices", "delivery", "publish", "pages")


def server_cpu(url: str) -> float:
    """The CPU seconds the server's processes serving ``url``'s database have used so far (0
    for a server on another machine: its processes are not in this one's ``/proc``)."""
    u = make_url(url)
    if u.host not in {"127.0.0.1", "localhost", "::1"}:
        return 0.0
    with admin(url_of(url, "postgres")) as a:
        rows = a.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [u.database])
        pids = [r[0] for r in rows]
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def week_of(first: date) -> list[tuple[str, date]]:
    """The first day and every day after it up to the Friday: the first day (every notice
    new), then ordinary days, the Wednesday (the ladder's repeats, five working days after the
    first day's) and the Friday (the week's missing-report reminders, on the reports' due day)."""
    friday = first + timedelta(days=(4 - first.weekday()) % 7)
    kinds = {2: "repeats", 4: "reminders"}
    return [("first", first)] + [
        (kinds.get(d.weekday(), "ordinary"), d)
        for d in (first + timedelta(days=n) for n in range(1, (friday - first).days + 1))
    ]


class Recorder:
    """Stands in for Prefect's artifact calls and run logger outside a run."""

    def __init__(self) -> None:
        self.artifacts = 0
        self.log = logging.getLogger("bench")

    def artifact(self, *_: Any, **__: Any) -> None:
        self.artifacts += 1

    def logger(self) -> logging.Logger:
        return self.log


@contextmanager
def outside_prefect(recorder: Recorder) -> Iterator[None]:
    names = [
        "flows.stages.create_markdown_artifact",
        "flows.stages.create_table_artifact",
        "flows.stages.create_link_artifact",
        "flows.desk.create_markdown_artifact",
    ]
    with contextlib.ExitStack() as stack:
        for n in names:
            stack.enter_context(mock.patch(n, recorder.artifact))
        stack.enter_context(mock.patch("flows.stages.logger", recorder.logger))
        stack.enter_context(mock.patch("flows.desk.logger", recorder.logger))
        yield


def inbox_batch(url: str, plan_id: str, inbox: Path, period: date, n: int, seed: int) -> int:
    """``n`` village workbooks filled in as units do, waiting in the inbox."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    engine = engine_for(url)
    with session_scope(engine) as s:
        plan = s.get(Plan, plan_id)
        assert plan is not None
        units = s.scalars(
            select(Unit)
            .where(Unit.plan_id == plan_id, Unit.kind.in_(["village", "community"]))
            .order_by(Unit.code)
            .offset(seed * n)
            .limit(n)
        ).all()
        staging = inbox.parent / "staging"
        inbox.mkdir(parents=True, exist_ok=True)
        for unit in units:
            made = write_workbook(s, plan, unit, period, staging)
            fill_workbook(made.path, progress_rows(rng, workbook_ids(made.path), {}), None)
            made.path.rename(inbox / made.path.name)
    return len(units)


def bare_scan(url: str) -> float:
    """The median of three ``GROUP BY state`` scans of ``work_item`` (after one to warm)."""
    engine = engine_for(url)
    bare = select(WorkItem.state, func.count(), func.max(WorkItem.due)).group_by(WorkItem.state)
    times = []
    with session_scope(engine, rollback=True) as s:
        s.execute(bare).all()
        for _ in range(3):
            start = time.perf_counter()
            s.execute(bare).all()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_day(
    url: str, home: Path, plan_id: str, kind: str, day: date, files: int, n: int, *, deliver: bool
) -> Day:
    from flows.desk import publish_desk  # noqa: PLC0415
    from flows.stages import (  # noqa: PLC0415
        collect_reports,
        deliver_notices,
        evaluate_lights,
        plan_notices,
        publish_plan_view,
        publish_task_page,
    )

    result = Day(kind, day)
    inbox = home / "inbox" / day.isoformat()
    result.counts["files"] = inbox_batch(url, plan_id, inbox, day - timedelta(days=3), files, n)
    recorder = Recorder()
    with (
        temporary_settings(inbox=inbox),
        outside_prefect(recorder),
        clock.frozen_time(
            datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
        ),
        Sink() as sink,
        temporary_settings(
            channel="smtp", smtp_host="127.0.0.1", smtp_port=sink.port, smtp_security="none"
        ),
    ):
        result.bare = bare_scan(url)
        result.load = load_average()

        def timed(stage: str, fn: Callable[[], Any]) -> Any:
            # CPU beside the wall time: the client's and the server's (its processes serving
            # the copy, pooled connections kept between stages), robust to other load
            cpu = time.process_time() + (server := server_cpu(url))
            start = time.perf_counter()
            value = fn()
            result.stages[stage] = time.perf_counter() - start
            after = server_cpu(url)
            result.cpu[stage] = time.process_time() + after - cpu
            result.cpu[f"{stage} server"] = after - server
            return value

        collected = timed("collect", lambda: collect_reports.fn(plan_id))
        lights = timed("lights", lambda: evaluate_lights.fn(plan_id, day))
        planned = timed("notices", lambda: plan_notices.fn(plan_id, day))
        delivered = (
            timed("delivery", lambda: deliver_notices.fn(plan_id))
            if deliver
            else {"sent": 0, "failed": 0, "quiet": 1}
        )
        timed(
            "publish",
            lambda: (publish_plan_view.fn(plan_id, lights), publish_desk.fn(plan_id, day)),
        )
        timed(
            "pages",
            lambda: [publish_task_page.fn(plan_id, t.task, day) for t in lights.status.tasks],
        )
        result.counts.update(
            landed=collected["landed"],
            notices=planned["new"],
            sent=delivered["sent"],
            failed=delivered["failed"],
            quiet=delivered["quiet"],
            smtp=sink.count,
            pages=len(lights.status.tasks),
            artifacts=recorder.artifacts,
        )
    return result


def copy_template(server: str, template: str, db: str) -> str:
    """A fresh copy of ``template`` named ``db``; while another process is connected to the
    template (another run checking its schema), tried again for up to a minute."""
    with admin(server) as a:
        a.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        for attempt in range(60):
            try:
                a.execute(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 59:
                    raise
                time.sleep(1)
    return url_of(server, db)


def days(args: argparse.Namespace) -> None:
    template = url_of(args.server, args.db)
    upgrade(engine_for(template))  # the template at the code's schema (new indexes built once)
    dispose_engine(template)
    runs: list[list[Day]] = []
    copy = args.copy or f"{args.db}_days"  # not delivery's copy: both may run at once
    for n in range(args.runs):
        started = time.perf_counter()
        url = copy_template(args.server, args.db, copy)
        copied = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            with temporary_settings(database_url=url, home=home, inbox=None):
                with session_scope(engine_for(url)) as s:
                    plan_id = s.scalars(select(Plan.id)).one()
                week = []
                for kind, day in week_of(args.first_day):
                    d = one_day(url, home, plan_id, kind, day, args.files, n, deliver=args.deliver)
                    week.append(d)
                    print(
                        f"run {n + 1} {kind:8} {day}  "
                        + "  ".join(f"{k}={v:.2f}s" for k, v in d.stages.items())
                        + f"  db work={d.database:.2f}s"
                        + f" (cpu {sum(d.cpu[k] for k in DB_STAGES):.2f}s,"
                        + f" server {sum(d.cpu[f'{k} server'] for k in DB_STAGES):.2f}s)"
                        + f"  bare={d.bare * 1000:.0f}ms"
                        f"  ratio={d.database / d.bare:.1f}x  {d.counts}  load {d.load}",
                        flush=True,
                    )
                runs.append(week)
            dispose_engine(url)
        print(f"(copy of the template {copied:.1f} s)", flush=True)
    with admin(args.server) as a:
        a.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    summary(runs)


class FirstRecipients:
    """Stands in for the digests already sent today: the first ``n`` recipients asked about
    have none, every later one has reached its cap (so one run writes ``n`` digests)."""

    def __init__(self, n: int) -> None:
        self.n, self.asked = n, 0

    def get(self, _recipient: str, _default: int = 0) -> int:
        self.asked += 1
        return 0 if self.asked <= self.n else sys.maxsize


def delivery(args: argparse.Namespace) -> None:
    """The first day's notices planned on a fresh copy, then its first ``--digests`` digests
    delivered as the flow's stage does it, timed: wall clock, this process's CPU time and the
    SQL statements sent (``--profile FILE``: the delivery under cProfile)."""
    from flows.stages import deliver_notices, plan_notices  # noqa: PLC0415

    template = url_of(args.server, args.db)
    upgrade(engine_for(template))
    dispose_engine(template)
    copy = args.copy or f"{args.db}_deliver"  # not the `days` copy's name: both may run at once
    url = copy_template(args.server, args.db, copy)
    day = args.first_day
    statements = Statements()
    with tempfile.TemporaryDirectory() as tmp:
        with temporary_settings(database_url=url, home=Path(tmp), inbox=None):
            with session_scope(engine_for(url)) as s:
                plan_id = s.scalars(select(Plan.id)).one()
            at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
            with (
                outside_prefect(Recorder()),
                clock.frozen_time(at),
                Sink() as sink,
                temporary_settings(
                    channel="smtp",
                    smtp_host="127.0.0.1",
                    smtp_port=sink.port,
                    smtp_security="none",
                    # personal links in the liaisons' digests, as where the owner's page is served
                    web_base_url=None if args.no_links else "https://duban.example.gov.cn",
                ),
                mock.patch(
                    "domain.services.delivery.digests_today",
                    lambda *_: FirstRecipients(args.digests),
                ),
            ):
                planned = plan_notices.fn(plan_id, day)["new"]
                load = load_average()
                profile = cProfile.Profile() if args.profile else None
                with statements.counting(engine_for(url)):
                    start, cpu, server = time.perf_counter(), os.times(), server_cpu(url)
                    if profile is not None:
                        profile.enable()
                    sent = deliver_notices.fn(plan_id)["sent"]
                    if profile is not None:
                        profile.disable()
                    took, server = time.perf_counter() - start, server_cpu(url) - server
                    own, workers = cpu_since(cpu)
                if profile is not None:
                    profile.dump_stats(args.profile)
        dispose_engine(url)
    with admin(args.server) as a:
        a.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    n = max(sent, 1)
    print(
        f"{day}: {planned} notices planned; {sent} digests delivered in {took:.1f} s "
        f"({took / n * 1000:.1f} ms a digest, {sink.count} by SMTP; this process's CPU "
        f"{own:.1f} s, its worker processes' {workers:.1f} s, the server's {server:.1f} s; "
        f"{statements.count} statements in this process, {statements.count / n:.1f} a digest); "
        f"load {load} → {load_average()}",
        flush=True,
    )


def cpu_since(before: os.times_result) -> tuple[float, float]:
    """The CPU seconds this process and its ended child processes (the delivery workers) have
    used since ``before``."""
    now = os.times()
    own = now.user + now.system - before.user - before.system
    return (
        own,
        now.children_user + now.children_system - before.children_user - before.children_system,
    )


class Statements:
    """Counts the SQL statements an engine sends (an executemany counts once)."""

    def __init__(self) -> None:
        self.count = 0

    def _seen(self, *_: object) -> None:
        self.count += 1

    @contextmanager
    def counting(self, engine: Engine) -> Iterator[None]:
        event.listen(engine, "before_cursor_execute", self._seen)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", self._seen)


def summary(runs: list[list[Day]]) -> None:
    """Median over the runs of each stage, for each kind of day reported."""
    for i, d0 in enumerate(runs[0]):
        same = [week[i] for week in runs]
        med = {k: statistics.median(d.stages[k] for d in same) for k in STAGES if k in d0.stages}
        db = statistics.median(d.database for d in same)
        cpu = statistics.median(sum(d.cpu[k] for k in DB_STAGES) for d in same)
        bare = statistics.median(d.bare for d in same)
        print(
            f"median of {len(same)} — {d0.kind} ({d0.day}): "
            + "  ".join(f"{k}={v:.2f}s" for k, v in med.items())
            + f"  db work={db:.2f}s (cpu {cpu:.2f}s)  bare={bare * 1000:.0f}ms"
            f"  ratio={db / bare:.1f}x"
            f"  counts {next(d.counts for d in same)}  loads {[d.load for d in same]}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server (any database on it)")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="a province kept as a template database")
    b.add_argument("--counties", type=int, default=300)
    b.add_argument("--db", default="bench_cycle_base")
    b.add_argument("--history-weeks", type=int, default=26)
    b.add_argument("--smtp-every", type=int, default=5, help="one unit in N has an e-mail")
    d = sub.add_parser("days", help="the first, an ordinary and a heavy day on copies")
    d.add_argument("--db", default="bench_cycle_base")
    d.add_argument("--runs", type=int, default=3)
    d.add_argument("--files", type=int, default=50, help="unit workbooks in the inbox a day")
    d.add_argument("--first-day", type=date.fromisoformat, default=FIRST_DAY)
    d.add_argument(
        "--no-delivery",
        dest="deliver",
        action="store_false",
        help="leave the outbox pending (delivery at 10⁶ takes hours: see BENCHMARKS.md)",
    )
    d.add_argument("--copy", help="the copy's database name (default: DB_days)")
    h = sub.add_parser("history", help="more weeks of outbox history in the template")
    h.add_argument("--db", default="bench_cycle_base")
    h.add_argument("--weeks", type=int, default=104, help="weeks in all (26 are there)")
    h.add_argument("--had", type=int, default=26, help="weeks the template has")
    v = sub.add_parser("delivery", help="the first day's first N digests delivered, timed")
    v.add_argument("--db", default="bench_cycle_base")
    v.add_argument("--digests", type=int, default=10_000)
    v.add_argument("--first-day", type=date.fromisoformat, default=FIRST_DAY)
    v.add_argument("--profile", type=Path, help="write the delivery's cProfile statistics here")
    v.add_argument("--copy", help="the copy's database name (default: DB_deliver)")
    v.add_argument(
        "--no-links", action="store_true", help="no personal links (no DUBAN_WEB_BASE_URL)"
    )
    args = parser.parse_args()
    commands = {"build": build, "days": days, "history": history, "delivery": delivery}
    commands[args.command](args)


if __name__ == "__main__":
    main()
