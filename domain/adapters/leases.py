"""Who holds an outbox message while it is being sent, and when another run may take it over.

A run holds each message it sends under a lease: a holder tag (the run, plus the process it runs
in: machine, pid and start time) and an expiry on the real wall clock, never on the replayed
``--as-of`` clock, because a lease is about a process, not about the plan's day. Another run may
take a message over when

1. its holder ran in this process and has ended (:func:`release`); or
2. its holder ran in another process of this machine (same boot, same PID namespace) and that
   process is gone; or
3. its holder cannot be checked from here (another machine, or an older tag) and the lease has
   expired.

A holder still running on this machine is never taken over, however long it takes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

TAG_LENGTH = 36  # message.claimed_by is VARCHAR(36)
_running: set[str] = set()  # holder tags of this process's runs that have not ended


@dataclass(frozen=True)
class Process:
    """A process as a lease names it: its machine (boot and PID namespace), pid and start time
    (clock ticks after boot, so a reused pid is told apart)."""

    machine: str
    pid: int
    start: int


def wall_now() -> datetime:
    """The real current instant (UTC), whatever the replay clock says."""
    return datetime.now(UTC)


def holder_tag(run: str, process: Process | None = None) -> str:
    """The tag a run writes into ``claimed_by``: a digest of the run's token, then the process
    it runs in (this one unless given), at most :data:`TAG_LENGTH` characters."""
    process = process or this_process()
    run_part = hashlib.sha256(run.encode()).hexdigest()[:10]
    if process is None:
        return run_part
    tag = f"{run_part}.{process.machine}.{_b36(process.pid)}.{_b36(process.start)}"
    assert len(tag) <= TAG_LENGTH
    return tag


def process_of(tag: str | None) -> Process | None:
    """The process a holder tag names, or None for a tag without one (an older run's)."""
    parts = (tag or "").split(".")
    if len(parts) != 4:
        return None
    try:
        return Process(parts[1], int(parts[2], 36), int(parts[3], 36))
    except ValueError:
        return None


def may_take_over(
    tag: str | None,
    expires: datetime | None,
    *,
    now: datetime,
    alive: Callable[[str], bool | None],
) -> bool:
    """Whether another run may take over a message held by ``tag`` until ``expires`` (the rule
    of the module docstring). ``alive`` says whether a holder of this machine is still running
    (True or False), or None when it cannot tell."""
    verdict = alive(tag) if tag is not None else None
    if verdict is not None:
        return not verdict
    if expires is None:
        return True
    if expires.tzinfo is None:  # SQLite hands back naive UTC
        expires = expires.replace(tzinfo=UTC)
    return expires <= now


def hold(tag: str) -> None:
    """Record that a run of this process holds messages under ``tag`` (until :func:`release`)."""
    _running.add(tag)


def release(tag: str) -> None:
    """The run holding ``tag`` in this process has ended; what it still holds may be taken
    over."""
    _running.discard(tag)


def require_running(tag: str) -> None:
    """Raise if no run of this process holds ``tag``: messages are only written or taken inside
    :func:`running`, so that what a run holds is released however it ends."""
    if tag not in _running:
        raise RuntimeError(f"lease holder {tag} is not running: wrap the run in leases.running()")


@contextmanager
def running(tag: str) -> Iterator[None]:
    """Hold ``tag`` while the block runs, and release it however the block ends."""
    hold(tag)
    try:
        yield
    finally:
        release(tag)


def holder_alive(tag: str) -> bool | None:
    """Whether the run that wrote ``tag`` is still running: known for this process's runs and,
    through :func:`alive_here`, for other processes of this machine; None otherwise."""
    process = process_of(tag)
    if process is None:
        return None
    if process == this_process():
        return tag in _running
    return alive_here(process)


def alive_here(process: Process) -> bool | None:
    """Whether a process of this machine is still running (a zombie is not); None when the
    process ran elsewhere or this system cannot tell."""
    here = this_process()
    if here is None or process.machine != here.machine:
        return None
    stat = _stat(process.pid)
    if stat is None:
        return False
    state, start = stat
    return start == process.start and state not in {"Z", "X", "x"}


def this_process() -> Process | None:
    """The current process, or None where /proc does not say (not Linux)."""
    return _this_process(os.getpid())


@cache
def _this_process(pid: int) -> Process | None:
    return process_with_pid(pid)


def process_with_pid(pid: int) -> Process | None:
    """A running process of this machine as a lease names it; None if there is none or /proc
    does not say."""
    machine = _machine()
    stat = _stat(pid)
    if machine is None or stat is None:
        return None
    return Process(machine, pid, stat[1])


@cache
def _machine() -> str | None:
    """This boot of this machine and PID namespace, as 8 hex digits (pids mean the same thing
    only within one)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = str(Path("/proc/self/ns/pid").readlink())
    except OSError:
        return None
    return hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()[:8]


def _stat(pid: int) -> tuple[str, int] | None:
    """A process's state letter and start time from /proc, or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3
    return fields[0], int(fields[19])  # starttime is field 22


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
