"""Completeness and timeliness over several weekly cycles, with on-time, late and silent units."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import chinese_calendar
from sqlalchemy import Engine
from typer.testing import CliRunner

from config.settings import Settings
from domain.queries.completeness import completeness_view, reporting_view
from domain.queries.sync import sync_catalog
from domain.rules.reporting import cycle_of
from domain.rules.workdays import postpone
from domain.services.intake.inbox import collect
from duban.cli import app
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of
from tests.fixtures.plan_week import item_id as item
from tests.intake.signed import sign_json

TZ = "Asia/Shanghai"


def report_on(day: date, item_id: int, unit: str, percent: int) -> None:
    with frozen_time(end_of_working_day(day, TZ)):
        result = CliRunner().invoke(
            app,
            [
                "report",
                str(item_id),
                "--unit",
                unit,
                "--state",
                "in_progress",
                "--percent",
                str(percent),
            ],
        )
        assert result.exit_code == 0, result.output


def in_china(day: date) -> date:
    """The 顺延 rule over the official Chinese calendar (no local overrides)."""
    return postpone(day, lambda d: bool(chinese_calendar.is_workday(d)))


def test_weekly_cycle_is_monday_to_sunday_due_friday() -> None:
    """The default cycle: the week of the date, due on its Friday; a month's report due on
    its last day, postponed to the next working day when that is a rest day."""
    cycle = cycle_of(date(2021, 6, 16), "weekly", 5, in_china)
    assert (cycle.start, cycle.end, cycle.due) == (
        date(2021, 6, 14),
        date(2021, 6, 20),
        date(2021, 6, 18),
    )
    month = cycle_of(date(2021, 2, 10), "monthly", 31, in_china)
    assert (month.start, month.end, month.due) == (
        date(2021, 2, 1),
        date(2021, 2, 28),
        date(2021, 3, 1),  # 28 February 2021 was a Sunday
    )


def test_completeness_and_timeliness_over_four_weeks(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter, tmp_path: Path
) -> None:
    """zzb: on time twice, late once, silent once; v11: on time twice; other villages silent."""
    with frozen_time(datetime(2021, 6, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog())[0])
    m1, m4 = item(engine, "M1", "zzb"), item(engine, "M4", "v11")
    report_on(date(2021, 6, 10), m1, "zzb", 20)
    report_on(date(2021, 6, 11), m4, "v11", 10)
    report_on(date(2021, 6, 18), m1, "zzb", 40)
    report_on(date(2021, 6, 24), m4, "v11", 30)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    late = {
        "unit": "zzb",
        "period": "2021-06-21",
        "reports": [{"item": m1, "state": "in_progress", "percent": 60}],
    }
    (inbox / "zzb-late.json").write_text(json.dumps(sign_json(late)), encoding="utf-8")
    with frozen_time(end_of_working_day(date(2021, 6, 28), TZ)):
        assert collect(engine, "demo-plan", inbox)[0].status == "landed"

    with session_scope(engine) as session:
        before_late = completeness_view(session, context_of(session, date(2021, 6, 27)), cycles=3)
        view = completeness_view(session, context_of(session, date(2021, 7, 2)), cycles=4)
        thursday = reporting_view(session, context_of(session, date(2021, 7, 1)))
        friday = reporting_view(session, context_of(session, date(2021, 7, 2)))
        # the daily cycle's form: the same who-is-missing from SQL alone, without rates
        daily = [
            completeness_view(session, context_of(session, day), rates=False, missing_limit=limit)
            for day in (date(2021, 6, 27), date(2021, 7, 2))
            for limit in (None, 2, 0)
        ]

    for full, (everyone, first_two, none) in ((before_late, daily[:3]), (view, daily[3:])):
        assert (none.owed, none.sent, none.missing) == (full.owed, full.sent, [])
        assert (everyone.owed, everyone.sent, everyone.missing) == (
            full.owed,
            full.sent,
            full.missing,
        )
        assert everyone.units == []
        assert (first_two.owed, first_two.sent) == (full.owed, full.sent)
        assert first_two.missing == full.missing[:2]

    assert (before_late.owed, before_late.sent) == (5, 1)
    assert [code for code, _ in before_late.missing] == ["v12", "v21", "v22", "zzb"]

    assert (view.window_start, view.window_end) == (date(2021, 6, 7), date(2021, 7, 4))
    by_unit = {u.unit: (u.owed, u.sent, u.on_time) for u in view.units}
    assert by_unit == {
        "zzb": (4, 3, 2),
        "v11": (4, 2, 2),
        "v12": (4, 0, 0),
        "v21": (4, 0, 0),
        "v22": (4, 0, 0),
    }
    assert view.owed == 5
    assert len(view.missing) == 5
    zzb = next(u for u in view.units if u.unit == "zzb")
    assert (zzb.completeness, zzb.timeliness) == (0.75, 0.5)
    # cycles in a row, up to the latest, owed and not sent: zzb and v11 missed 6-28's only
    assert {u.unit: u.silent for u in view.units} == {
        "zzb": 1,
        "v11": 1,
        "v12": 4,
        "v21": 4,
        "v22": 4,
    }

    # 最近一期 (reporting_view): on Thursday 7-1 the week of 6-28 is not due yet, so it is
    # 6-21–6-27 (due 6-25), which v11 sent on time and zzb late (6-28); on Friday 7-2, the due
    # day, it is 6-28–7-4. The rates span the eight cycles due by the day.
    assert (thursday.cycle.start, thursday.cycle.due) == (date(2021, 6, 21), date(2021, 6, 25))
    assert (thursday.owed, thursday.sent, thursday.on_time) == (5, 2, 1)
    assert (friday.cycle.start, friday.cycle.due) == (date(2021, 6, 28), date(2021, 7, 2))
    assert (friday.owed, friday.sent, friday.on_time) == (5, 0, 0)
    assert thursday.window_end == date(2021, 6, 27)
    assert (friday.window_start, friday.window_end) == (date(2021, 5, 10), date(2021, 7, 4))
