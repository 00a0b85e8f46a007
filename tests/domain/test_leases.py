"""Delivery leases: who holds a message, and when another run may take it over."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.adapters.leases import (
    TAG_LENGTH,
    Process,
    alive_here,
    holder_alive,
    holder_tag,
    may_take_over,
    process_of,
    process_with_pid,
    release,
    running,
    this_process,
)

NOW = datetime(2026, 12, 5, 3, tzinfo=UTC)
LATER, EARLIER = NOW + timedelta(minutes=5), NOW - timedelta(minutes=5)
HERE = Process("aaaaaaaa", 4242, 99)
ELSEWHERE = Process("bbbbbbbb", 4242, 99)


def here_alive(tag: str) -> bool | None:
    process = process_of(tag)
    return True if process is not None and process.machine == HERE.machine else None


def here_dead(tag: str) -> bool | None:
    process = process_of(tag)
    return False if process is not None and process.machine == HERE.machine else None


@pytest.mark.parametrize(
    ("tag", "expires", "alive", "expected"),
    [
        (holder_tag("run", HERE), LATER, here_dead, True),  # dead here: at once
        (holder_tag("run", HERE), EARLIER, here_alive, False),  # alive here: never
        (holder_tag("run", ELSEWHERE), LATER, here_dead, False),  # elsewhere: the lease...
        (holder_tag("run", ELSEWHERE), EARLIER, here_alive, True),  # ...on the wall clock
        ("3f2c1e9a-0000-4000-8000-000000000000", LATER, here_dead, False),  # an older tag
        ("3f2c1e9a-0000-4000-8000-000000000000", EARLIER, here_dead, True),
        (None, None, here_alive, True),
        (holder_tag("run", HERE), NOW, here_alive, False),
    ],
)
def test_the_takeover_rule(
    tag: str | None, expires: datetime, alive: Callable[[str], bool | None], expected: bool
) -> None:
    """A dead holder of this machine is taken over at once, a live one never; a holder that
    cannot be checked from here is taken over when its wall-clock lease has run out."""
    assert may_take_over(tag, expires, now=NOW, alive=alive) is expected


def test_a_naive_expiry_is_utc() -> None:
    """SQLite hands back naive datetimes: they are read as UTC."""
    naive = (NOW - timedelta(seconds=1)).replace(tzinfo=None)
    assert may_take_over(None, naive, now=NOW, alive=here_alive)
    assert not may_take_over(None, naive + timedelta(seconds=2), now=NOW, alive=here_alive)


def test_a_tag_names_its_process_and_fits_the_column() -> None:
    """The tag carries the process (the largest pid and a year of clock ticks) in 36 chars,
    and two runs of one process have different tags."""
    big = Process("ffffffff", 4_194_304, 100 * 3600 * 24 * 366)
    tag = holder_tag("0b9f8f0e-1c1e-4a55-9a39-6f1d7e0c2b11", big)
    assert len(tag) <= TAG_LENGTH
    assert process_of(tag) == big
    assert holder_tag("a", big) != holder_tag("b", big)
    assert process_of("dry-run") is None and process_of(None) is None


@pytest.fixture
def linux() -> Process:
    here = this_process()
    if here is None:
        pytest.skip("process checks need Linux /proc")
    return here


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A real process that waits for its stdin to close."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait()


def test_this_process_is_alive(linux: Process) -> None:
    """The process running the test is alive, and a process of another machine is unknown."""
    assert alive_here(linux) is True
    assert alive_here(Process("00000000", linux.pid, linux.start)) is None


def test_a_process_that_ended_is_dead_and_a_reused_pid_is_not_it(
    linux: Process, child: subprocess.Popen[bytes]
) -> None:
    """A child is alive while it runs; once it has ended (even as an unreaped zombie), dead; a
    pid with another start time is another process."""
    process = process_with_pid(child.pid)
    assert process is not None and alive_here(process) is True
    assert alive_here(Process(process.machine, process.pid, process.start + 1)) is False
    assert child.stdin is not None
    child.stdin.close()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
    assert alive_here(process) is False
    child.wait()
    assert alive_here(process) is False


def test_a_run_of_this_process_is_alive_until_it_ends(linux: Process) -> None:
    """A run in this process holds its messages while it runs; once it has ended (returned or
    raised), what it still holds may be taken over at once."""
    tag = holder_tag("a run of this process")
    with pytest.raises(RuntimeError), running(tag):
        assert holder_alive(tag) is True
        assert not may_take_over(tag, EARLIER, now=NOW, alive=holder_alive)
        raise RuntimeError("the run failed half-way")
    assert holder_alive(tag) is False
    assert may_take_over(tag, LATER, now=NOW, alive=holder_alive)
    release(tag)  # releasing twice is harmless


def test_a_run_of_another_process_lives_and_dies_with_it(
    linux: Process, child: subprocess.Popen[bytes]
) -> None:
    """A tag written by another process of this machine is alive while that process runs."""
    process = process_with_pid(child.pid)
    assert process is not None
    tag = holder_tag("the child's run", process)
    assert holder_alive(tag) is True
    assert child.stdin is not None
    child.stdin.close()
    child.wait()
    assert holder_alive(tag) is False
    assert holder_alive(holder_tag("elsewhere", Process("00000000", 1, 1))) is None
