"""A plan of any size, deterministic from a seed: the Shidian plan run by a province.

    .venv/bin/python bench/synthetic.py --counties 30 --seed 1 --out /tmp/province

Writes a catalogue folder: the Shidian key tasks, milestones, measures and indicators, led by
the same (now provincial) departments, fanned out to N counties of townships and villages in
Shidian's proportions (10–16 townships and 120–160 village-level units per county, about one in
twelve of them an urban community). Each county adds ≈3,300 work items: 3 counties ≈ 10⁴,
30 ≈ 10⁵, 300 ≈ 10⁶. :func:`seed_reports` then marks a share of the started items in progress
with a report, in SQL, deterministically.
"""

from __future__ import annotations

import argparse
import random
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Engine,
    String,
    cast,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session

from config.ladder import Ladder
from config.settings import DEFAULT_CATALOG
from domain.queries.calendar import deadline_rule
from domain.rules.reporting import cycle_of
from models.db import insert_rows, session_scope
from models.orm import CalendarDay, Plan, Report, Unit, WorkItem
from models.records import Notice

PLAN_ID = "province-synthetic"


def county_units(county: int, rng: random.Random) -> list[dict[str, object]]:
    """One county: its government (under the province), townships, villages."""
    code = f"53{county:04d}"
    units: list[dict[str, object]] = [
        {"id": code, "name": f"第{county}县人民政府", "kind": "department", "parent": "xzf"}
    ]
    townships = rng.randint(10, 16)
    villages_left = rng.randint(120, 160)
    for t in range(1, townships + 1):
        town = f"{code}{t:03d}"
        units.append({"id": town, "name": f"第{county}县{t}镇", "kind": "township", "parent": code})
        share = villages_left // (townships - t + 1)
        villages_left -= share
        for v in range(1, share + 1):
            unit: dict[str, object] = {
                "id": f"{town}{v:03d}",
                "name": f"第{county}县{t}镇{v}村",
                "kind": "village",
                "parent": town,
            }
            if t == 1 and v <= 5:
                unit.update(kind="community", urban=True, name=f"第{county}县{t}镇{v}社区")
            elif rng.random() < 0.05:
                unit.update(kind="community", name=f"第{county}县{t}镇{v}社区")
            units.append(unit)
    return units


def write_catalogue(out: Path, counties: int, seed: int) -> Path:
    """The catalogue folder for ``counties`` counties."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("indicators.yaml", "units_departments.yaml"):
        shutil.copy(DEFAULT_CATALOG / name, out / name)
    # the one milestone naming two Shidian townships goes to two townships of county 1
    tasks = (DEFAULT_CATALOG / "tasks.yaml").read_text(encoding="utf-8")
    tasks = tasks.replace('"530521202"', '"530001001"').replace('"530521205"', '"530001002"')
    (out / "tasks.yaml").write_text(tasks, encoding="utf-8")
    plan = yaml.safe_load((DEFAULT_CATALOG / "plan.yaml").read_text(encoding="utf-8"))
    plan["plan"].update(
        id=PLAN_ID,
        title=f"城乡社区服务体系建设规划（{counties}县合成数据）",
        declared_village_units=None,
        briefing_title="城乡社区服务体系建设规划实施工作简报（合成数据）",
    )
    (out / "plan.yaml").write_text(
        yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    # ten counties a file: a catalogue file may hold at most 1 MB (config/yaml_lines.py)
    for first in range(1, counties + 1, 10):
        units = [
            u for c in range(first, min(first + 10, counties + 1)) for u in county_units(c, rng)
        ]
        (out / f"units_counties_{first:04d}.yaml").write_text(
            yaml.safe_dump({"units": units}, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
    return out


def seed_reports(engine: Engine, plan_id: str, as_of: date, *, share: int, seed: int) -> int:
    """Mark ``share`` % of the items whose window opened by ``as_of`` in progress, with a report
    of a percent between 10 and 90 on ``as_of``; the choice is a hash of the item id and the
    seed, so the same seed picks the same items on any backend. Returns how many."""
    # kept inside 32-bit integers (PostgreSQL's int4 overflows on id * 7919 past 271,000)
    chosen = f"(((id % 10007) * 7919 + {int(seed)}) % 100) < {int(share)}"
    percent = f"(10 + ((id % 1009) * 31 + {int(seed)}) % 81)"
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    params = {"plan": plan_id, "as_of": as_of, "now": now}
    with session_scope(engine) as session:
        picked = f"plan_id = :plan AND start <= :as_of AND state = 'assigned' AND {chosen}"
        session.execute(
            text(
                "INSERT INTO report (plan_id, item_id, unit_id, period, received_at, received_on,"
                " state, percent, actor) SELECT plan_id, id, unit_id, :as_of, :now, :as_of,"
                f" 'in_progress', {percent}, 'synthetic' FROM work_item WHERE {picked}"
            ),
            params,
        )
        session.execute(
            text(
                "INSERT INTO item_transition (item_id, from_state, to_state, at, on_date, actor)"
                " SELECT id, 'assigned', 'in_progress', :now, :as_of, 'synthetic'"
                f" FROM work_item WHERE {picked}"
            ),
            params,
        )
        done = session.execute(
            text(
                f"UPDATE work_item SET state = 'in_progress', percent = {percent},"
                f" moved_on = :as_of WHERE {picked}"
            ),
            params,
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


def seed_history(
    engine: Engine, plan_id: str, as_of: date, *, weeks: int, after: int = 0
) -> tuple[int, int]:
    """Give the reports received on ``as_of`` a past: a copy of each for each of the ``weeks``
    weeks before, a week earlier each time (period and day received), as if the same items had
    reported weekly; and in the outbox, for each of those weeks, a missing-report notice (sent)
    for each unit that sent nothing for it: the bulk of what the daily cycle leaves there. The
    reporting queries and the outbox checks must not slow down as history piles up. With
    ``after``, the weeks before the ``after`` weeks already seeded. Returns the reports and
    notices added."""
    report = Report.__table__
    columns = ["plan_id", "item_id", "unit_id", "period", "received_at", "received_on"]
    with session_scope(engine) as session:
        rows = session.execute(
            select(*(report.c[c] for c in columns), report.c.state, report.c.percent).where(
                report.c.plan_id == plan_id, report.c.received_on == as_of
            )
        ).all()
        insert_rows(
            session,
            Report,
            (
                {
                    "plan_id": r.plan_id,
                    "item_id": r.item_id,
                    "unit_id": r.unit_id,
                    "period": r.period - timedelta(weeks=w),
                    "received_at": r.received_at - timedelta(weeks=w),
                    "received_on": r.received_on - timedelta(weeks=w),
                    "state": r.state,
                    "percent": r.percent,
                    "actor": "synthetic history",
                }
                for w in range(after + 1, after + weeks + 1)
                for r in rows
            ),
        )
        notices = sum(
            _missing_notices_of(session, plan_id, as_of - timedelta(weeks=w))
            for w in range(after + 1, after + weeks + 1)
        )
    return len(rows) * weeks, notices


def seed_ladder_history(engine: Engine, plan_id: str, as_of: date, ladder: Ladder) -> int:
    """In the outbox, the ladder notices (sent) each item overdue on ``as_of`` was given before:
    each level and repeat cycle it reached, planned the working day it was reached, except the
    one it sits on now (the cycle of ``as_of`` plans that). Every item is taken to follow the
    default ladder, and to have been open and not waiting all along. With weekly repeats a
    long-overdue item has a dozen; the outbox check must not read them. Returns how many."""
    levels = ladder.levels
    rungs = [
        (lv.id, lv.name, lv.offset, nxt.offset if nxt else None, lv.repeat_every, lv.to)
        for lv, nxt in zip(levels, [*levels[1:], None], strict=True)
    ]
    first = min(lv.offset for lv in levels)
    with session_scope(engine) as session:
        day_of = dict(
            session.execute(
                select(CalendarDay.ordinal, func.min(CalendarDay.day)).group_by(CalendarDay.ordinal)
            ).all()
        )
        today = session.execute(
            select(CalendarDay.ordinal).where(CalendarDay.day == as_of)
        ).scalar_one()
        items = session.execute(
            select(WorkItem.id, WorkItem.unit_id, WorkItem.due, CalendarDay.ordinal)
            .join(CalendarDay, CalendarDay.day == WorkItem.due)
            .where(
                WorkItem.plan_id == plan_id,
                WorkItem.state.not_in(["submitted", "closed", "retired"]),
                WorkItem.open_prerequisites <= 0,
                WorkItem.start <= as_of,
                CalendarDay.ordinal <= today - first,
            )
        ).all()

        def earlier(item: Any) -> Iterator[dict[str, Any]]:
            overdue = today - item.ordinal
            for level, name, offset, nxt, repeat, to in rungs:
                start, cycle = offset, 0
                while start <= overdue and (nxt is None or start < nxt):
                    end = min(start + (repeat or 10**6), nxt if nxt is not None else 10**6)
                    planned = day_of.get(item.ordinal + start)
                    if overdue >= end and planned is not None:  # left behind: planned then
                        yield {
                            "plan_id": plan_id,
                            "dedupe_key": f"ladder:{item.id}:{level}:{item.due}:{cycle}",
                            "kind": "ladder",
                            "item_id": item.id,
                            "unit_id": item.unit_id,
                            "level": level,
                            "level_name": name,
                            "due": item.due,
                            "cycle": cycle,
                            "workdays": start,
                            "roles": list(to),
                            "rule": "synthetic history",
                            "planned_on": planned,
                            "planned_at": datetime.combine(planned, time(2), tzinfo=UTC),
                            "status": "sent",
                            "attempts": 1,
                        }
                    if not repeat:
                        break
                    start, cycle = start + repeat, cycle + 1

        return insert_rows(session, Notice, (row for item in items for row in earlier(item)))


def _missing_notices_of(session: Session, plan_id: str, day: date) -> int:
    """The missing-report notices of the reporting cycle of ``day``: one for each unit that
    sent nothing for it (whether it owed a report is not asked: history only has to be there),
    marked sent."""
    plan = session.get(Plan, plan_id)
    assert plan is not None
    span = timedelta(days=31)
    postpone = deadline_rule(session, day - span, day + span)
    cycle = cycle_of(day, plan.reporting_cycle, plan.reporting_due, postpone)
    unit, report = Unit.__table__, Report.__table__
    planned = datetime.combine(cycle.due + timedelta(days=3), datetime.min.time(), tzinfo=UTC)
    values = {
        "plan_id": unit.c.plan_id,
        "dedupe_key": literal("missing:") + cast(unit.c.id, String) + f":{cycle.start}",
        "kind": literal("missing_report"),
        "unit_id": unit.c.id,
        "level": literal("missing-report"),
        "level_name": literal("未报进展提醒"),
        "due": literal(cycle.due, Date),
        "cycle": literal(0),
        "workdays": literal(1),
        "roles": literal(["owner:liaison"], JSON),
        "rule": literal("synthetic history"),
        "planned_on": literal(planned.date(), Date),
        "planned_at": literal(planned, DateTime(timezone=True)),
        "status": literal("sent"),
        "attempts": literal(1),
    }
    senders = select(report.c.unit_id).where(
        report.c.plan_id == plan_id,
        report.c.period.between(cycle.start, cycle.end),
        report.c.unit_id.is_not(None),  # NOT IN a set with a NULL holds for no unit
    )  # uncorrelated: SQLite would read the cycle's reports again for each unit
    silent = select(*values.values()).where(
        unit.c.plan_id == plan_id, unit.c.id.not_in(senders.scalar_subquery())
    )
    written = session.execute(
        insert(Notice).from_select(list(values), silent).execution_options(preserve_rowcount=True)
    )
    return int(written.rowcount)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    folder = write_catalogue(args.out, args.counties, args.seed)
    print(f"catalogue for {args.counties} counties in {folder}")


if __name__ == "__main__":
    main()
