"""The outbox's writes: each planned notice stored once, in the order planned, whether the rows
are inserted or (on PostgreSQL, in bulk) copied into a staging table and inserted from it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import models.bulk
import models.db
from domain.queries.outbox import write_outbox
from domain.queries.sync import sync_catalog
from domain.rules.ladder import PlannedNotice
from models.clock import end_of_working_day, frozen_time
from models.orm import Unit, WorkItem
from models.records import Notice
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of

DAY = date(2021, 10, 11)


@pytest.mark.parametrize("way", ["insert", "copy"])
def test_each_planned_notice_is_written_once_in_the_order_planned(
    session: Session,
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
    way: str,
) -> None:
    """A key already in the outbox and a key planned twice are skipped (the first planned is
    kept); the others are written in the order planned, every field as given (JSON roles
    included), and the count says how many were new."""
    with frozen_time(end_of_working_day(date(2021, 1, 4), "Asia/Shanghai")):
        sync_catalog(session, load_catalog(write_catalog())[0])
    item, unit = session.execute(select(WorkItem.id, Unit.id).join(Unit)).first()  # type: ignore[misc]
    ctx = context_of(session, DAY)
    planned = [
        PlannedNotice(
            dedupe_key=f"k{n:03}",
            kind="ladder",
            item_id=item,
            unit_id=unit,
            level="L1",
            level_name="提醒",
            due=DAY,
            cycle=n,
            workdays=n % 7,
            roles=["liaison"] if n % 2 else ["liaison", "head"],
            rule="default",
        )
        for n in range(40)
    ]
    assert write_outbox(session, ctx, planned[7:8]) == 1  # already there
    twice = replace(planned[3], level="L2")  # the same key planned again, later
    order = [*reversed(planned[20:]), *planned[:20], twice]
    copied: list[int] = []
    if way == "copy":  # from this many rows PostgreSQL copies (SQLite inserts whatever the size)
        monkeypatch.setattr(models.db, "COPY_FROM", 5)

        def copy_rows(*args: Any) -> int:
            copied.append(models.db.copy_rows(*args))
            return copied[-1]

        monkeypatch.setattr(models.bulk, "copy_rows", copy_rows)
    assert write_outbox(session, ctx, order) == 39
    postgresql = session.get_bind().dialect.name == "postgresql"
    assert copied == ([len(order)] if way == "copy" and postgresql else [])
    written = session.execute(
        select(
            Notice.dedupe_key, Notice.level, Notice.cycle, Notice.roles, Notice.planned_on
        ).order_by(Notice.id)
    ).all()
    keys = [p.dedupe_key for p in order if p is not twice and p.dedupe_key != "k007"]
    assert [r.dedupe_key for r in written] == ["k007", *keys]
    assert {r.level for r in written} == {"L1"}
    by_key = {r.dedupe_key: r for r in written}
    assert all(
        (by_key[p.dedupe_key].cycle, by_key[p.dedupe_key].roles) == (p.cycle, p.roles)
        for p in planned
    )
    assert {r.planned_on for r in written} == {DAY}
    assert write_outbox(session, ctx, order) == 0  # all there now
