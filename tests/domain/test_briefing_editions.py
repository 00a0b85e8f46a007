"""The monthly and quarterly editions (月通报, 季度推进) on the small plan: the same engine over
the period, numbered in their own series, dated the first working day after the period,
compared with the period before; and `duban brief --month/--quarter` as a user types it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from domain.rules.briefing.build import masthead_title
from domain.rules.periods import Period
from domain.services.briefing.issue import period_due, scheduled_day
from duban.cli import app
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.enums import Edition
from models.records import Briefing
from tests.domain.test_briefing_issue import issue
from tests.fixtures.plan_week import AS_OF, HOSTILE, TZ

M, Q = Edition.MONTH, Edition.QUARTER


def test_each_edition_has_its_own_title() -> None:
    """The weekly title's (工作)简报 gives way to the edition's name; a title that does not end
    so keeps itself and names the edition in brackets."""
    assert masthead_title("示例规划", None, Edition.WEEK) == "示例规划实施工作简报"
    assert masthead_title("示例规划", None, M) == "示例规划实施月通报"
    assert masthead_title("示例规划", None, Q) == "示例规划实施季度推进情况通报"
    assert masthead_title("示例规划", "乡村振兴简报", M) == "乡村振兴月通报"
    assert masthead_title("示例规划", "督办快讯", Q) == "督办快讯（季度推进）"
    assert masthead_title("示例规划", "督办快讯", Edition.WEEK) == "督办快讯"


def test_a_monthly_briefing_counts_as_the_weekly_one_on_the_same_day(
    week: Engine, tmp_path: Path
) -> None:
    """September's 月通报 is dated 9-30 and says so; its overview and lists are those of the
    weekly briefing of the same day; it compares with 8-31 and covers September's days."""
    monthly = issue(week, date(2021, 9, 30), tmp_path, period=Period(M, 2021, 9))
    weekly = issue(week, date(2021, 9, 30), tmp_path)
    view, m = monthly.view, monthly.view.masthead
    assert view.overview == weekly.view.overview
    assert view.tasks == weekly.view.tasks and view.overdue == weekly.view.overdue
    assert (m.title, m.edition, m.period, m.period_label) == (
        "示例规划实施月通报",
        M,
        "2021-09",
        "2021年9月",
    )
    assert (m.period_start, m.period_end) == (date(2021, 9, 1), date(2021, 9, 30))
    assert m.period_zh == "2021年9月1日至9月30日"
    assert (m.this_period, m.last_period) == ("本月", "上月")
    # issued on the first working day after September: National Day's holiday ends on 10-7
    assert (m.printed_on, m.issued_on) == (date(2021, 10, 8), date(2021, 9, 30))
    assert view.changes.previous_as_of == date(2021, 8, 31)
    assert weekly.view.changes.previous_as_of == date(2021, 9, 23)
    # v11 was done on 9-28: new within the month and within the week
    assert view.changes.newly_done == weekly.view.changes.newly_done == 1
    assert monthly.files["md"] == tmp_path / "demo-plan" / "2021-09" / "brief-2021-09.md"


def test_october_compares_with_september_and_says_this_month(week: Engine, tmp_path: Path) -> None:
    """October's 月通报 (as of 10-31) compares with 9-30, the end of the month before: M4's
    v12 (甲一村) and v21 (乙社区) turned overdue, v22 (乙一村) was done late; v12's problem of
    10-11 is the month's. The text speaks of the month, never of a week."""
    view = issue(week, date(2021, 10, 31), tmp_path, period=Period(M, 2021, 10)).view
    c = view.changes
    assert c.previous_as_of == date(2021, 9, 30)
    assert {"甲一村", "乙社区"} <= {i.unit for i in c.newly_overdue_items}
    assert [i.unit for i in c.newly_done_items] == ["乙一村"]
    assert [p.problem for p in view.problems] == [HOSTILE]
    assert view.masthead.printed_on == date(2021, 11, 1)
    markdown = (tmp_path / "demo-plan" / "2021-10" / "brief-2021-10.md").read_text("utf-8")
    assert "本月" in markdown
    assert "本周" not in markdown and "上周" not in markdown


def test_a_quarterly_briefing_spans_its_three_months(week: Engine, tmp_path: Path) -> None:
    """The third quarter's 季度推进: 7-1 to 9-30, compared with 6-30 (M1, due 6-30, has become
    overdue since), issued 10-08."""
    view = issue(week, date(2021, 9, 30), tmp_path, period=Period(Q, 2021, 3)).view
    m = view.masthead
    assert (m.title, m.period, m.period_label) == (
        "示例规划实施季度推进情况通报",
        "2021-Q3",
        "2021年第三季度",
    )
    assert m.period_zh == "2021年7月1日至9月30日"
    assert (m.printed_on, view.changes.previous_as_of) == (date(2021, 10, 8), date(2021, 6, 30))
    assert "示例县委组织部" in {i.unit for i in view.changes.newly_overdue_items}
    assert (m.this_period, m.last_period) == ("本季度", "上季度")


def test_each_edition_is_numbered_in_its_own_series(week: Engine, tmp_path: Path) -> None:
    """Weekly, monthly and quarterly 第N期 count apart, each in its period's year, in the order
    first made; regenerating a period keeps its number."""
    made = [
        issue(week, date(2021, 9, 30), tmp_path),  # weekly 2021-W39
        issue(week, date(2021, 9, 30), tmp_path, period=Period(M, 2021, 9)),
        issue(week, date(2021, 9, 30), tmp_path, period=Period(Q, 2021, 3)),
        issue(week, date(2021, 10, 31), tmp_path, period=Period(M, 2021, 10)),
        issue(week, AS_OF, tmp_path),  # weekly 2021-W41
        issue(week, date(2021, 9, 30), tmp_path, period=Period(M, 2021, 9)),  # again
        issue(week, date(2021, 12, 31), tmp_path, period=Period(Q, 2021, 4)),
        issue(week, date(2022, 1, 31), tmp_path, period=Period(M, 2022, 1)),
    ]
    assert [(i.number, i.new) for i in made] == [
        (1, True),
        (1, True),
        (1, True),
        (2, True),
        (2, True),
        (1, False),
        (2, True),
        (1, True),
    ]
    assert made[5].reproduced
    with session_scope(week) as session:
        rows = session.execute(
            select(Briefing.edition, Briefing.period, Briefing.year, Briefing.number).order_by(
                Briefing.edition, Briefing.year, Briefing.number
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("month", "2021-09", 2021, 1),
        ("month", "2021-10", 2021, 2),
        ("month", "2022-01", 2022, 1),
        ("quarter", "2021-Q3", 2021, 1),
        ("quarter", "2021-Q4", 2021, 2),
        ("week", "2021-W39", 2021, 1),
        ("week", "2021-W41", 2021, 2),
    ]


def test_a_weekly_briefing_compares_with_the_last_weekly_one_only(
    week: Engine, tmp_path: Path
) -> None:
    """A monthly edition dated between two weeks does not become "last week" for the next
    weekly briefing."""
    issue(week, date(2021, 10, 8), tmp_path)  # weekly W40
    issue(week, date(2021, 10, 12), tmp_path, period=Period(M, 2021, 10))  # mid-month, say
    view = issue(week, AS_OF, tmp_path).view
    assert view.changes.previous_as_of == date(2021, 10, 8)


def test_the_schedule_asks_the_calendar_in_the_database(week: Engine) -> None:
    """Scheduled day and the period due on a day, from the calendar table (National Day)."""
    with session_scope(week) as session:
        assert scheduled_day(session, Period(Q, 2021, 3)) == date(2021, 10, 8)
        assert scheduled_day(session, Period(M, 2021, 12)) == date(2022, 1, 4)
        assert period_due(session, M, date(2021, 10, 8)) == Period(M, 2021, 9)
        assert period_due(session, Q, date(2021, 10, 8)) == Period(Q, 2021, 3)
        assert period_due(session, M, date(2021, 10, 11)) is None
        assert period_due(session, Q, date(2021, 11, 1)) is None


def test_cli_month_and_quarter(week: Engine, tmp_path: Path) -> None:
    """`duban brief --month 2021-09` and `--quarter 2021-Q3` write their editions."""
    runner = CliRunner()
    with frozen_time(end_of_working_day(AS_OF, TZ)):
        month = runner.invoke(
            app, ["brief", "--month", "2021-09", "--out", str(tmp_path), "--format", "md"]
        )
        quarter = runner.invoke(
            app,
            ["brief", "--quarter", "2021-Q3", "--out", str(tmp_path), "--format", "md", "--json"],
        )
    assert month.exit_code == 0, month.output
    assert "示例规划实施月通报 2021年第1期（2021年9月，截至2021年9月30日，2021年10月8日印发" in (
        month.stdout.replace("\n", "")
    )
    assert quarter.exit_code == 0, quarter.output
    payload = json.loads(quarter.stdout)
    assert payload["briefing"]["masthead"]["edition"] == "quarter"
    assert payload["briefing"]["as_of"] == "2021-09-30"
    assert (tmp_path / "demo-plan" / "2021-Q3" / "brief-2021-Q3.md").exists()


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--month", "2021-13"], "2021年没有13月：月份应为1至12"),
        (["--quarter", "2021-Q5"], "2021年没有第5季度：季度应为Q1至Q4"),
        (["--month", "2021-Q4"], "不是月份"),
        (["--week", "2021-W41", "--month", "2021-10"], "--week、--month 只能给一个"),
        (["--month", "2021-10", "--quarter", "2021-Q4"], "--month、--quarter 只能给一个"),
        (["--as-of", "2021-10-15", "--quarter", "2021-Q4"], "--as-of 和 --quarter 只能给一个"),
        (["--month", "2020-12"], "早于规划起始日"),
    ],
)
def test_cli_bad_periods_are_usage_errors(
    week: Engine, tmp_path: Path, args: list[str], hint: str
) -> None:
    """A bad period is a Chinese message and exit 2, nothing recorded, no traceback."""
    bad = CliRunner().invoke(app, ["brief", "--out", str(tmp_path), "--format", "md", *args])
    assert bad.exit_code == 2, bad.output
    assert hint in bad.output
    assert "Traceback" not in bad.output
    with session_scope(week) as session:
        assert session.scalars(select(Briefing)).all() == []
