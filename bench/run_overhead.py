"""What `duban run daily-cycle` costs beyond its work, with and without a Prefect server up.

    PYTHONPATH=. .venv/bin/python bench/run_overhead.py --home DIR [--runs 3] [--port 4627]
        [--as-of 2021-12-27] [--rest-day 2021-12-26] [--server-only]
    PYTHONPATH=. .venv/bin/python bench/run_overhead.py --db bench_cycle_base --copy NAME
        [--runs 3] [--port 4627] [--as-of 2021-12-28] [--rest-day 2021-12-26]
        [--delivery-hours 08:30-09:00] [--day-before 2021-12-27]

DIR is a data directory with a synced plan (``duban demo``'s, or any ``DUBAN_HOME``; set
``DUBAN_DATABASE_URL`` for PostgreSQL). Each command runs as a fresh process, first with no
server on ``--port`` (the command starts one of its own and stops it), then with `duban server`
up for the same data directory. On the rest day the flow only asks the calendar and ends: its
time is the command's overhead (start-up, imports, the server, one flow run). The working day
runs the whole cycle; the difference between the two columns there is the server's start.

With ``--db TEMPLATE`` (PostgreSQL, e.g. the 10⁶-item ``bench_cycle_base`` of
bench/daily_cycle.py), every run works on a fresh copy of it named ``--copy`` (dropped at the
end), in an empty temporary data directory (no inbox), with `duban server` up only; give
``--delivery-hours`` outside the current time to hold the delivery, as an ordinary day's run
before the hours would be, and ``--day-before`` the day before ``--as-of``: its cycle is run
once (untimed) and each run copies the state after it, so the day timed is an ordinary day (on
the template itself, any later day is a first day: it writes the whole backlog of notices).

Prints, for each run, the wall seconds, the command's CPU (its process and children), the CPU
the Prefect server's processes used meanwhile, and the load average; then the medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from duban.orchestration import healthy

PG_SERVER = "postgresql+psycopg://root@127.0.0.1:5432/postgres"


def duban(*args: str) -> list[str]:
    """The command line of ``duban args`` (this interpreter, the duban on PYTHONPATH)."""
    return [sys.executable, "-c", "from duban.cli import main; main()", *args]


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its live descendants (from ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    wanted, total = {pid}, 0
    grew = True
    while grew:
        grew = False
        for p, fields in stats.items():
            if p not in wanted and int(fields[1]) in wanted:  # fields[1]: the parent's pid
                wanted.add(p)
                grew = True
    for p in wanted & stats.keys():
        total += int(stats[p][11]) + int(stats[p][12])  # utime, stime
    return total / tick


class BackendCpu:
    """The CPU seconds PostgreSQL's backends serving database ``db`` use while it runs: their
    ``/proc`` figures sampled every 0.1 s (a backend's last 0.1 s before it exits is missed)."""

    def __init__(self, db: str | None) -> None:
        self.db, self.seen, self.done = db, dict[int, int](), threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.done.wait(0.1):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                with suppress(OSError):
                    title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    if title.startswith("postgres:") and f" {self.db} " in title:
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                        self.seen[int(entry.name)] = int(fields[11]) + int(fields[12])

    def __enter__(self) -> BackendCpu:
        if self.db:
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        if self.db:
            self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values()) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float  # the command's process and its children
    server_cpu: float  # the Prefect server's processes meanwhile (0 when none is ours)
    pg_cpu: float  # PostgreSQL's backends on the copy (0 without --db)
    load: float  # 1-minute load average at the end

    def __str__(self) -> str:
        return (
            f"wall {self.wall:5.1f} s, command CPU {self.cpu:4.1f} s, "
            f"Prefect server CPU {self.server_cpu:4.1f} s, PostgreSQL CPU {self.pg_cpu:4.1f} s, "
            f"load {self.load:.1f}"
        )


def timed_run(env: dict[str, str], day: str, up: bool, server: int | None, db: str | None) -> Run:
    """One `duban run daily-cycle --as-of day`; checks it used the server when ``up``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = tree_cpu(server) if server else 0.0
    with BackendCpu(db) as pg:
        start = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own interpreter
            duban("run", "daily-cycle", "--as-of", day),
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode:
        sys.exit(f"duban run failed ({done.returncode}):\n{done.stderr}")
    used_server = "在 Prefect 界面查看这次运行" in done.stdout
    if used_server != up:
        sys.exit(f"expected the run {'on' if up else 'without'} the running server:\n{done.stdout}")
    served = (tree_cpu(server) - served) if server else 0.0
    return Run(wall, cpu, served, pg.seconds, os.getloadavg()[0])


def series(
    env: dict[str, str], day: str, runs: int, up: bool, server: int | None, fresh: Fresh | None
) -> str:
    done = []
    for i in range(runs):
        if fresh is not None:
            fresh.copy()
        done.append(timed_run(env, day, up, server, fresh.name if fresh else None))
        print(f"    {day} run {i + 1}: {done[-1]}", flush=True)
    wall = statistics.median(r.wall for r in done)
    cpu = statistics.median(r.cpu for r in done)
    srv = statistics.median(r.server_cpu for r in done)
    pg = statistics.median(r.pg_cpu for r in done)
    low, high = min(r.load for r in done), max(r.load for r in done)
    return (
        f"{wall:6.2f} s wall; CPU: command {cpu:4.1f} s, Prefect server {srv:4.1f} s, "
        f"PostgreSQL {pg:4.1f} s (load {low:.1f}–{high:.1f})"
    )


@dataclass
class Fresh:
    """A fresh copy of a template database before each run."""

    server: str
    template: str
    name: str

    @property
    def url(self) -> str:
        from sqlalchemy import make_url  # noqa: PLC0415

        return make_url(self.server).set(database=self.name).render_as_string(False)

    def admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text  # noqa: PLC0415

        engine = create_engine(self.server, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as c:
                c.execute(text(sql))
        finally:
            engine.dispose()

    def copy(self) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        for attempt in range(60):  # another session may be copying the template
            try:
                self.admin(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"')
                return
            except Exception:
                if attempt == 59:
                    raise
                time.sleep(5)

    def drop(self) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        if self.template == f"{self.name}_before":
            self.admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')

    def after_day(self, env: dict[str, str], day: str) -> None:
        """Copy the template's state after the daily cycle of ``day`` instead (made once, in
        ``NAME_before``): the day timed next is then an ordinary one, not a first day."""
        before = Fresh(self.server, self.template, f"{self.name}_before")
        before.copy()
        done = subprocess.run(  # noqa: S603 - our own interpreter
            duban("run", "daily-cycle", "--as-of", day),
            env={**env, "DUBAN_DATABASE_URL": before.url},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            sys.exit(f"the day before failed ({done.returncode}):\n{done.stderr}")
        print(f"  (the cycle of {day} run on {before.name} first)", flush=True)
        self.template = before.name


@contextmanager
def duban_server(env: dict[str, str], url: str) -> Iterator[int]:
    """`duban server` up for ``env``'s data directory; yields its pid."""
    server = subprocess.Popen(  # noqa: S603 - our own interpreter
        duban("server"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while not healthy(url):
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("`duban server` did not start")
            time.sleep(0.5)
        yield server.pid
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="the data directory (default: a temporary one)")
    parser.add_argument("--db", help="a PostgreSQL template database, copied before each run")
    parser.add_argument("--copy", help="the copy's database name (with --db)")
    parser.add_argument("--pg", default=PG_SERVER, help="the PostgreSQL server (with --db)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=4627)
    parser.add_argument("--as-of", default="2021-12-27")
    parser.add_argument("--rest-day", default="2021-12-26")
    parser.add_argument("--delivery-hours", help="DUBAN_DELIVERY_HOURS for the runs")
    parser.add_argument("--day-before", help="with --db: a day whose cycle runs first, once")
    parser.add_argument("--server-only", action="store_true", help="only with `duban server` up")
    args = parser.parse_args()
    if (args.home is None) == (args.db is None):
        parser.error("give --home DIR or --db TEMPLATE")
    if args.db and not args.copy:
        parser.error("--db needs --copy NAME")
    with tempfile.TemporaryDirectory(prefix="run-overhead-") as scratch:
        env = {
            **os.environ,
            "DUBAN_HOME": str(args.home or scratch),
            "DUBAN_PREFECT_PORT": str(args.port),
        }
        env.pop("DUBAN_PREFECT_API_URL", None)
        if args.delivery_hours:
            env["DUBAN_DELIVERY_HOURS"] = args.delivery_hours
        fresh = Fresh(args.pg, args.db, args.copy) if args.db else None
        if fresh is not None:
            env["DUBAN_DATABASE_URL"] = fresh.url
        try:
            measure(args, env, fresh)
        finally:
            if fresh is not None:
                fresh.drop()


def measure(args: argparse.Namespace, env: dict[str, str], fresh: Fresh | None) -> None:
    url = f"http://127.0.0.1:{args.port}/api"
    if healthy(url):
        sys.exit(f"something already answers on port {args.port}: choose another with --port")
    days = {"rest day": args.rest_day, "working day": args.as_of}
    both = not (args.server_only or fresh)
    without = (
        {label: series(env, day, args.runs, False, None, fresh) for label, day in days.items()}
        if both
        else {}
    )
    if fresh is not None:
        fresh.copy()  # `duban server` checks the database it serves
    with duban_server(env, url) as pid:
        if fresh is not None and args.day_before:
            fresh.after_day(env, args.day_before)
        with_server = {
            label: series(env, day, args.runs, True, pid, fresh) for label, day in days.items()
        }
    for label, day in days.items():
        print(f"{label} ({day})")
        if both:
            print(f"  no server up (starts its own): {without[label]}")
        print(f"  `duban server` up:             {with_server[label]}")


if __name__ == "__main__":
    main()
