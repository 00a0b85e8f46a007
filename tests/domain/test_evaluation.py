"""The final evaluation on a replayed multi-year history (:mod:`tests.domain.evaluation_history`):
its totals are the status view's on the plan's last day, its indicators the ratios of the sums of
the units' newest measures at that day, its problems every problem reported in the period."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from config.settings import Settings
from domain.queries.evaluation import gather
from domain.queries.status import status_view
from domain.rules.evaluation.build import build_evaluation
from domain.rules.evaluation.model import Evaluation
from domain.rules.indicators import UNITS
from models.db import session_scope
from models.enums import Status
from models.orm import Plan, Report, Unit
from models.records import Indicator, Measure, MeasureValue
from models.unitsets import select_units
from tests.domain.evaluation_history import build
from tests.fixtures.context import context_of

END = date(2025, 12, 31)
PLAN_ID = "province-synthetic"  # bench/synthetic.py's plan


@pytest.fixture
def history(settings: Settings, engine: Engine, tmp_path: Path) -> Engine:
    build(engine, tmp_path / "plan")
    return engine


def evaluation_of(engine: Engine, day: date) -> Evaluation:
    with session_scope(engine) as session:
        plan = session.get(Plan, PLAN_ID)
        assert plan is not None
        return build_evaluation(gather(session, plan, context_of(session, day)), None)


def expected_indicators(engine: Engine, day: date) -> dict[str, float | None]:
    """Each indicator worked out here from the measure values: each unit's newest value up to
    the day, summed over the units in scope that reported every part, numerator over
    denominator."""
    with session_scope(engine) as session:
        codes = dict(session.execute(select(Measure.id, Measure.code)).all())
        newest: dict[tuple[int, str], tuple[date, int, float]] = {}
        for v in session.scalars(select(MeasureValue).where(MeasureValue.received_on <= day)):
            key = (v.unit_id, codes[v.measure_id])
            if key not in newest or (v.received_on, v.id) > newest[key][:2]:
                newest[key] = (v.received_on, v.id, v.value)
        units = list(session.scalars(select(Unit).where(Unit.retired_at.is_(None))))
        out: dict[str, float | None] = {}
        for ind in session.scalars(select(Indicator)):
            parts = {*ind.numerator, *ind.denominator} - {UNITS}
            counted = [
                u
                for u in select_units(ind.scope, units, key=lambda u: u.code)
                if all((u.id, p) in newest for p in parts)
            ]

            def total(names: list[str], counted: list[Unit] = counted) -> float:
                return sum(
                    1.0 if p == UNITS else newest[(u.id, p)][2] for u in counted for p in names
                )

            den = total(ind.denominator)
            out[ind.code] = total(ind.numerator) * ind.factor / den if counted and den else None
        return out


def test_totals_indicators_and_problems_agree_with_the_history(history: Engine) -> None:
    view = evaluation_of(history, END)
    with session_scope(history) as session:
        status = status_view(session, context_of(session, END)).statuses
    t = view.totals
    assert view.ended and t.total == sum(status.values()) > 3000
    assert (t.on_time, t.late, t.overdue) == (
        status[Status.DONE_ON_TIME],
        status[Status.DONE_LATE],
        status[Status.OVERDUE],
    )
    assert t.on_time > 0 and t.late > 0 and t.overdue > 0  # the history has all three
    assert t.on_time + t.late + t.open_due + t.not_due == t.total
    # the key tasks' and the years' rows add up to the totals
    assert sum(r.due for r in view.tasks) == t.due == sum(y.due for y in view.years)
    assert sum(r.never for r in view.tasks) == t.open_due == sum(y.never for y in view.years)
    assert sum(r.late for r in view.tasks) == t.late
    assert sum(u.items for u in view.open_units) == t.open_due
    assert [y.year for y in view.years] == [2021, 2022, 2023, 2024, 2025]
    # indicators: the ratios of the sums at the end (the values sent after it left out)
    expected = expected_indicators(history, END)
    assert {i.code: i.value for i in view.indicators} == pytest.approx(expected)
    assert all(v is not None for v in expected.values())
    assert expected != expected_indicators(history, date(2026, 1, 31))
    assert {i.data_to for i in view.indicators} == {date(2025, 12, 30)}
    # every problem reported in the period, grouped by its words whatever the spaces
    with session_scope(history) as session:
        written = session.scalars(
            select(Report.problem).where(Report.problem.is_not(None), Report.received_on <= END)
        ).all()
    counted = Counter(" ".join(p.split()) for p in written if p)
    assert {p.problem: p.reports for p in view.problems} == counted
    assert len(counted) == 3


def test_a_day_before_the_end_says_the_plan_runs_and_counts_what_was_due(history: Engine) -> None:
    view = evaluation_of(history, date(2023, 6, 30))
    t = view.totals
    assert not view.ended and view.close_out_last is None
    assert t.not_due > 0 and [y.year for y in view.years] == [2021, 2022, 2023]
    per_year: defaultdict[int, int] = defaultdict(int)
    for y in view.years:
        per_year[y.year] = y.due
    assert sum(per_year.values()) == t.due
