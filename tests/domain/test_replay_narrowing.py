"""The narrowed replay (only the items whose history moved after a day replayed, the rest read
from their current columns) gives the whole replay's rows on every day of a random history."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from domain.queries.active import active_items, active_units
from domain.queries.context import MOVED_READ
from domain.queries.counts import status_counts
from domain.queries.item_status import item_status_select, replayed_select
from domain.queries.items import extend_item, move_item, verify_item
from domain.queries.report_landing import check, land
from domain.queries.sync import sync_catalog
from domain.rules.context import replays_all
from domain.rules.intake.rows import ParsedFile, ReportRow
from domain.rules.lifecycle import TransitionError, done_values
from domain.rules.reporting import ReportState
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.enums import ACTIVE_STATUSES, ItemState, Status
from models.orm import ItemDependency, Milestone, Plan, Unit, WorkItem
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter, minimal_catalog
from tests.fixtures.context import context_of

TZ = "Asia/Shanghai"
FIRST = date(2021, 6, 1)
LAST = date(2021, 12, 31)


def catalogue() -> dict[str, Any]:
    """The minimal plan with a chain of prerequisites in each task and a quarterly milestone."""
    c = minimal_catalog()
    t1, t2 = c["tasks"]
    t1["milestones"][1]["due"] = date(2021, 9, 30)  # M2 (townships) waits on M1
    t1["milestones"][2]["recurrence"] = {
        "rrule": "FREQ=YEARLY;BYMONTH=9,12;BYMONTHDAY=-1",
        "start": date(2021, 7, 1),
        "end": date(2021, 12, 31),
    }  # M3 (townships) waits on M2
    t2["milestones"][0]["due"] = date(2021, 8, 31)  # M4 (villages)
    t2["milestones"].append(
        {
            "id": "M5",
            "title": "设施改造",
            "due": date(2021, 11, 30),
            "fan_out": "villages",
            "depends_on": ["M4"],
        }
    )
    t2["milestones"].append(  # not started before October
        {
            "id": "M7",
            "title": "设施运行评估",
            "start": date(2021, 10, 1),
            "due": date(2021, 12, 15),
            "fan_out": "townships",
        }
    )
    return c


EDITS: list[Callable[[dict[str, Any]], None]] = [
    lambda c: c["tasks"][1]["milestones"][1].pop("depends_on", None),  # M5 no longer waits
    lambda c: c["tasks"][1]["milestones"][0].update(due=date(2021, 10, 29)),  # M4 later
    lambda c: c["tasks"][1]["milestones"][2].update(depends_on=["M2"]),  # M7 waits too
    lambda c: c["tasks"][1]["milestones"].append(  # new items, created on the day
        {"id": "M6", "title": "设施验收", "due": date(2021, 12, 20), "fan_out": "villages"}
    ),
    lambda c: c["tasks"][0]["milestones"].pop(2),  # M3 retired
]
"""Catalogue edits a history applies, each once, cumulatively, in a random order."""
UNTOUCHED = ("t2", "v22")
"""Units nobody acts for: their items change only through the catalogue and prerequisites, so
each kind of history a day can be moved past by is, for some item, the only one."""


def _report(
    session: Session, plan: Plan, item: WorkItem, unit: str, rng: random.Random, *, done: bool
) -> None:
    """A unit's report on an item: in progress mostly, else done or blocked (``done``: done)."""
    states = [ReportState.IN_PROGRESS] * 2 + [ReportState.DONE, ReportState.BLOCKED]
    state = ReportState.DONE if done else rng.choice(states)
    parsed = ParsedFile(Path("<测试>"), "cli", unit=unit, period=None)
    parsed.reports.append(
        ReportRow(
            row=1,
            unit=unit,
            item_id=item.id,
            state=state,
            percent=100 if state == ReportState.DONE else rng.randrange(0, 100, 10),
            note="进展",
            problem="资金未到位" if state == ReportState.BLOCKED else None,
            next_steps=None,
            evidence="印发文件" if state == ReportState.DONE else None,
        )
    )
    checked, _ = check(session, parsed, plan)
    if checked is not None:
        land(session, checked, parsed, actor=f"unit:{unit}", file_id=None)


def random_history(
    engine: Engine, write_catalog: CatalogWriter, seed: int
) -> tuple[list[date], list[date]]:
    """Reports, verifications, returns, extensions and catalogue edits on random working days
    between :data:`FIRST` and :data:`LAST`; returns the days something happened, and the days
    of the catalogue edits and of the first task's head milestone done and closed."""
    rng = random.Random(seed)
    data = catalogue()
    with frozen_time(end_of_working_day(date(2021, 1, 4), TZ)), session_scope(engine) as s:
        sync_catalog(s, load_catalog(write_catalog(data))[0])
    edits = rng.sample(EDITS, len(EDITS))
    days = sorted({FIRST + timedelta(days=rng.randrange((LAST - FIRST).days)) for _ in range(50)})
    done, marked = [], []
    for n, day in enumerate(d for d in days if d.weekday() < 5):
        with frozen_time(end_of_working_day(day, TZ)), session_scope(engine) as s:
            if edits and n % 6 == 5:
                edits.pop()(data)
                sync_catalog(s, load_catalog(write_catalog(data))[0])
                marked.append(day)
                continue
            plan = s.scalars(select(Plan)).one()
            rows = s.execute(
                select(WorkItem, Unit.code)
                .join(Unit, Unit.id == WorkItem.unit_id)
                .where(
                    WorkItem.state != ItemState.RETIRED.value,
                    WorkItem.start <= day,
                    Unit.code.not_in(UNTOUCHED),
                )
                .order_by(WorkItem.id)
            ).all()
            picked = rng.sample(rows, min(len(rows), rng.randint(1, 4)))
            submitted = [r for r in rows if r[0].state == ItemState.SUBMITTED.value]
            picked += [r for r in submitted if r not in picked and rng.random() < 0.4]
            if n in (7, 8):  # the first task's head milestone done, then closed
                picked = [r for r in rows if r[1] == "zzb"] + picked
                marked.append(day)
            for item, unit in picked:
                _act(s, plan, item, unit, day, rng, finish=n in (7, 8))
            done.append(day)
    return done, marked


def _act(
    s: Session,
    plan: Plan,
    item: WorkItem,
    unit: str,
    day: date,
    rng: random.Random,
    *,
    finish: bool = False,
) -> None:
    """One thing done to an item on ``day``: to a submitted item a verification, a return or a
    report; to another a report mostly, else an extension (a refusal changes nothing).
    ``finish``: a report of done, or the verification of a submitted item."""
    submitted = item.state == ItemState.SUBMITTED.value
    kinds = ["verify", "verify", "return", "report"] if submitted else ["report"] * 4 + ["extend"]
    kind = ("verify" if submitted else "done") if finish else rng.choice(kinds)
    try:
        with s.begin_nested():
            if kind in {"report", "done"}:
                _report(s, plan, item, unit, rng, done=kind == "done")
            elif kind == "verify":
                verify_item(s, item.id, actor="测试", note=None)
            elif kind == "return":
                move_item(s, item.id, ItemState.RETURNED, actor="测试", reason="材料不全")
            else:
                new = max(item.due, day) + timedelta(days=rng.randint(5, 40))
                extend_item(s, item.id, new, actor="测试", reason="延期")
    except (TransitionError, NotFoundError):
        pass


def _rows(session: Session, query: Any) -> list[dict[str, Any]]:
    q = query.subquery()
    return [dict(r._mapping) for r in session.execute(select(q).order_by(q.c.id))]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_narrowed_replay_equals_the_whole_replay_on_every_day(
    engine: Engine, write_catalog: CatalogWriter, seed: int
) -> None:
    """On every day the history has moved past, the status rows with only the moved items
    replayed are the rows of the whole replay, field for field, for the whole plan and for a
    township's subtree; the counts and the active items made from them too. The history moves
    some items and not others on most of those days, and leaves every kind of status."""
    history, marked = random_history(engine, write_catalog, seed)
    rng = random.Random(seed)
    before = [d - timedelta(days=1) for d in marked + rng.sample(history, 12)]
    others = [FIRST + timedelta(days=rng.randrange((LAST - FIRST).days)) for _ in range(8)]
    days, partly, all_moved, seen = 0, 0, 0, set()
    with session_scope(engine, rollback=True) as s:
        t1 = s.scalars(select(Unit.id).where(Unit.code.in_(["t1", "v11", "v12"]))).all()
        for day in sorted({*before, *others}):
            ctx = context_of(s, day, pace_margin=25, plan="demo-plan")
            if ctx.settled:  # on or after the history's last day
                continue
            assert ctx.moved is not None  # read with the context: the replay looks them up
            assert ctx.prerequisites == _prerequisites_of(s, ctx.moved), ctx.day
            whole = _rows(s, replayed_select(ctx))
            assert _rows(s, item_status_select(ctx)) == whole, ctx.day
            # the moved ids known, their prerequisites' not: the statement finds those itself
            unknown = replace(ctx, prerequisites=None, replay_all=False)
            assert _rows(s, item_status_select(unknown)) == whole, ctx.day
            found = replace(ctx, moved=None, replay_all=False)  # found by the statement itself
            assert _rows(s, item_status_select(found)) == whole, ctx.day
            split, everything = replace(ctx, replay_all=False), replace(ctx, replay_all=True)
            assert _rows(s, item_status_select(split)) == whole, ctx.day
            assert _rows(s, item_status_select(everything)) == whole, ctx.day
            assert sorted(s.scalars(select(active_items(everything).c.id))) == sorted(
                s.scalars(select(active_items(split).c.id))
            ), ctx.day
            all_moved += ctx.replay_all
            if days == 0:  # the most ids a context carries, most matching no item: same rows
                padded = ctx.moved | frozenset(range(10**7, 10**7 + MOVED_READ))
                assert _rows(s, item_status_select(replace(ctx, moved=padded))) == whole
            assert sorted(s.scalars(select(active_items(found).c.id))) == sorted(
                s.scalars(select(active_items(ctx).c.id))
            ), ctx.day
            assert _rows(s, item_status_select(ctx, units=t1)) == _rows(
                s, replayed_select(ctx, units=t1)
            ), ctx.day
            assert sorted(status_counts(s, ctx)) == _counted(whole), ctx.day
            active = active_items(ctx)
            assert sorted(s.scalars(select(active.c.id))) == [
                r["id"]
                for r in whole
                if r["state"] not in done_values() and r["status"] in ACTIVE_STATUSES
            ], ctx.day
            moved = ctx.moved & {r["id"] for r in whole}
            partly += 0 < len(moved) < len(whole)
            seen |= {r["status"] for r in whole}
            days += 1
    assert partly > days // 2, (days, partly)
    assert 0 < all_moved < days, (days, all_moved)  # the context chose each way on some days
    assert seen == {s.value for s in Status}, seen


def test_a_moved_items_prerequisites_are_replayed_by_the_ids_read(
    engine: Engine, write_catalog: CatalogWriter
) -> None:
    """A township's item reported after the day waits on the lead's item closed before it: the
    lead's item did not move, yet its state that day is read, by the id the context carries
    (without it, the township's item would seem to wait)."""
    with frozen_time(end_of_working_day(date(2021, 1, 4), TZ)), session_scope(engine) as s:
        sync_catalog(s, load_catalog(write_catalog(catalogue()))[0])
    rng, ids = random.Random(0), {}
    for day, unit, milestone in [
        (date(2021, 6, 1), "zzb", "M1"),  # done
        (date(2021, 6, 2), "zzb", "M1"),  # verified: closed
        (date(2021, 7, 1), "t1", "M2"),  # in progress, after the day asked about
    ]:
        with frozen_time(end_of_working_day(day, TZ)), session_scope(engine) as s:
            plan = s.scalars(select(Plan)).one()
            item = s.scalars(
                select(WorkItem)
                .join(Unit, Unit.id == WorkItem.unit_id)
                .join(Milestone, Milestone.id == WorkItem.milestone_id)
                .where(Unit.code == unit, Milestone.code == milestone)
            ).one()
            _act(s, plan, item, unit, day, rng, finish=unit == "zzb")
            ids[milestone] = item.id
    with session_scope(engine, rollback=True) as s:
        ctx = context_of(s, date(2021, 6, 15), plan="demo-plan")
        assert ctx.moved is not None and ctx.prerequisites is not None
        assert ids["M2"] in ctx.moved and ids["M1"] not in ctx.moved  # (and M2's dependants)
        assert ids["M1"] in ctx.prerequisites
        assert not ctx.replay_all
        whole = _rows(s, replayed_select(ctx))
        assert _rows(s, item_status_select(ctx)) == whole
        assert _status(whole, ids["M2"]) != Status.WAITING.value
        unread = _rows(s, item_status_select(replace(ctx, prerequisites=frozenset())))
        assert _status(unread, ids["M2"]) == Status.WAITING.value


def _status(rows: list[dict[str, Any]], item: int) -> str:
    return str(next(r["status"] for r in rows if r["id"] == item))


def _prerequisites_of(session: Session, items: frozenset[int]) -> frozenset[int]:
    """The items any of ``items`` depends on or depended on (retired prerequisites too)."""
    found = select(ItemDependency.depends_on_item_id).where(
        ItemDependency.item_id.in_(sorted(items))
    )
    return frozenset(session.scalars(found))


def _counted(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str, int]]:
    """The status rows counted per (task, milestone, title, status)."""
    counts = Counter((r["task"], r["milestone"], r["title"], r["status"]) for r in rows)
    return sorted((*key, n) for key, n in counts.items())


def test_a_context_replays_every_item_once_half_the_plan_moved() -> None:
    """Telling the moved items apart pays only while they are fewer than half of the plan's."""
    assert not replays_all(moved=0, live=10)
    assert not replays_all(moved=4, live=10)
    assert replays_all(moved=5, live=10)
    assert replays_all(moved=12, live=10)  # ids of another plan's items count too


@pytest.mark.parametrize("seed", [3])
def test_units_owing_on_several_days_are_the_whole_replays(
    engine: Engine, write_catalog: CatalogWriter, seed: int
) -> None:
    """The units with an active item on each of several days at once (what reporting
    completeness asks for the cycles it counts), read from the current columns for the items
    unmoved since the first of the days and replayed for the others, are each day's units of
    the whole replay, with the days settled, moved past, or both."""
    history, marked = random_history(engine, write_catalog, seed)
    rng = random.Random(seed)
    ends = sorted({d - timedelta(days=1) for d in marked + rng.sample(history, 10)})
    spans = [ends[i : i + rng.randrange(1, 6)] for i in range(0, len(ends), 3)]
    spans.append([*ends[-2:], LAST + timedelta(days=3)])  # the last day settled
    with session_scope(engine, rollback=True) as s:
        t1 = s.scalars(select(Unit.id).where(Unit.code.in_(["t1", "v11", "v12"]))).all()
        for days in spans:
            ctx = context_of(s, days[-1], pace_margin=25, plan="demo-plan")
            for units in (None, t1):
                expected = set()
                for n, day in enumerate(days):
                    on = context_of(s, day, pace_margin=25, plan="demo-plan")
                    expected |= {
                        (n, r["unit_id"])
                        for r in _rows(s, replayed_select(on, units=units))
                        if r["state"] not in done_values() and r["status"] in ACTIVE_STATUSES
                    }
                for each in (replace(ctx, replay_all=False), replace(ctx, replay_all=True)):
                    got = {(n, u) for n, u in s.execute(active_units(each, days, units))}
                    assert got == expected, (days, units, each.replay_all)
