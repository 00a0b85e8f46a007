"""The inbox: every report file lands whole in one transaction, or is set aside with its reasons.

Files directly in the inbox folder are taken in name order. A file that lands is moved to
``archive/<date>/<sha8>-<name>``; a rejected one to ``rejected/<date>/<name>`` with
``<name>.reasons.txt`` beside it, and nothing of it reaches the database. A file whose checksum
already landed is recognised, archived again and not applied twice. Nothing is ever deleted.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from config.errors import Problem
from domain.intake.land import Landed, check, land
from domain.intake.readers import read_report_file
from models import clock
from models.db import session_scope
from models.orm import InboxFile, Plan
from models.tally import fold_tally


@dataclass
class FileOutcome:
    """What happened to one file."""

    name: str
    sha256: str
    status: str  # landed | rejected | duplicate
    kept_at: Path
    landed: Landed | None = None
    problems: list[Problem] = field(default_factory=list)
    error_report: Path | None = None
    first_landed: str | None = None


def sha256_of(path: Path) -> str:
    """The file's SHA-256, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _free(path: Path) -> Path:
    """``path``, or ``path`` with a counter if something already has that name."""
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
        n += 1
    return candidate


def _move(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target = _free(target)
    shutil.move(str(source), target)
    return target


def pending_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox (not its subfolders), in name order; Excel's lock files
    (``~$…``), hidden and temporary files are left alone. Unsupported types are rejected."""
    if not inbox.is_dir():
        return []
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and not p.name.endswith(".tmp")
    )


def collect(
    engine: Engine, plan_id: str, inbox: Path, *, actor_prefix: str = "unit"
) -> list[FileOutcome]:
    """Process every pending file of the inbox; each file is its own transaction. After the
    last, the work-item tally of the plan is folded (its rows per key added up, see
    ``models.tally``: the moves of the day, the files' and others', each added rows; the daily
    cycle starts with a collection, so the day's counts read a folded tally)."""
    outcomes = []
    for path in pending_files(inbox):
        outcomes.append(_one(engine, plan_id, inbox, path, actor_prefix))
    with session_scope(engine) as session:
        fold_tally(session, plan_id)
    return outcomes


def _one(engine: Engine, plan_id: str, inbox: Path, path: Path, actor_prefix: str) -> FileOutcome:
    digest = sha256_of(path)
    with session_scope(engine) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        day = clock.local_date(clock.now(), plan.timezone).isoformat()
        archive = inbox / "archive" / day / f"{digest[:8]}-{path.name}"
        earlier = session.scalars(
            select(InboxFile).where(InboxFile.plan_id == plan_id, InboxFile.sha256 == digest)
        ).first()
        if earlier is not None:
            kept = _move(path, archive)
            return FileOutcome(
                path.name,
                digest,
                "duplicate",
                kept,
                first_landed=f"{earlier.name} on {earlier.received_at:%Y-%m-%d}",
            )
        parsed = read_report_file(path)
        checked, problems = check(session, parsed, plan)
        if checked is None:  # nothing was written: checking only reads
            return _reject(inbox, path, digest, day, problems)
        record = InboxFile(
            plan_id=plan_id,
            sha256=digest,
            name=path.name,
            kept_at=str(archive.relative_to(inbox)),
            status="landed",
            unit_id=checked.unit.id,
            rows=len(parsed.reports) + len(parsed.measures),
            problems=0,
            received_at=clock.now(),
            received_on=clock.local_date(clock.now(), plan.timezone),
            period=parsed.period or clock.local_date(clock.now(), plan.timezone),
        )
        session.add(record)
        session.flush()
        landed = land(
            session, checked, parsed, actor=f"{actor_prefix}:{checked.unit.code}", file_id=record.id
        )
    # committed: only now does the file leave the inbox (a crash before this re-reads it, and
    # its checksum then marks it a duplicate)
    kept = _move(path, archive)
    return FileOutcome(path.name, digest, "landed", kept, landed=landed)


def _reject(inbox: Path, path: Path, digest: str, day: str, problems: list[Problem]) -> FileOutcome:
    kept = _move(path, inbox / "rejected" / day / path.name)
    report = kept.with_name(kept.name + ".reasons.txt")
    lines = [
        f"《{path.name}》未被接收，表中内容均未入库。请逐条改正下列问题后，将整份文件重新报送。",
        f"{path.name} was not accepted; nothing from it was recorded.",
        "Fix every problem below and send the whole file again.",
        f"共 {len(problems)} 个问题 / {len(problems)} problem(s):",
        "",
    ]
    for p in problems:
        where = f"row {p.line}" if p.line is not None else "file"
        column = f", column {p.field}" if p.field else ""
        lines.append(f"{where}{column}: {p.message}")
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return FileOutcome(path.name, digest, "rejected", kept, problems=problems, error_report=report)
