"""The briefing as printed: what stays in the body, what goes to the annexes, the 版记."""

from __future__ import annotations

from datetime import date, timedelta

from domain.rules.briefing.annexes import Annexed, annexed
from domain.rules.briefing.blocks import ListBlock, Para, Section, TableBlock
from domain.rules.briefing.build import build_briefing
from domain.rules.briefing.facts import Facts, ItemFact, TaskFact
from domain.rules.briefing.model import Briefing, OverdueRow, ProblemRow, UpcomingRow
from domain.rules.briefing.printed import DEFAULT_DISTRIBUTION, colophon, document
from models.enums import Status

AS_OF = date(2021, 10, 15)


def small_view() -> Briefing:
    """One key task with one overdue item: the lists are then stretched by each test."""
    facts = Facts(
        plan="p",
        plan_title="规划",
        title="简报",
        issuer="民政局",
        as_of=AS_OF,
        number=1,
        yellow_workdays=5,
        items=[
            ItemFact(1, "T01", "T01-M1", "设施", "c", "甲镇", date(2021, 9, 30), Status.OVERDUE, -7)
        ],
        previous={},
        tasks=[TaskFact("T01", 1, "社区综合服务设施建设", "民政局")],
        units={},
        levels={},
        reasons={},
        problems=[],
        timeliness=[],
        indicators=[],
        warnings=[],
    )
    return build_briefing(facts)


def stretched(*, tasks: int, overdue: int, problems: int, upcoming: int) -> Briefing:
    view = small_view()
    task = view.tasks[0]
    row = OverdueRow(
        task="T01",
        milestone="T01-M1",
        title="设施",
        unit="甲镇",
        units=1,
        due=date(2021, 9, 30),
        workdays_overdue=7,
        level="逾期通报",
        reason="未说明",
    )
    problem = ProblemRow(
        unit="甲镇",
        units=1,
        task="T01",
        milestone="T01-M1",
        title="设施",
        problem="资金未到位",
        overdue=True,
    )
    soon = UpcomingRow(
        task="T01",
        milestone="T01-M2",
        title="验收",
        due=AS_OF + timedelta(days=7),
        units="甲镇",
        open=1,
    )
    return view.model_copy(
        update={
            "tasks": [task.model_copy(update={"number": n}) for n in range(1, tasks + 1)],
            "overdue": [row.model_copy(update={"unit": f"单位{n}"}) for n in range(overdue)],
            "problems": [problem] * problems,
            "upcoming": [soon] * upcoming,
        }
    )


def tables(section: Section) -> list[TableBlock]:
    return [b for b in section.blocks if isinstance(b, TableBlock)]


def test_lists_beyond_their_limit_go_to_annexes_numbered_in_reading_order() -> None:
    """Tasks beyond six (table and chart), overdue rows and problems beyond ten, and the next
    two weeks beyond three leave the body; each annex is pointed to where its rows were; the
    口径说明 is the last annex."""
    printed = document(stretched(tasks=8, overdue=25, problems=12, upcoming=5))
    assert [(a.heading, a.title) for a in printed.annexes] == [
        ("附件1", "重点任务推进情况表"),
        ("附件2", "逾期未完成事项清单"),
        ("附件3", "各单位反映的问题（续）"),
        ("附件4", "近两周到期事项清单"),
        ("附件5", "口径说明"),
    ]
    assert printed.annex_note == [
        "1. 重点任务推进情况表",
        "2. 逾期未完成事项清单",
        "3. 各单位反映的问题（续）",
        "4. 近两周到期事项清单",
        "5. 口径说明",
    ]
    assert printed.lead == "统计截至10月15日，本期10月9日至10月15日，口径见附件5。"
    body = {s.heading: s for s in printed.body}
    tasks = body["二、重点任务推进情况"].blocks
    assert tables(body["二、重点任务推进情况"]) == []
    assert not any(b.kind == "chart" for b in tasks)  # with the table, in the annex
    assert isinstance(tasks[-1], Para) and tasks[-1].text.endswith("，详见附件1。")
    assert any(b.kind == "chart" for b in printed.annexes[0].blocks)
    (overdue,) = tables(body["三、逾期事项清单"])
    assert [r[0] for r in overdue.rows] == [str(n) for n in range(1, 11)]
    assert overdue.headers == ["序号", "事项", "责任单位", "逾期天数", "单位说明"]
    assert overdue.note.startswith("以上列出前10条，单位说明为摘要，完整清单见附件2；")
    (problems,) = tables(body["六、存在问题"])
    assert len(problems.rows) == 10 and "其余2条见附件3" in problems.note
    assert tables(body["七、下步工作"]) == []
    assert body["七、下步工作"].blocks[-1].text.endswith("，清单见附件4。")  # type: ignore[union-attr]
    annex = [tables(a)[0] for a in printed.annexes[:4]]
    assert [len(t.rows) for t in annex] == [8, 25, 2, 5]
    assert annex[1].rows[0][0] == "1" and len(annex[1].headers) == 7  # the whole list
    assert annex[2].rows[0][0] == "11"  # numbering continues


def test_the_overdue_table_is_narrowed_and_its_reasons_cut_in_the_body() -> None:
    """The body's overdue table names the first unit of many and a short reason; the annex
    keeps the three names and the reasons as the units gave them."""
    view = stretched(tasks=2, overdue=3, problems=0, upcoming=0)
    long = "项目资金尚未下达（3个单位）；施工队伍未进场（2个单位）"
    rows = [
        r.model_copy(update={"unit": "甲镇、乙镇、丙镇等5个单位", "reason": long})
        for r in view.overdue
    ]
    printed = document(view.model_copy(update={"overdue": rows}))
    body = {s.heading: s for s in printed.body}
    (overdue,) = tables(body["三、逾期事项清单"])
    assert overdue.rows[0][2:] == ["甲镇等5个单位", "7", "项目资金尚未下达（3个…"]
    assert overdue.note.startswith("单位说明为摘要，完整清单见附件")
    (whole,) = tables(printed.annexes[0])
    assert whole.rows[0][2] == "甲镇、乙镇、丙镇等5个单位" and whole.rows[0][6] == long


def test_lists_within_their_limit_stay_in_the_body() -> None:
    printed = document(stretched(tasks=6, overdue=10, problems=10, upcoming=3))
    assert [a.title for a in printed.annexes] == ["口径说明"]
    assert printed.annex_note == ["1. 口径说明"]
    assert [len(t.rows) for s in printed.body for t in tables(s)] == [6, 10, 10, 3]
    assert not any("附件" in t.note for s in printed.body for t in tables(s))


def test_a_long_list_keeps_its_first_rows_and_continues_its_numbers_in_the_annex() -> None:
    entries = [(f"单位{n}：", "问题") for n in range(1, 13)]
    rule = Annexed("问题（续）", 10, 10, "以上列出前{keep}条，其余{rest}条见附件{annex}。")
    shown, moved = annexed([Para("导语"), ListBlock(entries)], rule, 2)
    assert shown == [
        Para("导语"),
        ListBlock(entries[:10]),
        Para("以上列出前10条，其余2条见附件2。"),
    ]
    assert moved == ListBlock(entries[10:], start=11)
    assert annexed([ListBlock(entries[:10])], rule, 1) == ([ListBlock(entries[:10])], None)


def test_the_colophon_names_the_catalogues_recipients_or_the_default() -> None:
    """报、送、发 in that order, names separated by commas and closed by a full stop; a line
    with no names is left out; with no names at all the default recipients are printed."""
    view = small_view()
    given = colophon(view, {"issue_to": ["各乡镇", "县直各部门"], "report_to": ["县委"]})
    assert given.lines == [("报", "县委。"), ("发", "各乡镇，县直各部门。")]
    assert (given.printer, given.printed_on) == ("民政局", "2021年10月15日印发")
    default = [(w, "，".join(DEFAULT_DISTRIBUTION[k]) + "。") for k, w in (("report_to", "报"),)]
    nobody: list[dict[str, list[str]] | None] = [None, {}, {"report_to": [], "copy_to": []}]
    for empty in nobody:
        lines = colophon(view, empty).lines
        assert lines[:1] == default and lines[-1][0] == "发"
    assert document(view).signature == ("民政局", "2021年10月15日")


def test_a_problem_raised_by_several_units_names_the_first_and_how_many() -> None:
    view = stretched(tasks=2, overdue=0, problems=2, upcoming=0)
    rows = [
        view.problems[0].model_copy(update={"unit": "甲镇、乙镇、丙镇", "units": 3}),
        view.problems[1],
    ]
    body = {s.heading: s for s in document(view.model_copy(update={"problems": rows})).body}
    (problems,) = tables(body["六、存在问题"])
    assert [r[1] for r in problems.rows] == ["甲镇等3个单位", "甲镇"]
