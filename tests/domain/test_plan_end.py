"""A finished plan (规划期满): reminders go on through its close-out (收尾期: 20 working days
after the period's end unless the catalogue says otherwise, or until the coordinator's
``close_out_until``), then stop, and the log and `duban escalate` say why.

Hand count for a plan ending 2025-12-31: 2026's New Year holiday is Jan 1–3 with Sunday Jan 4 a
make-up working day, so the working days after the end are Jan 4 (1st), Jan 5–9 (2nd–6th),
12–16 (7th–11th), 19–23 (12th–16th), 26–29 (17th–20th): the 20th is Thursday Jan 29, and Friday
Jan 30 is the 21st.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from config.errors import InputError
from config.ladder import load_ladder
from domain.queries.completeness import reporting_view
from domain.queries.escalation import all_due_notices
from domain.queries.plan_end import reminders_stopped, reporting_ends
from domain.queries.sync import sync_catalog
from domain.rules.plan_end import CloseOut
from duban.cli import app
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of

END = date(2025, 12, 31)
LAST_OF_CLOSE_OUT = date(2026, 1, 29)  # the 20th working day after the end
FIRST_AFTER = date(2026, 1, 30)  # the 21st, a Friday: weekly missing-report reminders are due


@pytest.mark.parametrize(
    ("day", "since_end", "over"),
    [
        (date(2025, 12, 31), 0, False),  # the plan's last day
        (date(2026, 1, 29), 20, False),  # the close-out's last working day
        (date(2026, 1, 31), 20, False),  # a rest day after it: still 20 working days
        (date(2026, 1, 30), 21, True),
    ],
)
def test_the_close_out_counts_working_days(day: date, since_end: int, over: bool) -> None:
    assert CloseOut(END, 20, None).over(day, since_end) is over


def test_an_extension_is_a_day_and_overrides_the_count() -> None:
    extended = CloseOut(END, 20, date(2026, 3, 31))
    assert not extended.over(date(2026, 3, 31), 60)
    assert extended.over(date(2026, 4, 1), 61)
    assert CloseOut(END, 0, None).over(date(2026, 1, 4), 1)  # no close-out at all
    assert "2025年12月31日期满" in CloseOut(END, 20, None).words()
    assert "20个工作日" in CloseOut(END, 20, None).words()
    assert "至2026年3月31日" in extended.words()
    assert "plan.close_out_until" in extended.words()


def sync(engine: Engine, write_catalog: CatalogWriter, **plan: Any) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["plan"].update(plan)

    with session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=edit))[0])


def planned(engine: Engine, day: date) -> tuple[int, CloseOut | None]:
    with frozen_time(end_of_working_day(day, "Asia/Shanghai")), session_scope(engine) as s:
        ctx = context_of(s, day)
        return len(all_due_notices(s, ctx, load_ladder())), reminders_stopped(s, ctx.plan, day)


def test_reminders_stop_after_the_close_out_unless_extended(
    synced: Engine, write_catalog: CatalogWriter
) -> None:
    """The minimal plan, never reported on: Friday Jan 30 would remind every unit that owes a
    report; the default close-out has ended the day before, so nothing is planned. A longer
    close-out or an extension in the catalogue plans them again."""
    count, stopped = planned(synced, FIRST_AFTER)
    assert (count, stopped) == (0, CloseOut(END, 20, None))
    assert planned(synced, LAST_OF_CLOSE_OUT)[1] is None
    sync(synced, write_catalog, close_out_workdays=21)
    count, stopped = planned(synced, FIRST_AFTER)
    assert count > 0 and stopped is None
    sync(synced, write_catalog, close_out_until=date(2026, 1, 29))
    assert planned(synced, FIRST_AFTER) == (0, CloseOut(END, 20, date(2026, 1, 29)))


def test_duban_escalate_says_why_nothing_is_planned(synced: Engine) -> None:
    result = CliRunner().invoke(app, ["escalate", "--as-of", FIRST_AFTER.isoformat()])
    assert result.exit_code == 0, result.output
    assert "规划已于2025年12月31日期满，期满后20个工作日的收尾期已过：不再安排提醒" in result.output
    assert "应发提醒 0 条，" in result.output  # no empty brackets of levels


def test_an_extension_before_the_end_is_refused_with_its_line(
    write_catalog: CatalogWriter, tmp_path: Path
) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["plan"]["close_out_until"] = date(2025, 6, 30)

    with pytest.raises(InputError) as refused:
        load_catalog(write_catalog(edit=edit))
    assert "plan.close_out_until: 2025-06-30 须在规划截止日 2025-12-31" in str(refused.value)


def test_no_report_is_owed_for_a_cycle_due_after_the_close_out(
    synced: Engine, write_catalog: CatalogWriter
) -> None:
    """Months later the latest cycle is still the last one due within the close-out, with the
    same units owing it: the reporting does not go on counting silent cycles for ever."""
    later = date(2026, 3, 2)
    with session_scope(synced) as s:
        plan = context_of(s, later).plan
        assert reporting_ends(s, plan, LAST_OF_CLOSE_OUT) is None
        assert reporting_ends(s, plan, FIRST_AFTER) == LAST_OF_CLOSE_OUT
        assert reporting_ends(s, plan, later) == LAST_OF_CLOSE_OUT
        within = reporting_view(s, context_of(s, LAST_OF_CLOSE_OUT))
        after = reporting_view(s, context_of(s, later))
    assert within.cycle.due <= LAST_OF_CLOSE_OUT
    assert after.cycle == within.cycle
    assert (within.ended_on, after.ended_on) == (None, LAST_OF_CLOSE_OUT)
    assert after.owed == within.owed > 0
    assert max(r.owed for r in after.units) == max(r.owed for r in within.units)
    sync(synced, write_catalog, close_out_until=date(2026, 2, 27))
    with session_scope(synced) as s:
        plan = context_of(s, later).plan
        assert reporting_ends(s, plan, later) == date(2026, 2, 27)
        assert reporting_view(s, context_of(s, later)).cycle.due <= date(2026, 2, 27)
