"""A replayed multi-year history of one county of the synthetic province (``bench/synthetic.py``):
the units of two townships and two departments report twice a year from 2021 to 2025 and once in
the close-out, through the same checks and landing as a unit's file; every village and urban
community reports its measures at each year's end. Deterministic: which item is reported done,
in progress with a problem, or not at all on a day is a hash of its id and the day."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select

from domain.queries.report_landing import check, land
from domain.queries.sync import sync_catalog
from domain.rules.intake.rows import ParsedFile, ReportRow
from domain.rules.reporting import ReportState
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.enums import ItemState
from models.orm import Plan, Unit, WorkItem
from models.records import Measure, MeasureValue
from models.unitsets import select_units
from tasks_catalog.loader import load_catalog

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synthetic import PLAN_ID, write_catalogue

TZ = "Asia/Shanghai"
DAYS = [
    date(2021, 6, 25),
    date(2021, 12, 24),
    date(2022, 6, 24),
    date(2022, 12, 23),
    date(2023, 6, 21),
    date(2023, 12, 22),
    date(2024, 6, 21),
    date(2024, 12, 20),
    date(2025, 6, 20),
    date(2025, 12, 19),
    date(2026, 1, 9),  # in the close-out: after the plan's end
]
PROBLEMS = [
    "资金未到位，等待县财政拨付",
    "场地选址与村庄规划冲突",
    "上级文件尚未下发，  标准不明确",  # the same words as below, spaced differently
    "上级文件尚未下发， 标准不明确",
]
REPORTING = ("530001001", "530001002")
"""The townships whose units (and their villages) report; plus the first two departments."""
MEASURE_DAYS = [date(2021, 12, 31), date(2023, 12, 29), date(2025, 12, 30), date(2026, 1, 5)]
"""Measures at these days (the last after the plan's end, not counted at its end)."""


def build(engine: Engine, folder: Path) -> None:
    """Sync the county's catalogue on 2021-01-04 and replay its history."""
    catalog, _ = load_catalog(write_catalogue(folder, 1, seed=5))
    with frozen_time(datetime(2021, 1, 4, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, catalog)
    for day in DAYS:
        report_day(engine, day)
    seed_measures(engine)


def reporting_units(engine: Engine) -> list[tuple[int, str]]:
    with session_scope(engine) as session:
        units = session.execute(
            select(Unit.id, Unit.code, Unit.kind).where(Unit.plan_id == PLAN_ID).order_by(Unit.code)
        ).all()
    towns = [u for u in units if u.code.startswith(REPORTING)]
    departments = [u for u in units if u.kind == "department" and not u.code.startswith("53")]
    return [(u.id, u.code) for u in [*towns, *departments[:2]]]


def choice(item_id: int, day: date) -> int:
    return (item_id * 31 + day.toordinal() * 7) % 10


def report_day(engine: Engine, day: date) -> None:
    """Each reporting unit's file of the day: its open items in their window, some done (with
    evidence), some in progress with a problem, the rest unreported."""
    for unit_id, code in reporting_units(engine):
        with frozen_time(end_of_working_day(day, TZ)), session_scope(engine) as session:
            plan = session.get(Plan, PLAN_ID)
            assert plan is not None
            items = session.scalars(
                select(WorkItem.id).where(
                    WorkItem.unit_id == unit_id,
                    WorkItem.start <= day,
                    WorkItem.state.not_in(
                        [ItemState.SUBMITTED.value, ItemState.CLOSED.value, ItemState.RETIRED.value]
                    ),
                    WorkItem.open_prerequisites <= 0,
                )
            ).all()
            rows = []
            for n, item_id in enumerate(items, 2):
                h = choice(item_id, day)
                if h < 4:
                    rows.append(
                        ReportRow(
                            n, code, item_id, ReportState.DONE, 100, "已完成", None, None, "见附件"
                        )
                    )
                elif h < 7:
                    problem = PROBLEMS[(item_id + day.year) % len(PROBLEMS)]
                    rows.append(
                        ReportRow(
                            n,
                            code,
                            item_id,
                            ReportState.IN_PROGRESS,
                            50,
                            "推进中",
                            problem,
                            None,
                            None,
                        )
                    )
            if not rows:
                continue
            parsed = ParsedFile(
                Path(f"{code}-{day}.json"), "json", PLAN_ID, code, day, reports=rows
            )
            checked, problems = check(session, parsed, plan)
            if problems:  # an item the rules refuse (evidence of a kind it needs): left out
                bad = {p.line for p in problems}
                parsed = ParsedFile(
                    parsed.path,
                    "json",
                    PLAN_ID,
                    code,
                    day,
                    reports=[r for r in rows if r.row not in bad],
                )
                checked, problems = check(session, parsed, plan)
            assert checked is not None, problems
            land(session, checked, parsed, actor="replay", file_id=None)


def seed_measures(engine: Engine) -> None:
    """Each unit reporting a measure: a value on each of :data:`MEASURE_DAYS`, growing."""
    with session_scope(engine) as session:
        units = list(session.scalars(select(Unit).where(Unit.plan_id == PLAN_ID)))
        rows = []
        for measure in session.scalars(select(Measure).where(Measure.plan_id == PLAN_ID)):
            for unit in select_units(measure.reported_by, units, key=lambda u: u.code):
                for step, day in enumerate(MEASURE_DAYS):
                    rows.append(
                        {
                            "plan_id": PLAN_ID,
                            "measure_id": measure.id,
                            "unit_id": unit.id,
                            "value": measure_value(measure.type, unit.id, step),
                            "received_at": datetime.combine(day, datetime.min.time(), tzinfo=UTC),
                            "received_on": day,
                        }
                    )
        session.execute(insert(MeasureValue), rows)


def measure_value(kind: str, unit_id: int, step: int) -> float:
    if kind == "boolean":
        return float((unit_id + step) % 3 != 0)
    if kind == "integer":
        return float(100 + (unit_id * 7 + step * 13) % 400)
    return float(20 + (unit_id * 3 + step * 11) % 90) + 0.5
