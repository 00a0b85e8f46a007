"""Page one of the briefing (需要领导协调解决的事项) and its figures, from a small hand-built
plan: pure rules, no database."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date

from domain.rules.briefing import leader
from domain.rules.briefing.build import build_briefing, held_items, overview
from domain.rules.briefing.facts import (
    ItemFact,
    ProblemFact,
    TaskFact,
    TimelinessFact,
    UnitFact,
)
from domain.rules.briefing.layout import (
    LEADER_HEADING,
    ListBlock,
    Para,
    _ranking_rows,
    sections,
)
from domain.rules.briefing.lists import brief_reasons, overdue_rows
from domain.rules.briefing.model import LeaderItem, UnitRank, UnitRankings
from domain.rules.briefing.rankings import common_rate
from domain.rules.indicators import AreaValue, IndicatorValue
from models.enums import Light, Status
from tests.domain.test_briefing_build import facts

AS_OF = date(2021, 12, 27)
S = Status

UNITS = {
    "t1": UnitFact("t1", "甲镇", "t1", is_department=False),
    "v11": UnitFact("v11", "甲一村", "t1", is_department=False),
    "v12": UnitFact("v12", "甲二村", "t1", is_department=False),
    "t2": UnitFact("t2", "乙乡", "t2", is_department=False),
    "v21": UnitFact("v21", "乙一村", "t2", is_department=False),
    "zrj": UnitFact("zrj", "示例县自然资源局", "zrj", is_department=True),
    "czj": UnitFact("czj", "示例县财政局", "czj", is_department=True),
    "zzb": UnitFact("zzb", "中共示例县委组织部", "zzb", is_department=True),
    "fl": UnitFact("fl", "示例县妇女联合会(妇儿工委)", "fl", is_department=True),
}
TASKS = {"T01": TaskFact("T01", 1, "任务一", "中共示例县委组织部")}


def item(
    n: int,
    status: Status,
    *,
    milestone: str = "T01-M1",
    unit: str = "t1",
    due: date = date(2021, 9, 30),
    left: int = -58,
    blocked: bool = False,
) -> ItemFact:
    name = UNITS[unit].name
    title = f"节点{milestone[-1]}(社区)"
    return ItemFact(n, "T01", milestone, title, unit, name, due, status, left, blocked)


def candidate(kind: str, severity: float, key: str) -> leader.Candidate:
    x = LeaderItem(kind=kind, matter=key, units="", situation="", ask="")
    return leader.Candidate(kind, (severity,), (key,), x)


def test_choose_takes_each_kinds_worst_in_turn_and_at_most_five() -> None:
    """Within a kind the most severe first; across kinds in turns (leadership, blocked,
    indicator, silent), so ten overdue matters cannot crowd out a blocked one."""
    pool = [candidate("leadership", d, f"L{d:02d}") for d in range(10)]
    pool += [candidate("silent", 3, "S1"), candidate("blocked", 1, "B1")]
    chosen, more = leader.choose(pool)
    assert [c.matter for c in chosen] == ["L09", "B1", "S1", "L08", "L07"]
    assert more == {"leadership": 7}
    assert leader.choose([]) == ([], {})


def test_choose_breaks_ties_by_key_whatever_the_input_order() -> None:
    pool = [candidate("leadership", 5, k) for k in ("c", "a", "b")]
    forward = leader.choose(pool, limit=2)
    backward = leader.choose(list(reversed(pool)), limit=2)
    assert forward == backward
    assert [c.matter for c in forward[0]] == ["a", "b"]


def test_overdue_at_the_leadership_level_is_one_matter_per_milestone() -> None:
    items = [
        item(1, S.OVERDUE, milestone="T01-M1", unit="v11"),
        item(2, S.OVERDUE, milestone="T01-M1", unit="v12", left=-40),
        item(3, S.OVERDUE, milestone="T01-M2", unit="zzb", left=-186),
        item(4, S.OVERDUE, milestone="T01-M3", unit="t2", left=-3),  # not at leadership level
    ]
    found = leader.leadership_matters(
        items, frozenset({1, 2, 3}), {1: "逾期通报"}, {1: "资金未到位"}, {3: 9}, TASKS
    )
    by_matter = {c.item.matter: c for c in found}
    assert set(by_matter) == {"节点1（社区）", "节点2（社区）"}
    two = by_matter["节点1（社区）"]
    assert two.severity == (58, 2) and two.item.units == "甲一村、甲二村"
    assert two.item.situation == "逾期最长58个工作日，已逾期通报；主要原因“资金未到位”。"
    assert "中共示例县委组织部" in two.item.ask  # the key task's lead unit is asked to act
    one = by_matter["节点2（社区）"]
    assert one.item.situation == (
        "逾期186个工作日，已逾期通报；原因未说明；另有9项后续事项因此未能启动。"
    )
    assert one.item.units == "中共示例县委组织部"


def test_a_blocked_item_qualifies_when_it_names_another_department() -> None:
    items = [
        item(1, S.OVERDUE, unit="v11", blocked=True),
        item(2, S.ON_TRACK, unit="v12", blocked=True, due=date(2022, 6, 30), left=120),
        item(3, S.ON_TRACK, unit="v21", blocked=True, due=date(2022, 6, 30), left=120),
        item(4, S.ON_TRACK, unit="zrj", blocked=True, due=date(2022, 6, 30), left=120),
        item(5, S.ON_TRACK, unit="t2", due=date(2022, 6, 30), left=120),  # not blocked
    ]
    reasons = {
        1: "资金未到位，等待县财政拨付",
        2: "资金未到位，等待县财政拨付",
        3: "村民意见不一",  # names no department
        4: "需自然资源局协调",  # names itself only
        5: "需自然资源局协调",
    }
    found = leader.blocked_matters(items, reasons, {3: "已报请协调单位协调"}, UNITS)
    assert len(found) == 1
    (c,) = found
    assert c.severity == (2, 1)
    assert c.item.units == "甲一村、甲二村"
    assert c.item.situation == "受阻，“资金未到位，等待县财政拨付”（其中1项已逾期）。"
    assert c.item.ask == "请协调示例县财政局解决。"


def test_department_names_are_found_in_the_units_words() -> None:
    assert leader.department_named("需自然资源局协调", UNITS, "v11") == UNITS["zrj"]
    assert leader.department_named("请县委组织部审核", UNITS, "v11") == UNITS["zzb"]
    assert leader.department_named("正在入户沟通", UNITS, "v11") is None
    assert leader.department_named("需自然资源局协调", UNITS, "zrj") is None
    youth = {"txw": UnitFact("txw", "共青团示例县委员会", "txw", is_department=True)}
    assert leader.department_named("治安保卫委员会未组建", youth, "v11") is None
    assert leader.department_named("需共青团示例县委员会支持", youth, "v11") == youth["txw"]
    assert leader.department_named("请妇女联合会协助", UNITS, "v11") == UNITS["fl"]


def test_units_silent_three_cycles_or_more_are_one_matter_per_township() -> None:
    timeliness = [
        TimelinessFact("v11", 8, 0, silent=8),
        TimelinessFact("v12", 8, 5, silent=3),
        TimelinessFact("t1", 8, 6, silent=2),  # under the threshold
        TimelinessFact("v21", 8, 7, silent=0),
    ]
    (c,) = leader.silent_matters(timeliness, UNITS)
    assert c.severity == (8, 2)
    assert c.item.units == "甲一村、甲二村"
    assert c.item.ask == "请责成甲镇督促报送。"


def indicator(value: float | None, due: date = date(2025, 12, 31)) -> IndicatorValue:
    return IndicatorValue(
        id="I1",
        name="覆盖率(城市)",
        unit_of_measure="%",
        target_op=">=",
        target=100,
        aspirational=False,
        due=due,
        value=value,
        numerator=0,
        denominator=0,
        units_reported=1,
        units_in_scope=2,
        gap=None,
        light=Light.YELLOW,
        townships=[
            AreaValue(code="t1", name="甲镇", value=40, units_reported=1, units_in_scope=1),
            AreaValue(code="t2", name="乙乡", value=100, units_reported=1, units_in_scope=1),
        ],
    )


def test_an_indicator_qualifies_when_its_pace_misses_the_target() -> None:
    """50 → 60 in 100 days: +0.1 a day; 1,465 days to go reach 206.5 (on pace); 50 → 51 in
    100 days reaches about 75.7 (not)."""
    start = date(2021, 9, 18)
    assert leader.projected(60, (start, 50), AS_OF, date(2025, 12, 31)) == 60 + 0.1 * 1465
    assert leader.indicator_matters([indicator(60)], {"I1": (start, 50)}, AS_OF) == []
    (slow,) = leader.indicator_matters([indicator(51)], {"I1": (start, 50)}, AS_OF)
    assert slow.item.units == "甲镇"  # the township below target
    assert slow.item.situation == "当前51%，目标≥100%；按现有进度到期约65.7%。"
    assert slow.item.matter == "覆盖率（城市）"
    # no earlier value: pace unknown, not judged; a date passed unmet always qualifies
    assert leader.indicator_matters([indicator(51)], {}, AS_OF) == []
    (late,) = leader.indicator_matters([indicator(51, due=date(2021, 12, 1))], {}, AS_OF)
    assert late.item.situation == "当前51%，目标≥100%；已过目标期限12月1日。"
    assert leader.indicator_matters([indicator(None)], {"I1": (start, 50)}, AS_OF) == []


def test_items_due_to_date_add_up_and_a_held_item_is_named() -> None:
    """T01-M2 at 乙乡 is past due and waits on T01-M1, which is overdue: 因前置事项逾期未启动,
    counted with the items due, not lost among the gray ones."""
    items = [
        item(1, S.OVERDUE, unit="t1"),
        item(2, S.WAITING, milestone="T01-M2", unit="t2", due=date(2021, 11, 30), left=-19),
        item(3, S.DONE_ON_TIME, unit="v11"),
        item(4, S.DONE_LATE, unit="v12"),
        item(5, S.DUE_SOON, unit="v21", due=AS_OF, left=0),
        item(6, S.DONE_ON_TIME, unit="zzb", due=date(2022, 3, 31), left=60),
        item(7, S.BEHIND_PACE, unit="zrj", due=date(2022, 3, 31), left=60),
        item(8, S.NOT_STARTED, unit="czj", due=date(2022, 3, 31), left=60),
    ]
    held = held_items(items, {2: (1,)}, AS_OF)
    assert held == {2}
    assert held_items(items, {2: (3,)}, AS_OF) == set()  # its prerequisite is done
    o = overview(items, AS_OF, held)
    assert (o.due_to_date, o.due_done, o.due_on_time, o.due_overdue) == (5, 2, 1, 1)
    assert (o.due_held, o.due_waiting, o.due_today) == (1, 0, 1)
    assert o.due_done + o.due_overdue + o.due_held + o.due_waiting + o.due_today == o.due_to_date
    assert (o.ahead, o.ahead_done, o.ahead_open, o.ahead_not_started) == (3, 1, 1, 1)
    assert o.due_to_date + o.ahead == o.total
    rows, overdue, _ = overdue_rows(items, {}, {}, held)
    assert overdue == 1
    assert [(r.unit, r.held, r.reason) for r in rows] == [
        ("甲镇", False, "未说明"),
        ("乙乡", True, "因前置事项逾期未启动"),
    ]


def test_reasons_are_shown_briefly() -> None:
    assert brief_reasons(["资金未到位", None, "资金未到位", "人员调整", "场地冲突"]) == (
        "资金未到位（2个单位）；人员调整（1个单位）；另有1个单位说明其他原因；1个单位未说明"
    )
    assert brief_reasons([None, None]) == "均未说明"
    assert brief_reasons(["x" * 40]) == "x" * 23 + "…"


def rank(code: str, rate: float | None) -> UnitRank:
    return UnitRank(code=code, name=UNITS[code].name, due=2, on_time=0, overdue=2, rate=rate)


def test_a_ranking_where_every_township_ties_says_so() -> None:
    ranks = [rank("t1", 0.0), rank("t2", 0.0)]
    assert common_rate(ranks) == 0.0
    assert common_rate([rank("t1", 0.0), rank("t2", 50.0)]) is None
    assert common_rate([rank("t1", 0.0), rank("t2", None)]) is None  # one compared: no tie
    group = UnitRankings(
        group="乡镇（含所辖村、社区）",
        completion_leaders=[],
        completion_laggards=[],
        timeliness_leaders=[rank("t1", 50.0)],
        timeliness_laggards=[rank("t2", 10.0)],
        ranked=2,
        completion_tie=0.0,
        completion_compared=2,
        timeliness_compared=2,
    )
    rows = _ranking_rows(group)
    assert rows[0] == ["乡镇按期完成率", "各乡镇均为0%，无先后之分", "—"]
    assert rows[1] == ["乡镇报送及时率", "甲镇（50%）", "乙乡（10%）"]
    assert all("暂无" not in cell for row in rows for cell in row)


def test_page_one_comes_first_with_at_most_five_matters_and_no_codes() -> None:
    """Seven milestones overdue at the leadership level and a silent township: five matters on
    page one (the silent one among them), two more counted; no catalogue code anywhere."""
    overdue = [
        item(n, S.OVERDUE, milestone=f"T01-M{n}", unit="zzb", left=-10 - n) for n in range(1, 7)
    ] + [item(7, S.OVERDUE, milestone="T01-M7", unit="fl", left=-17)]
    view = build_briefing(
        facts(
            as_of=AS_OF,
            items=overdue,
            tasks=list(TASKS.values()),
            units=UNITS,
            leadership=frozenset(i.id for i in overdue),
            timeliness=[TimelinessFact("v11", 8, 0, silent=4)],
            problems=[ProblemFact(1, "示例县妇女联合会(妇儿工委)", AS_OF, "资金未到位")],
        )
    )
    assert len(view.leader) == leader.LEADER_ROWS and view.leader_more == {"leadership": 3}
    assert [x.kind for x in view.leader][:2] == ["leadership", "silent"]
    first = sections(view)[0]
    assert first.heading == LEADER_HEADING
    (matters,) = [b for b in first.blocks if isinstance(b, ListBlock)]
    assert len(matters.entries) == leader.LEADER_ROWS
    assert Para("另有逾期通报事项3项未列出。") in first.blocks
    text = json.dumps(
        [dataclasses.asdict(s) for s in sections(view)], ensure_ascii=False, default=sorted
    )
    assert not re.search(r"T\d\d(-M\d+)?", text)
    assert "(" not in text and ")" not in text  # catalogue titles and names are typeset
