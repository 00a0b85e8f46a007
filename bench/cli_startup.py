"""Time the command line's start-up: ``duban --help``, ``duban status`` and ``import duban.cli``.

    .venv/bin/python bench/cli_startup.py [--runs N] [--home DIR] [--against CHECKOUT]

Each command runs N times as a fresh subprocess; prints the median wall and CPU (user + system
of the child) seconds, the load average before and after, then which heavy libraries
``import duban.cli`` loads. ``status`` reads the demo database in DIR (``DUBAN_HOME``); without
``--home`` one is made with ``duban demo`` in a temporary folder (about half a minute).
``--against``: each command of this checkout and of another one (its ``PYTHONPATH``), run in
turns, for an A/B on a shared machine. Bytecode is written and read as usual (a
``PYTHONDONTWRITEBYTECODE`` of the caller is dropped): the first, untimed run caches it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HEAVY = ("matplotlib", "numpy", "openpyxl", "docx", "apprise", "prefect", "alembic")
BIN = Path(sys.executable).parent
DUBAN = str(BIN / "duban")


def run(argv: list[str], env: dict[str, str]) -> str:
    """Run ``argv`` (our own interpreter or its ``duban``) and return its output; a failure
    stops the benchmark. It runs in the temporary folder, so ``python -c`` imports the duban
    on its path (``PYTHONPATH=<other checkout>`` times another version), not the current
    folder's."""
    done = subprocess.run(  # noqa: S603
        argv, env=env, cwd=tempfile.gettempdir(), check=False, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed (exit status {done.returncode}):\n{done.stderr}")
    return done.stdout


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run(argv, env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def timed(label: str, argv: list[str], env: dict[str, str], runs: int) -> None:
    """Print the median wall and CPU seconds of ``runs`` runs (after one untimed warm-up)."""
    run_once(argv, env)
    walls, cpus = zip(*(run_once(argv, env) for _ in range(runs)), strict=True)
    report(label, walls, cpus)


def report(label: str, walls: Sequence[float], cpus: Sequence[float]) -> None:
    """One line: the median wall and CPU seconds of the runs."""
    print(
        f"{label:<48} wall {statistics.median(walls):.3f} s"
        f"  cpu {statistics.median(cpus):.3f} s  (median of {len(walls)})"
    )


def a_b(argv: list[str], envs: dict[str, dict[str, str]], runs: int) -> None:
    """``argv`` under each of ``envs`` in turns (the order flipped every round), ``runs`` times
    each after one untimed warm-up; prints each one's medians."""
    for env in envs.values():
        run_once(argv, env)
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in envs}
    for n in range(runs):
        for label in list(envs)[:: 1 if n % 2 == 0 else -1]:
            times[label].append(run_once(argv, envs[label]))
    for label, pairs in times.items():
        walls, cpus = zip(*pairs, strict=True)
        report(label, walls, cpus)


def load() -> str:
    """The 1-minute load average, for the record (the machine is shared)."""
    return f"{os.getloadavg()[0]:.1f}"


def heavy_after_import(env: dict[str, str]) -> list[str]:
    """The heavy libraries in ``sys.modules`` after ``import duban.cli`` in a fresh process."""
    probe = f"import sys, duban.cli; print(*[m for m in {HEAVY!r} if m in sys.modules])"
    return run([sys.executable, "-c", probe], env).split()


def demo_home(folder: Path, env: dict[str, str]) -> Path:
    """A demo database made by ``duban demo`` in ``folder``."""
    home = folder / "demo"
    print(f"making the demo database in {home} …")
    run([DUBAN, "demo", "--home", str(home)], env)
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median)")
    parser.add_argument("--home", type=Path, help="a DUBAN_HOME holding the demo database")
    parser.add_argument(
        "--against", type=Path, help="another checkout: each command of both, in turns"
    )
    args = parser.parse_args()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DUBAN_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    print(f"load average {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        env["XDG_STATE_HOME"] = tmp  # a fault log, if any, stays out of the user's home
        home = args.home or demo_home(Path(tmp), env)
        env["DUBAN_HOME"] = str(home)
        commands = {
            "python -c 'import duban.cli'": [sys.executable, "-c", "import duban.cli"],
            "duban --help": [DUBAN, "--help"],
            "duban status --as-of 2021-12-27": [DUBAN, "status", "--as-of", "2021-12-27"],
        }
        if args.against is None:
            for label, argv in commands.items():
                timed(label, argv, env, args.runs)
        else:
            here = Path(__file__).resolve().parent.parent
            for label, argv in commands.items():
                envs = {
                    f"{label}, {checkout.name}": env | {"PYTHONPATH": str(checkout)}
                    for checkout in (here, args.against.resolve())
                }
                a_b(argv, envs, args.runs)
        loaded = heavy_after_import(env)
    print(f"heavy modules after import duban.cli: {', '.join(loaded) or 'none'}")
    print(f"load average {load()}")


if __name__ == "__main__":
    main()
