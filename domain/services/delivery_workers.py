"""A large delivery run spread over worker processes (``DUBAN_DELIVERY_WORKERS``): its digests'
workbooks written in a pool while the digests are rendered, and its messages sent in shares,
one process a share.

A share's messages are handed over from the run's lease to the worker's own (the run's token in
the worker's process) before it sends them, so a worker that dies leaves them to be taken over
as a dead run's are; a share whose worker did not end well is then sent by the run itself (its
own messages renewed, the dead worker's taken over: at most one chunk sent again, under the same
message ids). Workers are forked: they inherit the settings and the clock in force, and drop the
database connections they inherit for their own.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from config.settings import get_settings
from domain.adapters import leases
from domain.adapters.channels import Channel, RunChannels
from domain.adapters.leases import holder_tag
from domain.adapters.signing import workbook_secret
from domain.adapters.unit_workbook import write_unit_workbook
from domain.services import delivery_send
from domain.services.delivery_send import DeliveryReport, send_all
from domain.services.workbooks import PlanWorkbooks
from models.db import session_scope
from models.orm import Unit
from models.records import Message

_FORK = multiprocessing.get_context("fork")


def workers_for(count: int) -> int:
    """The processes that share ``count`` messages or digests: the setting, at most one for
    each :data:`~domain.services.delivery_send.SEND_CHUNK` of them (a small run stays in its
    own process)."""
    return max(1, min(get_settings().delivery_workers, count // delivery_send.SEND_CHUNK))


def send_spread(
    engine: Engine,
    message_ids: list[int],
    channel: Channel | None,
    report: DeliveryReport,
    token: str,
    channels: RunChannels,
) -> None:
    """:func:`~domain.services.delivery_send.send_all` over :func:`workers_for` processes (in
    this one when that is one, or when a ``channel`` is given), the report's lists in the order
    of ``message_ids``."""
    n = 1 if channel is not None else workers_for(len(message_ids))
    if n == 1:
        send_all(engine, message_ids, channel, report, token, channels)
        return
    size = len(message_ids)
    shares = [message_ids[k * size // n : (k + 1) * size // n] for k in range(n)]
    started = [_start(engine, share, token) for share in shares]
    parts = _gather([reader for _, reader in started])
    for share, (process, _), got in zip(shares, started, parts, strict=True):
        process.join()
        for part in got:
            report.sent.extend(part.sent)
            report.failed.extend(part.failed)
            report.skipped += part.skipped
        if process.exitcode != 0:  # what it did not confirm: renewed, or taken over
            send_all(engine, share, None, report, token, channels)


def _start(
    engine: Engine, share: list[int], token: str
) -> tuple[multiprocessing.process.BaseProcess, Connection]:
    reader, writer = _FORK.Pipe(duplex=False)
    process = _FORK.Process(
        target=_send_share, args=(engine, share, token, holder_tag(token), writer), daemon=True
    )
    process.start()
    writer.close()
    return process, reader


def _gather(readers: list[Connection]) -> list[list[DeliveryReport]]:
    """Every report part each worker sends, read as they come (a worker is never left blocked
    on a full pipe), until each has closed its end."""
    parts: list[list[DeliveryReport]] = [[] for _ in readers]
    open_ = {id(r): k for k, r in enumerate(readers)}
    while open_:
        for ready in wait([r for r in readers if id(r) in open_]):
            assert isinstance(ready, Connection)
            try:
                parts[open_[id(ready)]].append(ready.recv())
            except EOFError:
                del open_[id(ready)]
                ready.close()
    return parts


def _send_share(
    engine: Engine, share: list[int], token: str, run_tag: str, out: Connection
) -> None:
    """In a worker: the share's messages taken over from the run, then sent and confirmed a
    chunk at a time, each chunk's report sent back once confirmed."""
    engine.dispose(close=False)  # the run's connections stay the run's
    mine = holder_tag(token)
    try:
        with leases.running(mine):
            with session_scope(engine) as session:
                hand_over(session, share, run_tag, mine)
            with RunChannels() as channels:
                chunk = delivery_send.SEND_CHUNK
                for start in range(0, len(share), chunk):
                    part = DeliveryReport()
                    send_all(engine, share[start : start + chunk], None, part, token, channels)
                    out.send(part)
    finally:
        out.close()


def hand_over(session: Session, message_ids: Sequence[int], holder: str, to: str) -> None:
    """The ``sending`` messages of ``message_ids`` that ``holder`` holds, held by ``to`` from
    now on (the lease's expiry unchanged: renewed when they are claimed)."""
    leases.require_running(to)
    session.execute(
        update(Message)
        .where(
            Message.id.in_(message_ids),
            Message.status == "sending",
            Message.claimed_by == holder,
        )
        .values(claimed_by=to)
        .execution_options(synchronize_session=False)
    )


WorkbookWriter = Callable[..., None]
"""Writes one unit's workbook: :func:`~domain.adapters.unit_workbook.write_unit_workbook`'s
signature."""


class WorkbookPool:
    """Workbooks written in worker processes while the run goes on, :data:`BATCH` a task;
    :meth:`finish` waits for them all (and raises the first error) before the digests that
    attach them are written. A worker that dies breaks the pool: what it had not written, and
    every workbook after, is written in the run's own process."""

    def __init__(self, executor: ProcessPoolExecutor) -> None:
        self._executor = executor
        self._batch: list[tuple[Path, dict[str, Any]]] = []
        self._pending: list[tuple[Future[None], list[tuple[Path, dict[str, Any]]]]] = []
        self._broken = False

    def writer(self, name: str) -> WorkbookWriter:
        """A writer that writes the workbook in a worker, under the file name ``name`` in the
        folder of the path it is given."""

        def add(path: Path, **values: Any) -> None:
            self._batch.append((path.with_name(name), values))
            if len(self._batch) >= BATCH:
                self._submit()

        return add

    def _submit(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        if not self._broken:
            try:
                self._pending.append((self._executor.submit(_write_all, batch), batch))
                return
            except BrokenProcessPool:
                self._broken = True
        _write_all(batch)

    def finish(self) -> None:
        self._submit()
        pending, self._pending = self._pending, []
        for future, batch in pending:
            try:
                future.result()
            except BrokenProcessPool:  # its worker died: written here instead
                self._broken = True
                _write_all(batch)


BATCH = 8
"""Workbooks handed to a worker at a time: one hand-over (and one wake-up of the pool's
thread, which contends with the run's for the interpreter) for several workbooks."""


def _write_all(batch: list[tuple[Path, dict[str, Any]]]) -> None:
    for path, values in batch:
        write_unit_workbook(path, **values)


def write_named(sheets: PlanWorkbooks, unit: Unit, path: Path, pool: WorkbookPool | None) -> Path:
    """``unit``'s workbook written as ``path``: here, or by ``pool``'s workers (the caller
    waits for them before it writes the digests that attach it). Returns ``path``."""
    if pool is None:
        return sheets.write(unit, path.parent).path.replace(path)
    sheets.write(unit, path.parent, pool.writer(path.name))
    return path


class Pooled(Protocol):
    """What writes workbooks through a pool: a run's digest (:class:`~domain.services.digest.
    Digest`)."""

    pool: WorkbookPool | None


@contextmanager
def pooled(writers: Sequence[Pooled], digests: int) -> Iterator[None]:
    """For the block, ``writers`` write their workbooks through a :func:`workbook_pool` for a
    run of ``digests`` digests; when it ends, every workbook is written (unless it failed) and
    the writers no longer hold the pool."""
    with workbook_pool(digests) as pool:
        for writer in writers:
            writer.pool = pool
        try:
            yield
            if pool is not None:
                pool.finish()  # every attachment written before its digest is
        finally:
            for writer in writers:
                writer.pool = None  # its workers are gone


@contextmanager
def workbook_pool(digests: int) -> Iterator[WorkbookPool | None]:
    """A pool of :func:`workers_for` processes for a run of ``digests`` digests, or None when
    that is one (the workbooks written in the run's own process)."""
    n = workers_for(digests)
    if n == 1:
        yield None
        return
    workbook_secret()  # the key file created here, if missing, not by two workers at once
    with ProcessPoolExecutor(max_workers=n, mp_context=_FORK) as executor:
        yield WorkbookPool(executor)
