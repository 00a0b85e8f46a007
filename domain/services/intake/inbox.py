"""The inbox: every report file lands whole in one transaction, or is set aside with its reasons.

Entries directly in the inbox folder are taken in name order, each claimed first (see
:mod:`domain.adapters.intake.claims`), so concurrent collections handle each file once. A file that
lands is moved to ``archive/<date>/<sha8>-<name>`` once its transaction committed; a rejected
one to ``rejected/<date>/<name>`` with ``<name>.reasons.txt`` beside it, and nothing of it
reaches the database. Kept names are cut to fit any filesystem; the original name stays in the
database and the reasons. A file whose checksum already landed is archived and not applied
twice (and one whose archiving was cut short goes where its record says). Links and special
files are never read: they are removed and their reasons kept. A fault while handling one file
rejects that file with an incident number (its traceback in ``<home>/incidents/``) and the
collection goes on; only a lost database connection stops it, with the file back in the inbox.
Files that arrive another way (a mail's attachments) go through :func:`take`, the same path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from config.errors import Problem, where_of
from config.settings import get_settings, hide_passwords
from domain.adapters.files import display_name, fit_name, write_atomically
from domain.adapters.intake.claims import (
    Claims,
    NotARegularFileError,
    TooLargeError,
    free_path,
    pending_names,
    read_regular,
)
from domain.adapters.intake.identity import UNSIGNED
from domain.adapters.intake.readers import read_report_file
from domain.queries.plans import plan_of
from domain.queries.report_landing import Landed, check, land
from domain.rules.lifecycle import ChangedMeanwhileError
from models import clock
from models.db import session_scope
from models.home_lock import home_lock
from models.orm import InboxFile, Plan
from models.tally import fold_tally

MAX_FILE_BYTES = 10 * 1024 * 1024  # a county department's workbook is well under 1 MB
REASONS = ".reasons.txt"
RESERVE = len(REASONS.encode()) + 8  # room for the reasons suffix and a ".N" counter
RETRIES = 5  # a file whose items other collections keep moving is checked afresh this often
log = logging.getLogger("duban.intake")


@dataclass
class FileOutcome:
    """What happened to one file."""

    name: str
    sha256: str | None
    status: str  # landed | rejected | duplicate | elsewhere (another plan's, left in the inbox)
    kept_at: Path | None
    landed: Landed | None = None
    problems: list[Problem] = field(default_factory=list)
    error_report: Path | None = None
    first_landed: str | None = None
    vouched_by: str | None = None
    period: date | None = None  # the report period of a landed file
    other_plan: str | None = None  # the plan a file left in the inbox names


@dataclass(frozen=True)
class _Run:
    """What every file of one collection shares."""

    engine: Engine
    plan_id: str
    inbox: Path
    home: Path
    day: date
    trusted_actor: str | None
    claims: Claims


def collect(
    engine: Engine,
    plan_id: str,
    inbox: Path,
    *,
    trusted_actor: str | None = None,
    home: Path | None = None,
) -> list[FileOutcome]:
    """Handle every pending file of the inbox, each in its own transaction, then fold the
    plan's work-item tally (``models.tally``). ``trusted_actor``: an operator vouches for the
    unsigned files of this run (``duban collect --trusted``); they land under that name.
    ``home``: the data directory whose lock each file's landing holds (default: the setting)."""
    day = _today(engine, plan_id)
    outcomes: list[FileOutcome] = []
    if inbox.is_dir():
        with Claims(inbox) as claims:
            run = _Run(
                engine, plan_id, inbox, home or get_settings().home, day, trusted_actor, claims
            )
            for name in pending_names(inbox):
                claimed = claims.claim(name)
                if claimed is not None:
                    outcomes.append(_one(run, claimed))
    with session_scope(engine) as session:
        fold_tally(session, plan_id)
    return outcomes


def take(
    engine: Engine,
    plan_id: str,
    inbox: Path,
    files: Sequence[tuple[str, bytes]],
    *,
    home: Path | None = None,
) -> list[FileOutcome]:
    """Handle files that arrived another way (a mail's attachments: name and bytes) exactly as
    files of the inbox, in order: each is written into this collection's claim folder under a
    safe name and taken from there (a crash leaves it in the inbox for the next collection)."""
    day = _today(engine, plan_id)
    outcomes: list[FileOutcome] = []
    inbox.mkdir(parents=True, exist_ok=True)
    with Claims(inbox) as claims:
        run = _Run(engine, plan_id, inbox, home or get_settings().home, day, None, claims)
        for name, data in files:
            safe = fit_name(name, reserve=RESERVE)
            claimed = free_path(claims.folder / ("_" + safe if safe.startswith("~$") else safe))
            write_atomically(claimed, data)
            outcomes.append(_one(run, claimed))
    with session_scope(engine) as session:
        fold_tally(session, plan_id)
    return outcomes


def _today(engine: Engine, plan_id: str) -> date:
    with session_scope(engine) as session:
        plan = plan_of(session, plan_id)
        return clock.local_date(clock.now(), plan.timezone)


def _one(run: _Run, claimed: Path) -> FileOutcome:
    """One claimed file, start to end; it leaves the claim folder landed, duplicate or rejected."""
    shown = display_name(claimed.name)
    with home_lock(run.home):
        try:
            data = read_regular(claimed, MAX_FILE_BYTES)
        except NotARegularFileError as exc:
            return _refuse_entry(run, claimed, shown, exc.kind)
        except TooLargeError:
            too_large = f"文件超过 {MAX_FILE_BYTES // 2**20} MB，不是报送文件"
            return _reject(run, claimed, shown, None, [_problem(shown, too_large)])
        digest = hashlib.sha256(data).hexdigest()
        try:
            return _handle(run, claimed, shown, data, digest)
        except (OperationalError, InterfaceError):  # the database is gone: a fault of the system
            run.claims.release(claimed)
            raise
        except Exception:  # any other fault rejects this one file; the others still go
            return _incident(run, claimed, shown, digest)


def _problem(shown: str, message: str) -> Problem:
    return Problem(Path(shown), None, "", message)


@dataclass(frozen=True)
class _First:
    """The file that first brought these bytes."""

    name: str
    kept_at: str
    received: date


@dataclass(frozen=True)
class _Landing:
    """A file written to the database (not yet committed when made)."""

    target: Path
    landed: Landed
    vouched_by: str | None
    period: date


@dataclass(frozen=True)
class _Elsewhere:
    """A file that names another plan of the database: left in the inbox for that plan."""

    plan_id: str


def _handle(run: _Run, claimed: Path, shown: str, data: bytes, digest: str) -> FileOutcome:
    result = _checked_and_landed(run, shown, data, digest)
    if isinstance(result, _Elsewhere):
        run.claims.release(claimed)  # the other plan's collection takes it
        return FileOutcome(shown, digest, "elsewhere", None, other_plan=result.plan_id)
    if isinstance(result, _First):
        return _duplicate(run, claimed, shown, digest, result)
    if isinstance(result, list):
        return _reject(run, claimed, shown, digest, result)
    # committed: only now does the file leave the claim folder (a crash before this puts it
    # back into the inbox, and its checksum then sends it where its record says)
    try:
        _move(claimed, result.target)
    except OSError:
        log.exception("收件箱：%s 已入库，但归档失败；文件放回收件箱，下次收集时归档", shown)
        run.claims.release(claimed)
    return FileOutcome(
        shown,
        digest,
        "landed",
        result.target,
        landed=result.landed,
        vouched_by=result.vouched_by,
        period=result.period,
    )


def _checked_and_landed(
    run: _Run, shown: str, data: bytes, digest: str
) -> _First | list[Problem] | _Landing | _Elsewhere:
    """The file's transaction, tried again (checked afresh) when another collection moved one
    of its items between the check and the landing."""
    for attempt in range(1, RETRIES + 1):
        try:
            with session_scope(run.engine) as session:
                return _in_transaction(session, run, shown, data, digest)
        except IntegrityError:  # another collection landed the same bytes a moment ago
            with session_scope(run.engine) as session:
                earlier = _earlier(session, run.plan_id, digest)
            if earlier is None:
                raise
            return earlier
        except ChangedMeanwhileError:
            if attempt == RETRIES:
                raise
            log.info(
                "收件箱：%s 的事项刚被另一份文件改动，重新核对（第 %d 次）", shown, attempt + 1
            )
    raise AssertionError("unreachable")


def _in_transaction(
    session: Session, run: _Run, shown: str, data: bytes, digest: str
) -> _First | list[Problem] | _Landing | _Elsewhere:
    """Within the file's transaction: its first landing, its problems, its landing, or the
    other plan of the database it names (two plans side by side share the inbox)."""
    plan = plan_of(session, run.plan_id)
    earlier = _earlier(session, run.plan_id, digest)
    if earlier is not None:
        return earlier
    parsed = read_report_file(Path(shown), data, plan_id=run.plan_id)
    if parsed.plan not in (None, run.plan_id) and session.get(Plan, parsed.plan) is not None:
        return _Elsewhere(parsed.plan)
    vouched = None if parsed.signed else run.trusted_actor
    if not parsed.signed and vouched is None:  # a workbook's own problems say why it is not
        unsigned = [_problem(shown, UNSIGNED)] if parsed.kind in {"csv", "json"} else []
        return [*unsigned, *parsed.problems]
    checked, problems = check(session, parsed, plan)
    if checked is None:  # nothing was written: checking only reads
        return problems
    target = _archive_path(run, shown, digest)
    record = InboxFile(
        plan_id=run.plan_id,
        sha256=digest,
        name=shown,
        kept_at=target.relative_to(run.inbox).as_posix(),
        status="landed",
        unit_id=checked.unit.id,
        rows=len(parsed.reports) + len(parsed.measures),
        problems=0,
        received_at=clock.now(),
        received_on=run.day,
        period=parsed.period or run.day,
        vouched_by=vouched,
    )
    session.add(record)
    session.flush()
    actor = vouched or f"unit:{checked.unit.code}"
    landed = land(session, checked, parsed, actor=actor, file_id=record.id)
    return _Landing(target, landed, vouched, record.period or run.day)


def _earlier(session: Session, plan_id: str, digest: str) -> _First | None:
    row = session.scalars(
        select(InboxFile).where(InboxFile.plan_id == plan_id, InboxFile.sha256 == digest)
    ).first()
    return None if row is None else _First(row.name, row.kept_at, row.received_at.date())


def _archive_path(run: _Run, shown: str, digest: str) -> Path:
    """A free name for a file kept in today's archive: ``<sha8>-<name>``, cut to fit."""
    folder = run.inbox / "archive" / run.day.isoformat()
    return free_path(folder / fit_name(shown, prefix=f"{digest[:8]}-", reserve=8))


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source.rename(target)


def _duplicate(run: _Run, claimed: Path, shown: str, digest: str, first: _First) -> FileOutcome:
    recorded = run.inbox / first.kept_at
    # a recorded path with nothing there: its landing committed but the archiving was cut short
    cut_short = not os.path.lexists(recorded)
    target = recorded if cut_short else _archive_path(run, shown, digest)
    _move(claimed, target)
    return FileOutcome(
        shown,
        digest,
        "duplicate",
        target,
        first_landed=f"《{first.name}》（{first.received.isoformat()} 收到）",
    )


def _reject(
    run: _Run, claimed: Path | None, shown: str, digest: str | None, problems: list[Problem]
) -> FileOutcome:
    """Keep the file under ``rejected/<date>/`` with its reasons beside it (written first)."""
    folder = run.inbox / "rejected" / run.day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    kept = free_path(folder / fit_name(shown, reserve=RESERVE))
    report = kept.with_name(kept.name + REASONS)
    write_atomically(report, reasons_text(shown, problems).encode("utf-8"))
    if claimed is not None:
        _move(claimed, kept)
    return FileOutcome(
        shown,
        digest,
        "rejected",
        kept if claimed is not None else None,
        problems=problems,
        error_report=report,
    )


def _refuse_entry(run: _Run, claimed: Path, shown: str, kind: str) -> FileOutcome:
    """A link or special file: not read, not kept (a link could point anywhere); reasons kept."""
    problem = _problem(
        shown, f"这是{kind}，不是报送文件，未读取，已从收件箱移除；请直接放入文件本身"
    )
    outcome = _reject(run, None, shown, None, [problem])
    claimed.unlink()
    return outcome


def _incident(run: _Run, claimed: Path, shown: str, digest: str) -> FileOutcome:
    """An unexpected error: the traceback goes to the log and ``<home>/incidents/<id>.txt``."""
    incident = secrets.token_hex(4)
    trace = hide_passwords(traceback.format_exc())  # a driver's error may quote a database URL
    log.error("收件箱：处理 %s 时出错（事件 %s）\n%s", shown, incident, trace)
    where = run.home / "incidents" / f"{incident}.txt"
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        text = f"file: {shown}\nsha256: {digest}\n\n{trace}"
        write_atomically(where, text.encode("utf-8", errors="replace"))
    except OSError:
        log.exception("收件箱：无法写入事件记录 %s", where)
    message = (
        f"系统处理此文件时出错（事件编号 {incident}），内容均未入库；"
        f"请联系协调单位，详情记录在督办数据目录 incidents/{incident}.txt"
    )
    return _reject(run, claimed, shown, digest, [_problem(shown, message)])


def reasons_text(shown: str, problems: list[Problem]) -> str:
    """The reasons file a rejected file's sender reads: what is wrong, where, what to do."""
    lines = [
        f"《{shown}》未被接收，表中内容均未入库。请逐条改正下列问题后，将整份文件重新报送。",
        f"共 {len(problems)} 个问题：",
        "",
    ]
    lines += [f"{where_of(p)}：{p.message}" for p in problems]
    return "\n".join(lines) + "\n"
