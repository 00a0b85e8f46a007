"""Run `duban catalog …` as the console script does and fingerprint the database around it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from unittest import mock

import pytest

from duban.cli import main


@dataclass(frozen=True)
class Outcome:
    """Exit status and the error stream of one command, whitespace folded (Rich wraps lines)."""

    code: int
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """Call the `duban` entry point in-process with ``args``; user errors exit 2 there."""
    capsys.readouterr()
    with mock.patch.object(sys, "argv", ["duban", *args]), pytest.raises(SystemExit) as exited:
        main()
    return Outcome(int(exited.value.code or 0), " ".join(capsys.readouterr().err.split()))


def assert_refused(outcome: Outcome, file: str, line: int | None = None) -> None:
    """Exit 2, a message naming ``file`` (and ``line`` when given), and no traceback."""
    assert outcome.code == 2, outcome
    assert "Traceback" not in outcome.err
    where = f"{file}:{line}:" if line is not None else file
    assert where in outcome.err, outcome.err
