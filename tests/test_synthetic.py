"""The synthetic province for the scale benchmarks: deterministic, valid, in proportion."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from config.ladder import load_ladder
from domain.queries.escalation import due_notices
from domain.queries.sync import sync_catalog
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.orm import Report, Unit, WorkItem
from models.records import Notice
from tasks_catalog.loader import load_catalog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from synthetic import PLAN_ID, seed_history, seed_ladder_history, seed_reports, write_catalogue

from tests.fixtures.context import context_of


def test_same_seed_same_province_and_county_proportions(tmp_path: Path) -> None:
    a = write_catalogue(tmp_path / "a", 3, seed=7)
    b = write_catalogue(tmp_path / "b", 3, seed=7)
    c = write_catalogue(tmp_path / "c", 3, seed=8)
    name = "units_counties_0001.yaml"
    assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / name).read_bytes() != (c / name).read_bytes()
    catalog, _ = load_catalog(a)
    kinds = [str(u.kind) for u in catalog.units]
    assert 30 <= kinds.count("township") <= 48  # 10–16 a county
    villages = kinds.count("village") + kinds.count("community")
    assert 3 * 120 <= villages <= 3 * 160


def test_a_province_is_written_in_files_a_catalogue_accepts(tmp_path: Path) -> None:
    """Ten counties a file, each under the 1 MB a catalogue file may hold."""
    folder = write_catalogue(tmp_path / "p", 25, seed=1)
    files = sorted(folder.glob("units_counties_*.yaml"))
    assert [f.name for f in files] == [f"units_counties_{n:04d}.yaml" for n in (1, 11, 21)]
    assert all(f.stat().st_size < 1_000_000 for f in files)


def test_three_counties_make_ten_thousand_items_and_reports_are_reproducible(
    engine: Engine, tmp_path: Path
) -> None:
    catalog, _ = load_catalog(write_catalogue(tmp_path / "p", 3, seed=1))
    with frozen_time(datetime(2021, 1, 4, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, catalog)
    with session_scope(engine) as session:
        items = session.scalar(select(func.count()).select_from(WorkItem))
        counties = session.scalar(
            select(func.count()).where(Unit.plan_id == PLAN_ID, Unit.name.like("第%县人民政府"))
        )
    assert counties == 3
    assert items is not None and 9_000 <= items <= 12_000
    first = seed_reports(engine, PLAN_ID, date(2021, 12, 24), share=30, seed=1)
    again = seed_reports(engine, PLAN_ID, date(2021, 12, 24), share=30, seed=1)
    assert first > 0 and again == 0  # the same items, already in progress
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == first
    # a past for those reports: the same items, weekly, a week earlier each time
    # and, in the outbox, each of those weeks' missing-report notice for each unit silent then
    reports, notices = seed_history(engine, PLAN_ID, date(2021, 12, 24), weeks=3)
    assert reports == 3 * first
    with session_scope(engine) as session:
        counted = select(Report.period, func.count().label("n")).group_by(Report.period)
        per_period = {row.period: row.n for row in session.execute(counted)}
        units = session.scalar(select(func.count()).where(Unit.plan_id == PLAN_ID)) or 0
        senders = session.scalar(select(func.count(Report.unit_id.distinct()))) or 0
        per_due = {
            row.due: row.n
            for row in session.execute(
                select(Notice.due, func.count().label("n")).group_by(Notice.due)
            )
        }
    assert notices == 3 * (units - senders) > 0
    assert sorted(per_due.values()) == [units - senders] * 3
    assert per_period == {
        date(2021, 12, 24): first,
        date(2021, 12, 17): first,
        date(2021, 12, 10): first,
        date(2021, 12, 3): first,
    }


def test_the_ladder_history_is_every_earlier_notice_and_not_todays(
    engine: Engine, tmp_path: Path
) -> None:
    """Each item overdue on the day gets, in the outbox, the ladder notices of the levels and
    repeat cycles it has left behind, and not the one it is due today: the day's full list of
    ladder notices and the history share no key, and an item on its n-th leadership cycle has
    the n before it."""
    catalog, _ = load_catalog(write_catalogue(tmp_path / "p", 1, seed=1))
    with frozen_time(datetime(2021, 1, 4, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, catalog)
    day, ladder = date(2021, 12, 27), load_ladder()
    with frozen_time(end_of_working_day(day, "Asia/Shanghai")), session_scope(engine) as session:
        today = due_notices(session, context_of(session, day, plan=PLAN_ID), ladder)
    seeded = seed_ladder_history(engine, PLAN_ID, day, ladder)
    with session_scope(engine) as session:
        history = set(session.scalars(select(Notice.dedupe_key)))
    assert len(history) == seeded > len(today) > 0
    assert not history & {n.dedupe_key for n in today}
    for n in today:
        if n.level == "leadership":
            for c in range(n.cycle):
                assert f"ladder:{n.item_id}:leadership:{n.due}:{c}" in history
