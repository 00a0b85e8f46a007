"""Set up duban in a local virtual environment and run the main job or the tests.

Usage (from the repository root, with Python 3.11 or newer):

    python3 dev.py demo [ARGS...]   # the main job on the embedded default (SQLite)
    python3 dev.py test [ARGS...]   # ruff, mypy, then the whole pytest suite on SQLite and,
                                    # alongside it, on PostgreSQL (127.0.0.1:5432, database
                                    # `test`; DUBAN_TEST_BACKENDS=sqlite runs only the first,
                                    # DUBAN_TEST_SERIAL=1 runs the backends one after the other)
    python3 dev.py setup            # only create or refresh .venv

The virtual environment lives in `.venv/`. It is (re)installed when `pyproject.toml` changes;
pip's own output goes to `.venv/install.log` and is shown only if the install fails.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / "duban-install.sha256"
LOG = VENV / "install.log"


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create `.venv` and install duban with its dev extras, unless already current."""
    if sys.version_info < (3, 11):
        sys.exit(f"duban needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text().strip() == _fingerprint():
        return
    if not (BIN / "python").exists():
        print("setting up .venv (first run only, about a minute) ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    else:
        print("pyproject.toml changed: refreshing .venv ...", flush=True)
    cmd = [
        str(BIN / "python"),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-e",
        f"{ROOT}[dev]",
    ]
    with LOG.open("w") as log:
        done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        sys.stderr.write(LOG.read_text()[-4000:])
        sys.exit(f"installing duban failed (exit {done.returncode}); full log: {LOG}")
    STAMP.write_text(_fingerprint())


def run(args: list[str], env: dict[str, str] | None = None) -> int:
    """Run one step inside the virtual environment (``env`` added to ours) and return its exit
    code."""
    return subprocess.run(args, cwd=ROOT, env=step_env(env), check=False).returncode


def step_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment for a step, without telemetry or bytecode files, plus ``extra``."""
    return {**os.environ, "DO_NOT_TRACK": "1", "PYTHONDONTWRITEBYTECODE": "1", **(extra or {})}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "setup"}:
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "setup":
        return 0
    if command == "demo":
        return run([str(BIN / "duban"), "demo", *rest])
    for step in (
        [str(BIN / "ruff"), "check", "--quiet", "."],
        [str(BIN / "ruff"), "format", "--check", "--quiet", "."],
        [str(BIN / "mypy"), "--no-error-summary", "."],
    ):
        code = run(step)
        if code != 0:
            print(f"{Path(step[0]).name} failed (exit {code})", file=sys.stderr)
            return code
    # the whole suite on each backend (DUBAN_TEST_BACKENDS=sqlite for a machine without PostgreSQL)
    backends = [b.strip() for b in os.environ.get("DUBAN_TEST_BACKENDS", DEFAULT).split(",")]
    return run_suites([b for b in backends if b], rest)


DEFAULT = "sqlite,postgresql"


def run_suites(backends: list[str], rest: list[str]) -> int:
    """Run pytest once per backend: the first in the foreground, the others alongside it, their
    output shown when the first ends (each suite is mostly one busy core, and CI has two). With
    DUBAN_TEST_SERIAL=1, one after the other. The exit code is the first failure's, else 0."""
    if os.environ.get("DUBAN_TEST_SERIAL") == "1" or len(backends) < 2:
        for backend in backends:
            print(f"== tests on {backend} ==", flush=True)
            code = run(pytest_command(rest), env=suite_env(backend))
            if code != 0:
                return code
        return 0
    first, *others = backends
    with tempfile.TemporaryDirectory(prefix="duban-tests-") as folder:
        logs = {b: Path(folder) / f"{b}.log" for b in others}
        alongside = {}
        for backend in others:
            print(f"== tests on {backend}: running alongside, shown when it ends ==", flush=True)
            with logs[backend].open("wb") as log:
                alongside[backend] = subprocess.Popen(
                    pytest_command(rest),
                    cwd=ROOT,
                    env=step_env(suite_env(backend)),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        try:
            print(f"== tests on {first} ==", flush=True)
            codes = [run(pytest_command(rest), env=suite_env(first))]
            for backend, process in alongside.items():
                codes.append(process.wait())
                print(f"== tests on {backend} ==", flush=True)
                sys.stdout.write(logs[backend].read_text(encoding="utf-8", errors="replace"))
                sys.stdout.flush()
        finally:
            for process in alongside.values():
                if process.poll() is None:
                    process.terminate()
                    process.wait()
    return next((code for code in codes if code != 0), 0)


def pytest_command(rest: list[str]) -> list[str]:
    """The pytest command line of a suite."""
    return [str(BIN / "python"), "-m", "pytest", *rest]


def suite_env(backend: str) -> dict[str, str]:
    """The environment of one backend's suite: its backend, and a temporary root of its own so
    that suites running side by side never clean up each other's folders."""
    root = Path(tempfile.gettempdir()) / f"duban-pytest-{backend}"
    root.mkdir(exist_ok=True)
    return {"DUBAN_TEST_BACKEND": backend, "PYTEST_DEBUG_TEMPROOT": str(root)}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
