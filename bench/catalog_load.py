"""A province's catalogue read and loaded on a fresh database: parse, then the first sync.

    PYTHONPATH=. .venv/bin/python bench/catalog_load.py --counties 300 [--runs 3]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432] [--db bench_catalog]

Writes the synthetic catalogue once (``bench/synthetic.py``: 300 counties ≈ 10⁶ work items),
then for each run drops and creates the database ``--db`` on ``--server``, migrates it, and
times, in this process, :func:`~tasks_catalog.loader.load_catalog` (parse, validate, check) and
:func:`~domain.queries.sync.sync_catalog` with its commit (what `duban catalog sync DIR` runs).
Prints each run's wall seconds, the CPU seconds of this process and of its PostgreSQL server
process (when on this machine) and the load average, then the medians. On a shared machine the
CPU seconds are the steadier figure. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_catalogue  # bench/ is not a package: on the path above

from domain.queries.sync import sync_catalog
from models import clock
from models.db import session_scope
from models.migrate import upgrade
from tasks_catalog.loader import load_catalog


def fresh_database(server: str, name: str) -> str:
    """Drop and create database ``name`` on ``server``; returns its URL, migrated."""
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{server}/{name}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def drop_database(server: str, name: str) -> None:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the database's server process ``pid`` so far, when it
    runs on this machine and /proc shows it; else 0."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(folder: Path, url: str) -> dict[str, float]:
    """Parse and first sync of ``folder`` into ``url``: wall and CPU seconds."""
    engine = create_engine(url)
    cpu, start = time.process_time(), time.perf_counter()
    catalog, _ = load_catalog(folder)
    parsed = time.perf_counter()
    # as the benchmarks of the cycle do: the plan loaded on its first working day
    with clock.frozen_time(datetime(2021, 1, 4, 2, tzinfo=UTC)), session_scope(engine) as s:
        backend = int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
        server_cpu = backend_cpu(backend)
        report = sync_catalog(s, catalog)
        server_cpu = backend_cpu(backend) - server_cpu
    done = time.perf_counter()
    engine.dispose()
    items = report.added.get("work items", 0)
    return {
        "items": items,
        "parse": parsed - start,
        "sync": done - parsed,
        "total": done - start,
        "cpu": time.process_time() - cpu,
        "server cpu": server_cpu,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_catalog")
    args = parser.parse_args()
    if args.db == "test":
        sys.exit("--db test is the test suite's database: choose another")
    folder = write_catalogue(
        Path(tempfile.mkdtemp(prefix="province-")) / "catalogue", args.counties, seed=1
    )
    runs = []
    try:
        for n in range(1, args.runs + 1):
            url = fresh_database(args.server, args.db)
            r = one_run(folder, url)
            runs.append(r)
            print(
                f"run {n}: {r['items']:,.0f} items  parse {r['parse']:.1f} s"
                f"  sync {r['sync']:.1f} s"
                f"  total {r['total']:.1f} s  (cpu: this process {r['cpu']:.1f} s,"
                f" PostgreSQL's {r['server cpu']:.1f} s before its commit;"
                f" load average {r['load']:.1f})",
                flush=True,
            )
    finally:
        drop_database(args.server, args.db)
    kinds = ("parse", "sync", "total", "cpu", "server cpu")
    median = {k: statistics.median(r[k] for r in runs) for k in kinds}
    loads = ", ".join(f"{r['load']:.1f}" for r in runs)
    print(
        f"median of {len(runs)}: parse {median['parse']:.1f} s  sync {median['sync']:.1f} s"
        f"  total {median['total']:.1f} s  cpu {median['cpu']:.1f} s"
        f" + {median['server cpu']:.1f} s  (load averages {loads})"
    )


if __name__ == "__main__":
    main()
