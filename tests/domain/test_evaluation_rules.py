"""The final evaluation's rules on a small plan worked out by hand (pure functions, no
database), the coordinator's conclusions file, and the briefing of a plan past its end."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.rules.briefing.blocks import Para
from domain.rules.briefing.build import build_briefing
from domain.rules.briefing.ended import ENDED_HEADINGS
from domain.rules.briefing.facts import Facts, ItemFact, TaskFact, UnitFact
from domain.rules.briefing.layout import sections as briefing_sections
from domain.rules.evaluation.build import (
    build_evaluation,
    evaluation_title,
    milestone_end,
    numbers_text,
    open_lists,
    problem_groups,
    stated,
    task_results,
    totals,
    year_rows,
)
from domain.rules.evaluation.conclusions import ConclusionsError, read_conclusions
from domain.rules.evaluation.facts import (
    EvaluationFacts,
    IndicatorFact,
    ProblemStatement,
    ReportingYear,
)
from domain.rules.evaluation.layout import NOT_WRITTEN, all_text, document, sections
from domain.rules.indicators import IndicatorValue
from models.enums import Light, Status

S = Status
END = date(2025, 12, 31)
UNITS = {
    "t1": UnitFact("t1", "甲镇", "t1", is_department=False),
    "v11": UnitFact("v11", "甲一村", "t1", is_department=False),
    "v12": UnitFact("v12", "甲二村", "t1", is_department=False),
    "mzj": UnitFact("mzj", "民政局", "mzj", is_department=True),
}
TASKS = [TaskFact("T01", 1, "建机制", "民政局"), TaskFact("T02", 2, "建设施", "甲镇")]


def item(n: int, status: Status, due: date, unit: str = "v11", task: str = "T01") -> ItemFact:
    return ItemFact(n, task, f"{task}-M{n}", f"节点{n}", unit, UNITS[unit].name, due, status, 0)


# a plan of eight items over three years, evaluated at its end
ITEMS = [
    item(1, S.DONE_ON_TIME, date(2023, 6, 30)),
    item(2, S.DONE_LATE, date(2023, 12, 31)),
    item(3, S.OVERDUE, date(2024, 6, 30), unit="v12"),
    item(4, S.WAITING, date(2024, 12, 31), unit="v12"),
    item(5, S.DONE_ON_TIME, date(2025, 12, 31), unit="mzj", task="T02"),
    item(6, S.OVERDUE, date(2025, 9, 30), unit="mzj", task="T02"),
    item(7, S.OVERDUE, date(2025, 9, 30), unit="v11", task="T02"),
    item(8, S.DONE_ON_TIME, date(2025, 3, 31), task="T02"),
]


def test_totals_split_every_item_once() -> None:
    t = totals(ITEMS, END, held={4})
    assert (t.total, t.due, t.on_time, t.due_on_time, t.late) == (8, 8, 3, 3, 1)
    assert (t.overdue, t.held, t.open_due, t.not_due) == (3, 1, 4, 0)
    assert t.on_time_rate == 37.5  # 3 of 8
    # two years before the end: items due later are not due yet; done early counts on time
    early = totals([*ITEMS, item(9, S.DONE_ON_TIME, date(2026, 6, 30))], date(2024, 12, 31), set())
    assert (early.due, early.not_due, early.on_time, early.due_on_time) == (4, 2, 4, 1)
    assert early.on_time + early.late + early.open_due + early.not_due == 9
    assert early.on_time_rate == 25.0


def test_key_tasks_count_their_items_on_time_late_and_never_closed() -> None:
    rows = {r.code: r for r in task_results(ITEMS, TASKS, END)}
    one, two = rows["T01"], rows["T02"]
    assert (one.due, one.on_time, one.late, one.never, one.on_time_rate) == (4, 1, 1, 2, 25.0)
    assert (two.due, two.on_time, two.late, two.never, two.on_time_rate) == (4, 2, 0, 2, 50.0)


def test_never_closed_by_unit_under_its_township_with_its_last_reasons() -> None:
    reasons = {3: "资金未到位", 4: "资金未到位", 7: "场地未落实"}
    groups, units = open_lists(ITEMS, UNITS, reasons, END)
    assert [(u.group, u.name, u.items, u.reasons) for u in units] == [
        ("县直部门", "民政局", 1, "未说明"),
        ("甲镇", "甲一村", 1, "场地未落实"),
        ("甲镇", "甲二村", 2, "资金未到位（2项）"),
    ]
    assert [(g.name, g.units, g.items) for g in groups] == [("甲镇", 2, 3), ("民政局", 1, 1)]
    assert groups[0].reasons == "资金未到位（2项）；场地未落实"


def test_stated_reasons_commonest_first_and_cut() -> None:
    assert stated([None, None]) == "未说明"
    assert stated(["乙", "甲", "乙", None]) == "乙（2项）；甲"
    assert stated(["甲", "乙", "丙"]) == "丙；乙等"  # ties in character order (U+4E19 < U+4E59)


def test_problems_are_grouped_by_their_words_over_the_period() -> None:
    by_id = {i.id: i for i in ITEMS}
    said = [
        ProblemStatement(1, "v11", "甲一村", date(2023, 3, 1), "资金  未到位"),
        ProblemStatement(1, "v11", "甲一村", date(2023, 4, 1), "资金 未到位"),
        ProblemStatement(3, "v12", "甲二村", date(2024, 5, 1), "资金 未到位"),
        ProblemStatement(7, "v11", "甲一村", date(2025, 8, 1), "资金 未到位"),
        ProblemStatement(6, "mzj", "民政局", date(2025, 8, 1), "人员不足"),
        ProblemStatement(6, "mzj", "民政局", date(2025, 9, 1), "人员不足"),
        ProblemStatement(6, "mzj", "民政局", date(2025, 9, 8), "人员不足"),
    ]
    rows, more = problem_groups(said, by_id, {"T01": 1, "T02": 2})
    assert more == 0
    first, second = rows
    assert (first.problem, first.reports, first.units, first.items) == ("资金 未到位", 4, 2, 3)
    assert (first.first, first.last, first.tasks) == (date(2023, 3, 1), date(2025, 8, 1), "1、2")
    assert (second.problem, second.reports, second.units, second.tasks) == ("人员不足", 3, 1, "2")
    assert numbers_text([1, 2, 3, 4, 5]) == "1、2、3、4等5项" and numbers_text([]) == "—"


def test_each_year_has_its_items_due_and_its_reporting_cycles() -> None:
    reporting = [ReportingYear(2023, 52, 100, 80), ReportingYear(2025, 52, 40, 10)]
    rows = year_rows(ITEMS, reporting, date(2023, 1, 1), END)
    assert [(y.year, y.due, y.on_time, y.late, y.never) for y in rows] == [
        (2023, 2, 1, 1, 0),
        (2024, 2, 0, 0, 2),
        (2025, 4, 2, 0, 2),
    ]
    assert [y.on_time_rate for y in rows] == [50.0, 0.0, 50.0]
    assert [y.timeliness for y in rows] == [80.0, None, 25.0]


def indicator(value: float | None, target: float = 30.0) -> IndicatorFact:
    v = IndicatorValue(
        id="I1",
        name="每百户设施面积",
        unit_of_measure="m²",
        target_op=">=",
        target=target,
        aspirational=False,
        due=END,
        value=value,
        numerator=0.0,
        denominator=0.0,
        units_reported=3 if value is not None else 0,
        units_in_scope=4,
        gap=None,
        light=Light.GRAY,
        townships=[],
    )
    return IndicatorFact(v, None, None, ((2024, 20.0), (2025, value)))


def facts(**changes: object) -> EvaluationFacts:
    base = EvaluationFacts(
        plan="p",
        plan_title="某县规划",
        issuer="某县民政局",
        period_start=date(2023, 1, 1),
        period_end=END,
        as_of=END,
        items=ITEMS,
        tasks=TASKS,
        units=UNITS,
        reasons={},
        problems=[],
        indicators=[indicator(30.0), replace(indicator(29.99), value=indicator(29.99).value)],
        reporting=[],
        close_out_last=date(2026, 1, 29),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_indicator_is_met_on_its_target_and_unknown_without_data() -> None:
    view = build_evaluation(
        facts(indicators=[indicator(30.0), indicator(29.99), indicator(None)]), None
    )
    assert [i.met for i in view.indicators] == [True, False, None]
    text = all_text(view)
    assert "达到目标值1项，未达到1项，无报送数据1项" in text
    assert "30m²" in text and "≥30m²" in text


def test_the_conclusions_section_waits_for_the_coordinator_or_holds_the_file() -> None:
    waiting = build_evaluation(facts(), None)
    last = document(waiting).body[-1]
    assert last.heading == "七、评估结论和建议"
    first = last.blocks[0]
    assert isinstance(first, Para) and first.text == NOT_WRITTEN
    assert "--conclusions" in all_text(waiting)
    written = build_evaluation(facts(), ["（一）主要成效", "设施覆盖率达到目标。"])
    kinds = [b.kind for b in document(written).body[-1].blocks]
    assert kinds == ["subheading", "para"]


def test_the_report_is_titled_for_the_plan_and_says_whether_it_has_ended() -> None:
    assert evaluation_title("某县规划") == "《某县规划》实施终期评估报告"
    assert evaluation_title("《某县规划》") == "《某县规划》实施终期评估报告"
    ended = all_text(build_evaluation(facts(), None))
    assert "已于2025年12月31日期满" in ended and "收尾期至2026年1月29日" in ended
    running = all_text(build_evaluation(facts(as_of=date(2024, 12, 31), close_out_last=None), None))
    assert "尚未期满" in running and "收尾期" not in running
    headings = [s.heading for s in sections(build_evaluation(facts(), None))]
    assert headings[-2:] == ["附件1", "附件2"]


def test_the_overview_adds_up_to_the_plans_items_those_done_early_said_apart() -> None:
    """Before the end, the items due by the day and those not due add up to all of them; the
    ones done ahead of their due date are counted with the latter and said apart."""
    running = all_text(build_evaluation(facts(as_of=date(2024, 12, 31), close_out_last=None), None))
    # due by then: items 1-4; due after: 5-8, of which 5 and 8 already done on time
    assert "规划共分解工作事项8项" in running and "到期应完成4项" in running
    assert "尚未到期4项（其中已提前完成2项）" in running
    assert "尚未到期" not in all_text(build_evaluation(facts(), None))  # at the end: none


@pytest.mark.parametrize(
    ("data", "paragraphs"),
    [
        ("一、成效\n\n  设施全覆盖。 \n".encode(), ["一、成效", "设施全覆盖。"]),
        ("\ufeff结论".encode(), ["结论"]),  # Notepad's UTF-8 with a BOM
        ("结论：基本完成".encode("gbk"), ["结论：基本完成"]),  # Notepad's old ANSI
    ],
)
def test_conclusions_are_read_from_utf8_or_gbk_text(data: bytes, paragraphs: list[str]) -> None:
    assert read_conclusions(data) == paragraphs


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ("结论".encode("utf-16"), "无法读取"),
        (b"\xff\xfe\xfa\x00", "无法读取"),
        (b"\n  \n", "文件是空的"),
    ],
)
def test_conclusions_that_cannot_be_read_are_refused(data: bytes, said: str) -> None:
    with pytest.raises(ConclusionsError, match=said):
        read_conclusions(data)


def briefing_facts(as_of: date, close_out: tuple[date, date] | None) -> Facts:
    items = [
        ItemFact(1, "T01", "T01-M1", "建机制", "v11", "甲一村", date(2025, 9, 30), S.DONE_LATE, 0),
        ItemFact(2, "T01", "T01-M2", "建设施", "v12", "甲二村", date(2025, 9, 30), S.OVERDUE, -60),
    ]
    return Facts(
        plan="p",
        plan_title="某县规划",
        title="某县规划实施工作简报",
        issuer="某县民政局",
        as_of=as_of,
        number=2,
        yellow_workdays=5,
        items=items,
        previous={1: S.OVERDUE, 2: S.OVERDUE},
        tasks=[TASKS[0]],
        units=UNITS,
        levels={},
        reasons={2: "资金未到位"},
        problems=[],
        timeliness=[],
        indicators=[],
        warnings=[],
        close_out=close_out,
    )


def test_a_finished_plans_briefing_points_to_the_evaluation_and_the_close_out() -> None:
    view = build_briefing(briefing_facts(date(2026, 1, 9), (END, date(2026, 1, 29))))
    assert view.ended is not None
    assert view.ended.evaluation == "p/evaluation/evaluation-2025-12-31.docx"
    shown = briefing_sections(view)
    assert [s.heading for s in shown] == list(ENDED_HEADINGS)
    text = " ".join(b.text for s in shown for b in s.blocks)  # type: ignore[union-attr]
    assert "已于2025年12月31日期满" in text and "duban evaluate" in text
    assert "文件名为 evaluation-2025-12-31.docx，存放在简报文件夹的 evaluation 子文件夹中" in text
    assert "本周新办结事项1项：建机制（甲一村）。" in text
    assert "尚有到期未办结事项1项" in text and "催办提醒发送至1月29日" in text
    after = build_briefing(briefing_facts(date(2026, 2, 6), (END, date(2026, 1, 29))))
    said = " ".join(b.text for s in briefing_sections(after) for b in s.blocks)  # type: ignore[union-attr]
    assert "收尾期已于1月29日结束" in said


def test_a_running_plans_briefing_keeps_its_lists() -> None:
    view = build_briefing(briefing_facts(date(2025, 10, 10), None))
    assert view.ended is None
    assert "三、逾期事项清单" in [s.heading for s in briefing_sections(view)]


def test_a_milestone_ends_as_all_its_items_do() -> None:
    """T01 has items 1–4, one milestone each; T02's items 5–8 share none: each its own. A
    milestone of two items is late when one was late, never closed when one is open."""
    rows = {r.code: r for r in task_results(ITEMS, TASKS, END)}
    one = rows["T01"]
    assert (one.milestones, one.milestones_on_time, one.milestones_late) == (4, 1, 1)
    assert (one.milestones_never, one.milestones_not_due) == (2, 0)
    shared = [replace(i, milestone="M") for i in (ITEMS[0], ITEMS[1])]
    assert milestone_end(shared, END) == "late"
    assert milestone_end([*shared, replace(ITEMS[2], milestone="M")], END) == "never"
    ahead = [replace(ITEMS[0], milestone="M"), item(9, S.ON_TRACK, date(2026, 3, 31))]
    assert milestone_end(ahead, END) == "not_due"
    assert milestone_end([ITEMS[0], ITEMS[4]], END) == "on_time"
