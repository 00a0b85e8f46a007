"""The briefing's numbers from hand-built facts (pure functions, no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.rules.briefing import lists
from domain.rules.briefing.build import build_briefing, changes, overview, task_light
from domain.rules.briefing.facts import (
    Facts,
    ItemFact,
    ProblemFact,
    TaskFact,
    TimelinessFact,
    UnitFact,
)
from domain.rules.briefing.lists import overdue_rows, upcoming_rows
from domain.rules.briefing.rankings import rankings
from models.enums import Light, Status

AS_OF = date(2021, 10, 15)
S = Status


def item(
    n: int,
    status: Status,
    *,
    task: str = "T01",
    milestone: str = "T01-M1",
    unit: str = "t1",
    due: date = date(2021, 9, 30),
    left: int = -7,
) -> ItemFact:
    return ItemFact(n, task, milestone, f"事项{milestone}", unit, f"单位{unit}", due, status, left)


UNITS = {
    "t1": UnitFact("t1", "甲镇", "t1", is_department=False),
    "v11": UnitFact("v11", "甲一村", "t1", is_department=False),
    "t2": UnitFact("t2", "乙乡", "t2", is_department=False),
    "v21": UnitFact("v21", "乙一村", "t2", is_department=False),
    "t3": UnitFact("t3", "丙乡", "t3", is_department=False),
    "mzj": UnitFact("mzj", "民政局", "mzj", is_department=True),
    "xzf": UnitFact("xzf", "县政府", None, is_department=True),
}


def test_overview_counts_every_item_once_and_shares_add_up() -> None:
    items = [
        item(1, S.DONE_ON_TIME),
        item(2, S.DONE_LATE),
        item(3, S.ON_TRACK, due=date(2021, 12, 31)),
        item(4, S.DUE_SOON, due=date(2021, 10, 20)),
        item(5, S.BEHIND_PACE, due=date(2021, 12, 31)),
        item(6, S.OVERDUE),
        item(7, S.OVERDUE),
        item(8, S.NOT_STARTED, due=date(2022, 3, 31)),
        item(9, S.WAITING, due=date(2022, 3, 31)),
        item(10, S.NOT_STARTED, due=date(2022, 3, 31)),
    ]
    o = overview(items, AS_OF)
    assert (o.total, o.done.count, o.done_late, o.on_track.count, o.due_soon) == (10, 2, 1, 2, 1)
    assert (o.behind_pace.count, o.overdue.count, o.not_started.count, o.waiting) == (1, 2, 3, 1)
    # done, on track, behind and overdue are shares of the 7 started items; not started of all
    assert o.started == 7
    assert [o.done.percent, o.overdue.percent, o.behind_pace.percent] == [28.6, 28.6, 14.3]
    assert o.not_started.percent == 30.0
    # due to date: items 1, 2, 6, 7; two are done, only item 1 on time
    assert (o.due_to_date, o.due_done, o.on_time_rate) == (4, 2, 25.0)
    assert overview([], AS_OF).on_time_rate is None


@pytest.mark.parametrize(
    ("statuses", "light"),
    [
        ([S.DONE_ON_TIME, S.OVERDUE, S.ON_TRACK], Light.RED),
        ([S.DONE_ON_TIME, S.BEHIND_PACE], Light.YELLOW),
        ([S.ON_TRACK, S.DUE_SOON], Light.YELLOW),
        ([S.ON_TRACK, S.NOT_STARTED, S.DONE_LATE], Light.GREEN),
        ([S.NOT_STARTED, S.WAITING], Light.GRAY),
        ([], Light.GRAY),
    ],
)
def test_a_key_tasks_light_is_its_worst_item(statuses: list[Status], light: Light) -> None:
    assert task_light(statuses) == light


def test_overdue_list_most_overdue_first_with_level_and_the_units_words() -> None:
    items = [
        item(1, S.OVERDUE, milestone="T01-M1", unit="mzj", due=date(2021, 6, 30), left=-70),
        item(2, S.OVERDUE, milestone="T02-M4", unit="v21", left=-7),
        item(3, S.OVERDUE, milestone="T02-M4", unit="v11", left=-7),
        item(4, S.ON_TRACK, milestone="T02-M4", unit="t1", left=3),
    ]
    rows, total, hidden = overdue_rows(items, {1: "逾期通报", 3: "逾期督办"}, {3: "资金未到位"})
    assert (total, hidden) == (3, 0)
    assert [(r.unit, r.workdays_overdue, r.level, r.reason) for r in rows] == [
        ("单位mzj", 70, "逾期通报", "未说明"),
        ("单位v11", 7, "逾期督办", "资金未到位"),
        ("单位v21", 7, "—", "未说明"),
    ]


def test_a_milestone_overdue_at_many_units_is_one_row_and_the_list_is_capped() -> None:
    fanned = [
        item(n, S.OVERDUE, milestone="T08-M1", unit=f"v{n:03d}", left=-n) for n in range(1, 41)
    ]
    singles = [
        item(100 + n, S.OVERDUE, milestone=f"T09-M{n}", unit="mzj", left=-100 - n)
        for n in range(lists.OVERDUE_ROWS + 2)
    ]
    rows, total, hidden = overdue_rows(fanned + singles, {}, {5: "说明"})
    assert total == 40 + lists.OVERDUE_ROWS + 2
    assert len(rows) == lists.OVERDUE_ROWS
    collapsed = [r for r in rows if r.units > 1]
    # the 40-unit row is the least overdue (40 days), so it is cut with one single
    assert collapsed == []
    assert hidden == 40 + 2

    rows, _, hidden = overdue_rows(fanned, {}, {5: "说明"})
    (row,) = rows
    assert (row.units, row.workdays_overdue, row.unit) == (
        40,
        40,
        "单位v001、单位v002、单位v003等40个单位",
    )
    assert row.reason == "说明（1个单位）；39个单位未说明" and hidden == 0


def test_changes_since_last_week() -> None:
    now = [
        item(1, S.OVERDUE),  # was on track: newly overdue, green → red
        item(2, S.DONE_LATE),  # was overdue: newly done, red → done late
        item(3, S.OVERDUE),  # already overdue: no change
        item(4, S.ON_TRACK),  # new this week: gray → green
    ]
    before = {1: S.DUE_SOON, 2: S.OVERDUE, 3: S.OVERDUE}
    c = changes(now, before, AS_OF - timedelta(days=7))
    assert (c.newly_overdue, c.newly_done) == (1, 1)
    assert [i.unit for i in c.newly_overdue_items] == ["单位t1"]
    assert {(x.before, x.after, x.count) for x in c.lights} == {
        (Light.YELLOW, Light.RED, 1),
        (Light.RED, Light.DONE_LATE, 1),
        (Light.GRAY, Light.GREEN, 1),
    }


def test_rankings_group_villages_under_their_township_and_departments_apart() -> None:
    items = [
        item(1, S.DONE_ON_TIME, unit="t1"),
        item(2, S.DONE_ON_TIME, unit="v11"),  # t1: 2 of 2 on time
        item(3, S.DONE_ON_TIME, unit="t2"),
        item(4, S.OVERDUE, unit="v21"),  # t2: 1 of 2, one overdue
        item(5, S.DONE_LATE, unit="t3"),  # t3: 0 of 1, nothing overdue
        item(6, S.OVERDUE, unit="mzj"),  # department: 0 of 1, overdue
        item(7, S.OVERDUE, unit="xzf"),  # leadership: not ranked
        item(8, S.NOT_STARTED, unit="t3", due=date(2022, 1, 1)),  # not due: not counted
    ]
    timely = [
        TimelinessFact("t1", owed=8, on_time=8),
        TimelinessFact("v11", owed=8, on_time=0),  # t1 as a whole: 8 of 16
        TimelinessFact("t2", owed=8, on_time=6),
        TimelinessFact("mzj", owed=8, on_time=8),
    ]
    towns, departments = rankings(items, UNITS, timely, AS_OF)
    # completion 100 / 50 / 0 %, average 50 %: only 甲镇 is above it; 丙乡 (t3) is below but
    # has nothing overdue (it finished late), so it is not called a laggard
    assert [(r.name, r.rate) for r in towns.completion_leaders] == [("甲镇", 100.0)]
    assert towns.completion_laggards == []
    # timeliness 50 / 75 %, average 62.5 %
    assert [(r.name, r.rate) for r in towns.timeliness_leaders] == [("乙乡", 75.0)]
    assert [(r.name, r.rate) for r in towns.timeliness_laggards] == [("甲镇", 50.0)]
    assert towns.ranked == 3
    # one department alone is compared with nobody: neither leader nor laggard
    assert departments.completion_leaders == departments.completion_laggards == []
    assert departments.timeliness_leaders == departments.timeliness_laggards == []
    assert departments.ranked == 1


def test_no_unit_is_both_leader_and_laggard() -> None:
    items = [item(n, S.DONE_ON_TIME if n % 2 else S.OVERDUE, unit=u) for n, u in enumerate(UNITS)]
    for group in rankings(items, UNITS, [], AS_OF):
        leaders = {r.code for r in group.completion_leaders}
        assert not leaders & {r.code for r in group.completion_laggards}


def test_upcoming_groups_a_milestone_by_due_date_and_skips_done_items() -> None:
    soon = date(2021, 10, 29)
    items = [
        item(1, S.DUE_SOON, milestone="T01-M2", unit="t1", due=soon),
        item(2, S.DUE_SOON, milestone="T01-M2", unit="t2", due=soon),
        item(3, S.DONE_ON_TIME, milestone="T01-M2", unit="t3", due=soon),
        item(4, S.ON_TRACK, milestone="T01-M3", unit="t1", due=date(2021, 10, 30)),  # too late
    ]
    items.append(item(5, S.WAITING, milestone="T01-M2", unit="t4", due=soon))
    rows, until, waiting = upcoming_rows(items, AS_OF)
    assert (until, waiting) == (soon, 1)
    assert [(r.milestone, r.units, r.open) for r in rows] == [("T01-M2", "单位t1、单位t2", 2)]


def facts(**changes_: object) -> Facts:
    base = Facts(
        plan="p",
        plan_title="示例规划",
        title="示例规划实施工作简报",
        issuer="示例县民政局",
        as_of=AS_OF,
        number=3,
        yellow_workdays=5,
        items=[item(1, S.OVERDUE, unit="t1")],
        previous={},
        tasks=[TaskFact("T01", 1, "加强领导", "组织部")],
        units=UNITS,
        levels={},
        reasons={},
        problems=[
            ProblemFact(1, "甲镇", AS_OF, " 资金未到位 "),
            ProblemFact(99, "乙乡", AS_OF, "x"),
        ],
        timeliness=[],
        indicators=[],
        warnings=[],
    )
    return Facts(**{**base.__dict__, **changes_})


def test_masthead_dates_and_the_weeks_problems() -> None:
    view = build_briefing(facts())
    m = view.masthead
    assert (m.number, m.period, m.issued_on_zh) == (3, "2021-W41", "2021年10月15日")
    assert m.period_zh == "2021年10月9日至10月15日"
    assert (m.period_start, m.period_end) == (date(2021, 10, 11), date(2021, 10, 17))
    assert (m.period_label, m.this_period, m.last_period) == ("2021年第41周", "本周", "上周")
    # a problem on an item no longer in the plan (99) is left out; text is trimmed
    assert [(p.unit, p.problem) for p in view.problems] == [("甲镇", "资金未到位")]
    assert view.legend[1] == ("黄灯", "5个工作日内到期，或实际进度落后序时进度")


def test_the_same_facts_give_the_same_numbers() -> None:
    assert build_briefing(facts()).numbers() == build_briefing(facts()).numbers()
    assert build_briefing(facts()).numbers() != build_briefing(facts(number=4)).numbers()


def test_leaders_are_above_the_groups_average_and_laggards_below() -> None:
    """Four departments at 40, 30, 20, 10 %: two above the average (25 %), two below."""
    units = {f"d{n}": UnitFact(f"d{n}", f"部门{n}", f"d{n}", is_department=True) for n in range(4)}
    items = []
    for n, done in enumerate((4, 3, 2, 1)):
        for k in range(10):
            status = S.DONE_ON_TIME if k < done else S.OVERDUE
            items.append(item(100 * n + k, status, unit=f"d{n}"))
    (departments,) = rankings(items, units, [], AS_OF)
    assert [r.rate for r in departments.completion_leaders] == [40.0, 30.0]
    assert [r.rate for r in departments.completion_laggards] == [10.0, 20.0]


def test_markdown_bold_keeps_its_closing_punctuation_outside() -> None:
    from domain.adapters.jinja import md_strong  # noqa: PLC0415

    assert md_strong("新完成：") == "**新完成**："
    assert md_strong("甲镇（T01 \\*）：") == "**甲镇（T01 \\\\\\*）**："


def test_a_long_title_breaks_where_a_reader_would() -> None:
    from domain.adapters.briefing.docx_parts import split_title  # noqa: PLC0415

    assert split_title("施甸县城乡社区服务体系建设规划实施工作简报") == (
        "施甸县城乡社区服务体系建设规划",
        "实施工作简报",
    )
    assert split_title("示例规划实施工作简报") == ("示例规划实施工作简报", "")
    # 20 characters would fill the line exactly; LibreOffice then leaves 报 alone on a second
    assert split_title("施甸县城乡社区服务体系建设规划实施月通报") == (
        "施甸县城乡社区服务体系建设规划",
        "实施月通报",
    )
