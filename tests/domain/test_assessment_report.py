"""The 考评通报 of the small plan of :mod:`tests.domain.test_assessment`, hand-checked: its
口径, the rankings and ties, each unit's lost points in words, the objections with both scores,
its number, and the command line's refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from config.assessment import load_assessment
from domain.rules.assessment import Counts, Line, UnitScore
from domain.rules.assessment_periods import quarter
from domain.rules.assessment_report import (
    NoticeFacts,
    colophon,
    lost_in_words,
    method,
    notice_masthead,
    ties,
)
from duban.cli import app
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.records import AssessmentNotice, Message
from tests.domain.test_assessment import TZ, assessed, cli  # noqa: F401 - the fixture
from tests.fixtures.plan_week import item_id
from tests.tasks_catalog.cli_probe import run_cli

Q4 = ["--quarter", "2021-Q4"]


def notice(out: Path, day: date, *args: str) -> str:
    """Issue the notice on ``day`` (Markdown only) and read it back."""
    with frozen_time(end_of_working_day(day, TZ)):
        result = CliRunner().invoke(
            app, ["assess", *(args or Q4), "--report", "--format", "md", "--out", str(out)]
        )
    assert result.exit_code == 0, result.output
    period = args[1] if args else "2021-Q4"
    path = out / "assess-plan" / f"assessment-{period}" / f"kaoping-{period}.md"
    return path.read_text(encoding="utf-8")


def rows(text: str, heading: str) -> list[list[str]]:
    """The table rows under a section heading of the Markdown notice."""
    section = text.split(f"## {heading}")[1].split("\n## ", maxsplit=1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line[2:].split("|")[:-1]] for line in lines[1:]]


def test_the_quarters_notice_by_hand(assessed: Engine, tmp_path: Path) -> None:  # noqa: F811
    """Issued on 2022-01-04, the first working day after the New Year holiday: the scores of
    test_fourth_quarter_by_hand, ranked departments apart from townships, lost points in words,
    the window until 2022-01-10 (the fifth working day after the quarter), no objection."""
    text = notice(tmp_path, date(2022, 1, 4))
    assert "# 考评示例规划实施考评通报" in text and "**考评〔2022〕1号**" in text
    assert "## 关于2021年第四季度规划实施考评情况的通报" in text
    assert "2021年第四季度（2021年10月1日至2021年12月31日）考评示例规划" in text
    assert "可在2022年1月10日前（期末后 5 个工作日内）提出申诉" in text
    assert rows(text, "二、县直部门考评结果") == [
        ["1", "示例县民政局", "98.0", "60.0", "20.0", "18.0", "到期后延期失2.0分"],
        ["2", "示例县委组织部", "88.0", "50.0", "20.0", "18.0", "按期完成失10.0分、逾期失2.0分"],
    ]
    assert rows(text, "三、乡镇考评结果") == [
        [
            "1",
            "甲镇",
            "83.4",
            "45.0",
            "20.0",
            "18.4",
            "按期完成失15.0分、逾期失0.6分、核验退回失1.0分",
        ],
        [
            "2",
            "乙乡",
            "25.4",
            "0.0",
            "10.0",
            "15.4",
            "按期完成失60.0分、报送及时失10.0分、逾期失4.6分",
        ],
    ]
    assert text.count("本组没有并列名次。") == 2
    assert (
        "**乙乡（25.4 分）**：按期完成失 60.0 分（应完成 1 项，按期完成 0 项，逾期完成 0 项，"
        "未完成 1 项）；报送及时失 10.0 分（应报送 2 次，按时 1 次）；逾期扣 4.6 分（期内逾期共 "
        "23 个工作日）。"
    ) in text
    assert (
        "**甲镇（83.4 分）**：按期完成失 15.0 分（应完成 2 项，按期完成 1 项，逾期完成 1 项，"
        "未完成 0 项）；逾期扣 0.6 分（期内逾期共 3 个工作日）；核验退回扣 1.0 分。"
    ) in text
    assert "**示例县民政局（98.0 分）**：到期后延期扣 2.0 分。" in text
    assert "不参加排名的单位：示例县人民政府。" in text
    assert "## 五、申诉处理情况\n\n本期考评无申诉。" in text
    assert "报：本级党委、政府领导。" in text and "示例县民政局　　2022年1月4日印发" in text


def test_objections_show_both_scores_and_the_tie_they_make(
    assessed: Engine,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Three objections filed 2022-01-05 and decided 2022-01-06 (as in test_assessment). The
    notice issued again on 01-05 still counts none (all open); on 01-06 it ranks on the scores
    after them: zzb's upheld objection brings it to 98.0, level with mzj, and the notice says
    they share first place; both scores of each unit changed are printed, and the number stays."""
    i = {(m, u): item_id(assessed, m, u) for m, u in [("C", "t2"), ("B", "zzb"), ("C", "t1")]}
    for unit, item, part in [("t2", i["C", "t2"], "overdue"), ("zzb", i["B", "zzb"], "completion"),
                             ("t1", i["C", "t1"], "returned")]:  # fmt: skip
        cli(date(2022, 1, 5), "assess", "objection", "add", *Q4, "--unit", unit, "--item",
            str(item), "--part", part, "--reason", "已按时办理")  # fmt: skip
    notice(tmp_path, date(2022, 1, 4))
    open_ones = notice(tmp_path, date(2022, 1, 5))
    assert "本期考评没有已决定的申诉。尚有 3 件申诉待决定，决定后重新计分并另行通报。" in open_ones
    cli(date(2022, 1, 6), "assess", "objection", "decide", "1", "--uphold", "--reason", "属实")
    cli(date(2022, 1, 6), "assess", "objection", "decide", "2", "--uphold", "--reason", "属实")
    cli(date(2022, 1, 6), "assess", "objection", "decide", "3", "--reject", "--reason", "退回有据")
    text = notice(tmp_path, date(2022, 1, 6))
    assert "**考评〔2022〕1号**" in text
    assert "示例县民政局、示例县委组织部得分相同（98.0 分），并列第 1 名。" in text
    assert rows(text, "二、县直部门考评结果") == [
        ["1", "示例县民政局", "98.0", "60.0", "20.0", "18.0", "到期后延期失2.0分", ""],
        ["1", "示例县委组织部", "98.0", "60.0", "20.0", "18.0", "逾期失2.0分", "88.0"],
    ]
    assert rows(text, "三、乡镇考评结果")[1] == [
        "2", "乙乡", "30.0", "0.0", "10.0", "20.0", "按期完成失60.0分、报送及时失10.0分", "25.4",
    ]  # fmt: skip
    decided = rows(text, "五、申诉处理情况")
    assert [(r[0], r[2], r[3], r[4], r[5], r[6]) for r in decided] == [
        ("乙乡", "逾期扣分", "成立", "属实", "25.4", "30.0"),
        ("示例县委组织部", "按期完成", "成立", "属实", "88.0", "98.0"),
        ("甲镇", "核验退回扣分", "不成立", "退回有据", "83.4", "83.4"),
    ]
    assert "已决定申诉 3 件，其中成立 2 件、不成立 1 件" in text
    with session_scope(assessed) as session:
        record = session.scalars(select(AssessmentNotice)).one()
        assert (record.period, record.year, record.number, record.generations) == (
            "2021-Q4",
            2022,
            1,
            3,
        )


def test_the_years_notice_takes_the_next_number(assessed: Engine, tmp_path: Path) -> None:  # noqa: F811
    """The year 2021's notice, issued after the quarter's in 2022, is 考评〔2022〕2号; zzb
    scores 68.0 over the year (test_the_year_counts_septembers_report)."""
    notice(tmp_path, date(2022, 1, 4))
    text = notice(tmp_path, date(2022, 1, 4), "--year", "2021")
    assert "**考评〔2022〕2号**" in text and "关于2021年度规划实施考评情况的通报" in text
    assert rows(text, "二、县直部门考评结果")[1][:3] == ["2", "示例县委组织部", "68.0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*Q4, "--report", "--as-of", "2021-12-31"], "到2021年12月31日才结束"),
        (["--quarter", "2023-Q1", "--report"], "规划期满后不再考评"),
        ([*Q4, "--report", "--unit", "t1"], "不能与 --unit 同用"),
        ([*Q4, "--report", "--format", "pdf"], "未知的格式 pdf"),
        ([*Q4, "--send"], "--send 只能与 --report 同用"),
        ([*Q4, "--report", "--send", "--format", "md"], "需要三种格式"),
    ],
)
def test_bad_report_options(
    assessed: Engine,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    """A notice asked for wrongly: a Chinese message, exit status 2, nothing recorded."""
    outcome = run_cli(capsys, "assess", *args)
    assert outcome.code == 2 and message in outcome.err, outcome
    with session_scope(assessed) as session:
        assert session.scalars(select(AssessmentNotice)).all() == []


def _score(name: str, value: str, unit: str = "u") -> UnitScore:
    return UnitScore(unit, name, "department", Decimal(value), (), True, Counts(0, 0, 0, 0, 0))


def test_ties_are_said_plainly() -> None:
    """Every shared rank named with its units and score; a group without one says so."""
    scored = [(1, "甲", "90.0"), (1, "乙", "90.0"), (3, "丙", "80.0"), (4, "丁", "70.5"),
              (4, "戊", "70.5"), (4, "己", "70.5")]  # fmt: skip
    group = [(rank, _score(name, value)) for rank, name, value in scored]
    assert ties(group) == (
        "甲、乙得分相同（90.0 分），并列第 1 名；丁、戊、己得分相同（70.5 分），并列第 4 名。"
    )
    assert ties(group[2:4]) == "本组没有并列名次。"


def test_the_method_paragraph_reads_the_rules() -> None:
    """口径 follows the rules: a changed late credit is what it says."""
    rules = load_assessment()
    changed = rules.model_copy(
        update={"completion": rules.completion.model_copy(update={"late_credit": Decimal("0.3")})}
    )
    said = method(changed, date(2022, 1, 10))
    assert "逾期办结按 0.3 计" in said and "满分 100 分" in said
    assert "期内逾期每个工作日扣 0.2 分（最多扣 10 分）" in said
    assert "到期前批准延期不扣分" in said and "2022年1月10日前" in said


def test_lost_points_in_words_names_the_cap() -> None:
    """A deduction at its cap says so; the floor given back is said too."""
    rules = load_assessment()
    s = UnitScore(
        "u",
        "甲",
        "department",
        Decimal("70.0"),
        (
            Line("completion", Decimal("60.0"), "本期没有到期的事项，按满分计"),
            Line("timeliness", Decimal("20.0"), ""),
            Line("conduct", Decimal("20.0"), ""),
            Line("overdue", Decimal("-10.0"), ""),
        ),
        True,
        Counts(0, 0, 0, 0, 60),
    )
    assert lost_in_words(s, rules) == "逾期扣 10.0 分（期内逾期共 60 个工作日，已达扣分上限）。"


def test_the_masthead_follows_the_briefing_title() -> None:
    """工作简报 → 考评通报; without a briefing title, the plan's title + 实施考评通报."""
    assert notice_masthead("某规划", "某县规划实施工作简报") == "某县规划实施考评通报"
    assert notice_masthead("某规划", None) == "某规划实施考评通报"


def test_send_approves_as_the_actor_and_sends_once(
    assessed: Engine,  # noqa: F811
    tmp_path: Path,
) -> None:
    """``--send``: recorded as approved by DUBAN_ACTOR and sent to leadership; sent again
    unchanged, nothing goes out twice."""
    args = ["assess", *Q4, "--report", "--send", "--out", str(tmp_path)]
    with frozen_time(end_of_working_day(date(2022, 1, 4), TZ)):
        first = CliRunner().invoke(app, args)
        again = CliRunner().invoke(app, args)
    assert first.exit_code == 0 and "已发送给 xzf/head" in first.output, first.output
    assert again.exit_code == 0 and "未发送：这一版已发给领导" in again.output, again.output
    with session_scope(assessed) as session:
        record = session.scalars(select(AssessmentNotice)).one()
        assert record.approved_by and record.sent_checksum == record.checksum
        sent = session.scalars(select(Message.subject)).all()
    assert sent == ["【考评通报】考评示例规划实施考评通报（考评〔2022〕1号）"]


def test_the_colophon_names_the_catalogues_recipients() -> None:
    """版记 from ``plan.briefing_distribution``: 报、送、发 in that order, names joined."""
    facts = NoticeFacts(
        plan_title="某规划",
        masthead="某规划实施考评通报",
        issuer="某县民政局",
        period=quarter("2021-Q4"),
        issued_on=date(2022, 1, 4),
        year=2022,
        number=1,
        rules=load_assessment(),
        scores=[],
        before={},
        decided=[],
        pending=0,
        objection_deadline=date(2022, 1, 10),
        distribution={"issue_to": ["各乡镇", "县直各部门"], "report_to": ["县委书记", "县长"]},
    )
    c = colophon(facts)
    assert c.lines == [("报", "县委书记，县长。"), ("发", "各乡镇，县直各部门。")]
    assert (c.printer, c.printed_on) == ("某县民政局", "2022年1月4日印发")
