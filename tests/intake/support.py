"""Shared pieces of the inbox tests: a synced plan, a good signed file, table checksums."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine, select

from domain.services.intake.inbox import FileOutcome, collect
from models.db import session_scope
from models.orm import Milestone, Unit, WorkItem
from tests.fixtures.db import table_checksums
from tests.intake.signed import PLAN, sign_csv

SKIPPED = {"work_item_tally"}  # folded (rows per key added up) by every collection


def item_of(engine: Engine, milestone: str, unit: str) -> int:
    """The id of ``unit``'s first work item of ``milestone``."""
    with session_scope(engine) as session:
        return session.scalars(
            select(WorkItem.id)
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Unit, Unit.id == WorkItem.unit_id)
            .where(Milestone.code == milestone, Unit.code == unit, WorkItem.occurrence == 1)
        ).one()


def good_csv(engine: Engine) -> bytes:
    """A valid signed CSV from t1 (a new note each time, so never a duplicate)."""
    item = item_of(engine, "M2", "t1")
    note = f"进展 {uuid.uuid4().hex[:8]}"
    return sign_csv(f"单位代码,事项编号,本期状态,进展情况\nt1,{item},推进中,{note}\n").encode()


def checksums(engine: Engine) -> dict[str, str]:
    """Every table's checksum but the tally's (see :data:`SKIPPED`)."""
    return table_checksums(engine, skip=frozenset(SKIPPED))


def run(engine: Engine, inbox: Path, *, trusted: str | None = None) -> list[FileOutcome]:
    """Collect the demo plan's inbox, as `duban collect [--trusted --actor NAME]` does."""
    return collect(engine, PLAN, inbox, trusted_actor=trusted)
