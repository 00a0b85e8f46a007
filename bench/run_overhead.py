"""What `duban run daily-cycle` costs beyond its work, with and without a Prefect server up.

    PYTHONPATH=. .venv/bin/python bench/run_overhead.py --home DIR [--runs 3] [--port 4627]
        [--as-of 2021-12-27] [--rest-day 2021-12-26]

DIR is a data directory with a synced plan (``duban demo``'s, or any ``DUBAN_HOME``; set
``DUBAN_DATABASE_URL`` for PostgreSQL). Each command runs as a fresh process, first with no
server on ``--port`` (the command starts one of its own and stops it), then with `duban server`
up for the same data directory. On the rest day the flow only asks the calendar and ends: its
time is the command's overhead (start-up, imports, the server, one flow run). The working day
runs the whole cycle; the difference between the two columns there is the server's start.
Prints the median wall seconds of each and the load average beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from duban.orchestration import healthy


def duban(*args: str) -> list[str]:
    """The command line of ``duban args`` (this interpreter, the duban on PYTHONPATH)."""
    return [sys.executable, "-c", "from duban.cli import main; main()", *args]


def timed_run(env: dict[str, str], day: str, up: bool) -> float:
    """Wall seconds of one `duban run daily-cycle --as-of day`; checks it used the server."""
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter
        duban("run", "daily-cycle", "--as-of", day),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"duban run failed ({done.returncode}):\n{done.stderr}")
    used_server = "在 Prefect 界面查看这次运行" in done.stdout
    if used_server != up:
        sys.exit(f"expected the run {'on' if up else 'without'} the running server:\n{done.stdout}")
    return wall


def series(env: dict[str, str], day: str, runs: int, up: bool) -> str:
    walls = [timed_run(env, day, up) for _ in range(runs)]
    load = os.getloadavg()[0]
    each = ", ".join(f"{w:.1f}" for w in walls)
    return f"{statistics.median(walls):6.2f} s (load {load:.1f}; runs {each})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=4627)
    parser.add_argument("--as-of", default="2021-12-27")
    parser.add_argument("--rest-day", default="2021-12-26")
    args = parser.parse_args()
    env = {
        **os.environ,
        "DUBAN_HOME": str(args.home),
        "DUBAN_PREFECT_PORT": str(args.port),
    }
    env.pop("DUBAN_PREFECT_API_URL", None)
    url = f"http://127.0.0.1:{args.port}/api"
    if healthy(url):
        sys.exit(f"something already answers on port {args.port}: choose another with --port")
    days = {"rest day": args.rest_day, "working day": args.as_of}
    without = {label: series(env, day, args.runs, up=False) for label, day in days.items()}
    server = subprocess.Popen(  # noqa: S603 - our own interpreter
        duban("server"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while not healthy(url):
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("`duban server` did not start")
            time.sleep(0.5)
        with_server = {label: series(env, day, args.runs, up=True) for label, day in days.items()}
    finally:
        server.terminate()
        server.wait(timeout=60)
    for label, day in days.items():
        print(f"{label} ({day})")
        print(f"  no server up (starts its own): {without[label]}")
        print(f"  `duban server` up:             {with_server[label]}")


if __name__ == "__main__":
    main()
