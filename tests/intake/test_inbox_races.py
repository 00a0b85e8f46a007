"""A file whose item another collection moves between its check and its landing is checked
afresh and lands, rather than being rejected as a fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from config.settings import Settings
from domain.queries.items import move_item
from models.clock import frozen_time
from models.db import session_scope
from models.enums import ItemState
from models.orm import Report, WorkItem
from tests.fixtures.catalog import SYNCED_AT
from tests.intake.signed import sign_csv
from tests.intake.support import item_of, run


def test_an_item_moved_meanwhile_is_checked_again(
    synced: Engine, settings: Settings, tmp_path: Path
) -> None:
    """t1 reports 推进中 for an assigned item; just before its landing is written another
    collection acknowledges (签收) the item: the file is checked again and lands once."""
    if synced.dialect.name == "postgresql":
        pytest.skip("PostgreSQL locks the items at the check: no one moves them meanwhile")
    item = item_of(synced, "M2", "t1")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "t1.csv").write_text(
        sign_csv(f"单位代码,事项编号,本期状态,本期进度%\nt1,{item},推进中,30\n"), encoding="utf-8"
    )
    moved: list[int] = []

    def meanwhile(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO inbox_file") and not moved:
            moved.append(item)  # once: the second attempt lands undisturbed
            with session_scope(synced) as other:
                move_item(other, item, ItemState.ACKNOWLEDGED, actor="unit:t1", reason=None)

    event.listen(synced, "before_cursor_execute", meanwhile)
    try:
        with frozen_time(SYNCED_AT):
            (outcome,) = run(synced, inbox)
    finally:
        event.remove(synced, "before_cursor_execute", meanwhile)
    assert moved == [item]
    assert outcome.status == "landed", outcome.problems
    with session_scope(synced) as session:
        assert session.scalar(select(WorkItem.state).where(WorkItem.id == item)) == "in_progress"
        assert session.scalar(select(func.count()).select_from(Report)) == 1
