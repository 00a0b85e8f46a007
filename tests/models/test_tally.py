"""The work-item tally (migration 0007) always equals a count of the items: after every kind of
write the application makes, after writes made in plain SQL, after folding, and under a fold
that runs while another transaction is writing."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from config.settings import Settings, temporary_settings
from domain.queries.counts import status_counts
from domain.queries.items import move_item
from domain.queries.sync import sync_catalog
from duban.cli import app
from models.clock import frozen_time
from models.db import engine_for, session_scope
from models.enums import ItemState
from models.migrate import upgrade
from models.orm import Milestone, Unit, WorkItem, work_item_tally
from models.tally import fold_tally, recount_tally, tally_drift
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of

PLAN = "demo-plan"


def sync(session: Session, write_catalog: CatalogWriter, edit: Any = None) -> None:
    sync_catalog(session, load_catalog(write_catalog(edit=edit))[0])
    session.flush()


def item_of(session: Session, milestone: str) -> int:
    return (
        session.scalars(
            select(WorkItem.id)
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .where(Milestone.code == milestone)
            .order_by(WorkItem.id)
        ).first()
        or 0
    )


def tally_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(work_item_tally)) or 0


def test_the_tally_follows_every_kind_of_write(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Sync, deadline change, moves (which change the waiting of dependants), a report's
    percent, retirement and restoration, plain SQL updates and deletes: no drift after any."""
    with frozen_time(datetime(2021, 6, 1, 2, tzinfo=UTC)):
        sync(session, write_catalog)
        assert tally_drift(session, PLAN) == []
        assert 0 < tally_rows(session) < 15  # folded by the sync: one row per key

        def later(c: dict[str, Any]) -> None:
            c["tasks"][0]["milestones"][0]["due"] = date(2021, 7, 31)

        sync(session, write_catalog, later)
        assert tally_drift(session, PLAN) == []

        m1 = item_of(session, "M1")  # M2's items wait for it
        for state in (ItemState.SUBMITTED, ItemState.CLOSED):
            move_item(session, m1, state, actor="zzb", reason=None)
            session.flush()
            assert tally_drift(session, PLAN) == []

        session.execute(
            update(WorkItem).where(WorkItem.id == item_of(session, "M3")).values(percent=60)
        )
        assert tally_drift(session, PLAN) == []

        def drop_m4(c: dict[str, Any]) -> None:
            c["tasks"][1]["milestones"] = [
                {"id": "M5", "title": "另一节点", "due": date(2021, 10, 31)}
            ]

        sync(session, write_catalog, drop_m4)  # retires M4's items, adds M5's
        assert tally_drift(session, PLAN) == []
        sync(session, write_catalog, later)  # restores them
        assert tally_drift(session, PLAN) == []

        session.execute(delete(WorkItem).where(WorkItem.id == item_of(session, "M5")))
        assert tally_drift(session, PLAN) == []


def test_folding_adds_up_the_rows_and_keeps_the_counts(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Each change appends rows; a fold leaves one per key with the same sums."""
    with frozen_time(datetime(2021, 6, 1, 2, tzinfo=UTC)):
        sync(session, write_catalog)
    folded = tally_rows(session)
    session.execute(update(WorkItem).values(percent=WorkItem.percent + 10))
    assert tally_rows(session) > folded
    assert tally_drift(session, PLAN) == []
    assert fold_tally(session, PLAN) == tally_rows(session) == folded
    assert tally_drift(session, PLAN) == []


def test_the_counts_from_the_tally_equal_a_count_of_the_items(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """``status_counts`` reads the tally for the whole plan, and the items for a set of units:
    with every unit chosen the two must agree, on each day of the plan's first year."""
    with frozen_time(datetime(2021, 6, 1, 2, tzinfo=UTC)):
        sync(session, write_catalog)
        move_item(session, item_of(session, "M1"), ItemState.SUBMITTED, actor="zzb", reason=None)
    session.execute(update(WorkItem).where(WorkItem.id % 2 == 0).values(percent=40))
    everyone = [u for (u,) in session.execute(select(Unit.id).where(Unit.plan_id == PLAN))]
    for month in range(1, 13):
        day = date(2021, month, 15)
        # both read the current columns, whatever the day
        ctx = replace(context_of(session, day, pace_margin=25, plan=PLAN), latest=None)
        from_tally = status_counts(session, ctx)
        from_items = status_counts(session, ctx, units=everyone)
        assert sorted(from_tally) == sorted(from_items), day
        assert sum(n for *_, n in from_tally) == 15


def test_a_wrong_tally_is_found_and_rebuilt(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """`duban recount --check` reports drift (exit 1); `duban recount` rebuilds the tally."""
    with frozen_time(datetime(2021, 6, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync(session, write_catalog)
        row = session.execute(select(work_item_tally).limit(1)).mappings().one()
        session.execute(insert(work_item_tally), [{**row, "n": 3}])  # as a bypassed load would
    runner = CliRunner()
    checked = runner.invoke(app, ["recount", "--check"], catch_exceptions=False)
    assert checked.exit_code == 1, checked.output
    assert "统计表有 1 组与事项不符" in checked.output
    rebuilt = runner.invoke(app, ["recount"], catch_exceptions=False)
    assert rebuilt.exit_code == 0 and "有 1 组不符；统计表已重建" in rebuilt.output
    assert runner.invoke(app, ["recount", "--check"]).exit_code == 0
    with session_scope(engine) as session:
        assert tally_drift(session, PLAN) == []
        assert recount_tally(session, PLAN) == tally_rows(session)


@pytest.mark.postgres
def test_a_fold_while_another_transaction_writes_loses_nothing(
    postgres_url: str, write_catalog: CatalogWriter, tmp_path: Path
) -> None:
    """PostgreSQL: items change in a transaction still open while another folds and commits:
    the fold neither waits for the writer nor drops its rows, which count once it commits.
    (The fold reads and deletes in one statement, so a writer cannot commit between the two;
    this test does not provoke that race, which a fold in two statements would have.)"""
    engine = engine_for(postgres_url)
    upgrade(engine)
    with temporary_settings(database_url=postgres_url, home=tmp_path):
        with frozen_time(datetime(2021, 6, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
            sync(session, write_catalog)
        with session_scope(engine) as writer:
            writer.execute(update(WorkItem).values(percent=70))
            writer.flush()
            with session_scope(engine) as folder:
                fold_tally(folder, PLAN)
        with session_scope(engine) as session:
            assert tally_drift(session, PLAN) == []
            fold_tally(session, PLAN)
            assert tally_drift(session, PLAN) == []
            assert session.scalar(select(func.sum(work_item_tally.c.n))) == 15


@pytest.mark.postgres
def test_a_recount_waits_for_a_fold_in_progress(
    postgres_url: str, write_catalog: CatalogWriter, tmp_path: Path
) -> None:
    """PostgreSQL: `duban recount` while a sync or collection is folding waits for the fold to
    commit, then replaces what it wrote: the counts are not added twice."""
    engine = engine_for(postgres_url)
    upgrade(engine)
    errors: list[BaseException] = []

    def recount() -> None:
        try:
            with session_scope(engine) as session:
                recount_tally(session, PLAN)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    with temporary_settings(database_url=postgres_url, home=tmp_path):
        with frozen_time(datetime(2021, 6, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
            sync(session, write_catalog)
        with session_scope(engine) as session:
            session.execute(update(WorkItem).values(percent=70))
        with session_scope(engine) as folding:
            fold_tally(folding, PLAN)
            other = threading.Thread(target=recount)
            other.start()
            other.join(timeout=1.0)
            assert other.is_alive()  # waiting for the fold
        other.join(timeout=30)
        assert not errors
        with session_scope(engine) as session:
            assert tally_drift(session, PLAN) == []
            assert session.scalar(select(func.sum(work_item_tally.c.n))) == 15
