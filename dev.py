"""Set up duban in a local virtual environment and run the main job or the tests.

Usage (from the repository root, with Python 3.11 or newer):

    python3 dev.py demo [ARGS...]   # the main job on the embedded default (SQLite)
    python3 dev.py test [ARGS...]   # ruff, mypy, then the whole pytest suite on SQLite and
                                    # again on PostgreSQL (127.0.0.1:5432, database `test`;
                                    # DUBAN_TEST_BACKENDS=sqlite runs only the first)
    python3 dev.py setup            # only create or refresh .venv

The virtual environment lives in `.venv/`. It is (re)installed when `pyproject.toml` changes;
pip's own output goes to `.venv/install.log` and is shown only if the install fails.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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


def run(args: list[str]) -> int:
    """Run one step inside the virtual environment and return its exit code."""
    env = {**os.environ, "DO_NOT_TRACK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(args, cwd=ROOT, env=env, check=False).returncode


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
    backends = os.environ.get("DUBAN_TEST_BACKENDS", "sqlite,postgresql").split(",")
    for backend in (b.strip() for b in backends if b.strip()):
        print(f"== tests on {backend} ==", flush=True)
        os.environ["DUBAN_TEST_BACKEND"] = backend
        code = run([str(BIN / "python"), "-m", "pytest", *rest])
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
