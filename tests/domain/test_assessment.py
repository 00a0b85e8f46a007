"""The assessment (考评) of a small plan, hand-computed: facts gathered from the database, the
ranking and each unit's explanation from the command line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from config.assessment import DEFAULT_ASSESSMENT, load_assessment
from config.settings import Settings
from domain.queries.assessment import assessment_facts
from domain.queries.sync import sync_catalog
from domain.rules.assessment import score
from domain.rules.assessment_periods import quarter
from duban.cli import app
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of
from tests.fixtures.plan_week import item_id
from tests.tasks_catalog.cli_probe import assert_refused, run_cli

TZ = "Asia/Shanghai"


def small_plan() -> dict[str, Any]:
    """Two departments and two townships (t1 with village v11); monthly reports due on the
    month's last day (2021-10-31 is a Sunday: due 2021-11-01). Task 1 weighs 2, task 2 weighs 1.
    """
    return {
        "plan": {
            "id": "assess-plan",
            "title": "考评示例规划",
            "issuing_body": "示例县人民政府",
            "period": {"start": date(2021, 1, 1), "end": date(2022, 12, 31)},
            "coordinator": "mzj",
            "leadership": "xzf",
            "reporting": {"cycle": "monthly", "due": 31},
        },
        "units": [
            {"id": "xzf", "name": "示例县人民政府", "kind": "department"},
            {"id": "mzj", "name": "示例县民政局", "kind": "department", "parent": "xzf"},
            {"id": "zzb", "name": "示例县委组织部", "kind": "department", "parent": "xzf"},
            {"id": "t1", "name": "甲镇", "kind": "township", "parent": "xzf"},
            {"id": "t2", "name": "乙乡", "kind": "township", "parent": "xzf"},
            {"id": "v11", "name": "甲一村", "kind": "village", "parent": "t1"},
        ],
        "tasks": [
            {
                "number": 1,
                "title": "加强领导",
                "lead": "zzb",
                "weight": 2,
                "milestones": [
                    {
                        "id": "A",
                        "title": "印发方案",
                        "start": date(2021, 10, 1),
                        "due": date(2021, 10, 15),
                    },
                ],
            },
            {
                "number": 2,
                "title": "服务设施",
                "lead": "mzj",
                "cooperating": ["zzb", "townships", "villages"],
                "milestones": [
                    {
                        "id": "B",
                        "title": "摸底调查",
                        "owner": "zzb",
                        "start": date(2021, 9, 1),
                        "due": date(2021, 9, 30),
                    },
                    {
                        "id": "C",
                        "title": "乡镇建立制度",
                        "fan_out": "townships",
                        "start": date(2021, 11, 1),
                        "due": date(2021, 11, 30),
                    },
                    {
                        "id": "D",
                        "title": "村级台账",
                        "fan_out": "villages",
                        "start": date(2021, 12, 1),
                        "due": date(2021, 12, 15),
                    },
                    {
                        "id": "E",
                        "title": "年度总结",
                        "start": date(2021, 12, 1),
                        "due": date(2021, 12, 20),
                    },
                    {
                        "id": "F",
                        "title": "设施清单",
                        "start": date(2021, 11, 1),
                        "due": date(2021, 11, 15),
                    },
                ],
            },
        ],
    }


def cli(day: date, *args: str) -> None:
    with frozen_time(end_of_working_day(day, TZ)):
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output


@pytest.fixture
def assessed(settings: Settings, engine: Engine, write_catalog: CatalogWriter) -> Engine:
    """The small plan through the fourth quarter of 2021 (and one report in 2022)."""
    with frozen_time(datetime(2021, 8, 2, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(small_plan()))[0])
    i = {(m, u): item_id(engine, m, u) for m, u in [("A", "zzb"), ("B", "zzb"), ("C", "t1"),
         ("C", "t2"), ("D", "v11"), ("E", "mzj"), ("F", "mzj")]}  # fmt: skip
    done = ["--state", "done"]
    cli(date(2021, 10, 14), "report", str(i["A", "zzb"]), "--unit", "zzb", *done)
    cli(date(2021, 10, 20), "report", str(i["B", "zzb"]), "--unit", "zzb", *done)
    cli(date(2021, 11, 10), "extend", str(i["F", "mzj"]), "--to", "2021-11-26", "--reason", "早")
    cli(date(2021, 11, 25), "report", str(i["F", "mzj"]), "--unit", "mzj", *done)
    cli(date(2021, 11, 26), "report", str(i["C", "t1"]), "--unit", "t1", *done)
    cli(date(2021, 11, 29), "return", str(i["C", "t1"]), "--reason", "缺少印发文件")
    cli(date(2021, 11, 29), "report", str(i["C", "t2"]), "--unit", "t2",
        "--state", "in_progress", "--percent", "50")  # fmt: skip
    cli(date(2021, 12, 3), "report", str(i["C", "t1"]), "--unit", "t1", *done)
    cli(date(2021, 12, 10), "report", str(i["D", "v11"]), "--unit", "v11", *done)
    cli(date(2021, 12, 22), "extend", str(i["E", "mzj"]), "--to", "2022-01-14", "--reason", "晚")
    cli(date(2021, 12, 28), "report", str(i["E", "mzj"]), "--unit", "mzj",
        "--state", "in_progress", "--percent", "40")  # fmt: skip
    cli(date(2022, 1, 5), "report", str(i["C", "t2"]), "--unit", "t2", *done)  # after Q4
    return engine


def run(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["assess", *args, "--json"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.output)
    return payload


def test_fourth_quarter_by_hand(assessed: Engine) -> None:
    """Default rules (60 / 20 / 20, late credit 0.5, 0.2 a working day overdue, 1 a return,
    2 a late extension). Q4 reports: October's due 11-01, November's 11-30, December's 12-31.

    mzj: F (extended early to 11-26, done 11-25) on time: 60. E extended after its due date
      (12-20 → 2022-01-14): not due in Q4, −2. Owed December's report (E open), sent 12-28:
      20. 60 + 20 + 18 = 98.0
    zzb: A (weight 2) on time; B (weight 1) due 09-30 carried over, done 10-20: half credit.
      60 × 2.5 ÷ 3 = 50.0. B overdue 10-08..10-20: 10 working days (10-09 a make-up Saturday):
      −2.0. Nothing open at any cycle's end: nothing owed, 20. 50 + 20 + 18 = 88.0
    t1 + v11: C submitted 11-26, returned 11-29 (−1), submitted again 12-03: late (0.5), 3
      working days overdue (−0.6); D on time. 60 × 1.5 ÷ 2 = 45.0. Owed November's (C open on
      11-30), sent 11-26: 20. 45 + 20 + 18.4 = 83.4
    t2: C not done by 12-31 (its 2022-01-05 report comes later): 0; 23 working days overdue
      in December (−4.6). Owed November's (sent 11-29) and December's (none): 20 × 1 ÷ 2 = 10.
      0 + 10 + 15.4 = 25.4
    xzf: nothing to assess.
    """
    got = run("--quarter", "2021-Q4", "--as-of", "2022-03-01")
    assert (got["start"], got["end"], got["as_of"]) == ("2021-10-01", "2021-12-31", "2021-12-31")
    table = {
        u["unit"]: (u["rank"], u["score"], {line["part"]: line["points"] for line in u["lines"]})
        for u in got["units"]
    }
    assert {u: (r, s) for u, (r, s, _) in table.items()} == {
        "mzj": (1, 98.0),
        "zzb": (2, 88.0),
        "t1": (1, 83.4),
        "t2": (2, 25.4),
        "xzf": (None, 100.0),
    }
    assert table["zzb"][2]["completion"] == 50.0 and table["zzb"][2]["overdue"] == -2.0
    assert table["t1"][2]["returned"] == -1.0 and table["t1"][2]["overdue"] == -0.6
    assert table["t2"][2]["timeliness"] == 10.0 and table["t2"][2]["overdue"] == -4.6
    assert table["mzj"][2]["late_extension"] == -2.0 and table["mzj"][2]["early_extension"] == 0
    counts = {u["unit"]: u["counts"] for u in got["units"]}
    assert counts["t2"] == {
        "due": 1, "on_time": 0, "owed": 2, "sent_on_time": 1, "overdue_workdays": 23,
    }  # fmt: skip
    assert counts["t1"] == {
        "due": 2, "on_time": 1, "owed": 1, "sent_on_time": 1, "overdue_workdays": 3,
    }  # fmt: skip
    assert [u["unit"] for u in got["units"] if not u["assessed"]] == ["xzf"]
    assert "v11" not in table  # counted with its township


def test_the_year_counts_septembers_report(assessed: Engine) -> None:
    """Over 2021, zzb's B is due within the period (not carried) and zzb owed September's
    report (B open on 09-30) and sent none: 50 + 0 + 18 = 68.0."""
    got = run("--year", "2021", "--as-of", "2022-03-01")
    zzb = next(u for u in got["units"] if u["unit"] == "zzb")
    assert zzb["score"] == 68.0


def test_explanation_adds_up_and_matches_the_ranking(assessed: Engine) -> None:
    """A township's explanation lists its villages' items and the cycles missed, its lines add
    up to the score, and it is the score the ranking shows."""
    ranking = {u["unit"]: u["score"] for u in run("--quarter", "2021-Q4")["units"]}
    for unit in ("t1", "t2", "mzj", "zzb"):
        one = run("--quarter", "2021-Q4", "--unit", unit, "--explain")["units"]
        assert [u["unit"] for u in one] == [unit]
        lines = one[0]["lines"]
        total = sum(Decimal(str(line["points"])) for line in lines)
        assert total == Decimal(str(one[0]["score"])) == Decimal(str(ranking[unit]))
        completion = lines[0]
        if completion["details"]:
            points = sum(Decimal(str(d["points"])) for d in completion["details"])
            assert points == Decimal(str(completion["points"]))
    t1 = run("--quarter", "2021-Q4", "--unit", "t1", "--explain")["units"][0]
    texts = [d["text"] for line in t1["lines"] for d in line["details"]]
    assert any("村级台账（甲一村）" in t for t in texts)
    assert any("2021年11月29日退回：缺少印发文件" in t for t in texts)
    t2 = run("--quarter", "2021-Q4", "--unit", "t2", "--explain")["units"][0]
    assert t2["lines"][1]["details"] == [
        {"text": "乙乡：应报送 2 次，按时 1 次；未报送：12月1日至12月31日（12月31日截止）",
         "points": None}
    ]  # fmt: skip


def test_same_record_same_score(assessed: Engine) -> None:
    """Gathering the facts twice, or on a later day, gives the very same scores."""
    rules = load_assessment()
    period = quarter("2021-Q4")
    with session_scope(assessed) as session:
        first = [
            score(rules, f)
            for f in assessment_facts(session, context_of(session, period.end), period)
        ]
        later = context_of(session, date(2022, 6, 30))
        again = [score(rules, f) for f in assessment_facts(session, later, period)]
    assert first == again


def test_the_text_a_coordinator_reads(assessed: Engine) -> None:
    """Chinese tables: departments apart from townships, the idle listed, the explanation's
    lines with their arithmetic."""
    result = CliRunner().invoke(app, ["assess", "--quarter", "2021-Q4"])
    assert result.exit_code == 0, result.output
    assert result.output.index("县直部门") < result.output.index("乡镇（含所辖村、社区）")
    assert "本期无考评内容" in result.output and "示例县人民政府" in result.output
    result = CliRunner().invoke(
        app, ["assess", "--quarter", "2021-Q4", "--unit", "t2", "--explain"]
    )
    assert result.exit_code == 0, result.output
    assert "25.4 分" in result.output
    assert "23 × 0.2 = 4.6" in result.output
    total = next(line for line in result.output.splitlines() if line.lstrip().startswith("合计"))
    assert total.rstrip(" │").endswith("= 25.4")  # the parts, as a sum, then the score


def test_a_capped_deduction_says_what_the_items_sum_to(assessed: Engine, tmp_path: Path) -> None:
    """t2's 23 working days overdue cost 4.6 in all; capped at 2 the item lines still sum to
    −4.6, and a closing line says the cap took −2.0, so the lines never seem to disagree."""
    rules = (Path(__file__).resolve().parents[2] / "config" / "assessment.yaml").read_text(
        encoding="utf-8"
    )
    capped = tmp_path / "capped.yaml"
    rules = rules.replace("per_workday: 0.2\n    cap: 10", "per_workday: 0.2\n    cap: 2")
    capped.write_text(rules, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["assess", "--quarter", "2021-Q4", "--unit", "t2", "--explain", "--rules", str(capped)],
    )
    assert result.exit_code == 0, result.output
    assert "逐项合计 −4.6，按“23 × 0.2 = 4.6，以 2 为限”计 −2.0" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quarter", "2021-Q5"], "不是季度"),
        (["--year", "2021", "--quarter", "2021-Q4"], "二者选一"),
        ([], "二者选一"),
        (["--year", "2021", "--explain"], "须指明单位"),
        (["--year", "2021", "--unit", "nobody"], "没有单位代码 'nobody'；请写单位代码"),
        (["--year", "2021", "--unit", "甲镇"], "请写单位代码，名称相近的单位：甲镇（t1）"),
        (["--quarter", "2023-Q1"], "2023年第一季度在规划期满（2022年12月31日）之后"),
        (["--year", "2020"], "2020年度在规划开始（2021年1月1日）之前"),
        (["--quarter", "2022-Q4", "--as-of", "2022-09-30"], "--as-of"),
    ],
)
def test_bad_options(
    assessed: Engine, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """A mistake on the command line is a Chinese message and exit status 2."""
    outcome = run_cli(capsys, "assess", *args)
    assert outcome.code == 2 and message in outcome.err, outcome


def test_bad_rules_file_is_refused(
    assessed: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A rules file with a bad line: its file, line and field named, exit 2, no score shown."""
    rules = tmp_path / "rules.yaml"
    text = DEFAULT_ASSESSMENT.read_text(encoding="utf-8")
    rules.write_text(text.replace("late_credit: 0.5", "late_credit: 2"), encoding="utf-8")
    line = text.splitlines().index("  late_credit: 0.5") + 1
    outcome = run_cli(capsys, "assess", "--year", "2021", "--rules", str(rules))
    assert_refused(outcome, str(rules), line)
    assert "completion.late_credit: 超出范围：须不大于 1" in outcome.err


def test_objections_recompute_and_keep_both_scores(
    assessed: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """申诉, by hand. t2 contests C's 23 working days overdue (filed 2022-01-05, the second
    working day after the quarter: 1–3 January are the New Year holiday); upheld, its conduct
    is whole again: 0 + 10 + 20 = 30.0, and 25.4 stays on record. zzb contests B's 按期完成;
    upheld, B leaves the line: 60 × 2 ÷ 2 = 60, its overdue days still cost 2: 98.0. t1's
    objection to its return is rejected: 83.4 before and after. Filing on 2022-01-12 (the
    seventh working day) is too late; a decided objection cannot be decided again."""
    i = {(m, u): item_id(assessed, m, u) for m, u in [("C", "t2"), ("B", "zzb"), ("C", "t1")]}
    q4 = ["--quarter", "2021-Q4"]
    for unit, item, part in [("t2", i["C", "t2"], "overdue"), ("zzb", i["B", "zzb"], "completion"),
                             ("t1", i["C", "t1"], "核验退回扣分")]:  # fmt: skip
        add = ["assess", "objection", "add", *q4, "--unit", unit, "--item", str(item)]
        cli(
            date(2022, 1, 5),
            *add,
            "--part",
            part,
            "--reason",
            "已按时办理",
            "--as-of",
            "2022-01-05",
        )
    cli(date(2022, 1, 6), "assess", "objection", "decide", "1", "--uphold", "--reason", "属实")
    cli(date(2022, 1, 6), "assess", "objection", "decide", "2", "--uphold", "--reason", "属实")
    cli(date(2022, 1, 6), "assess", "objection", "decide", "3", "--reject", "--reason", "退回有据")

    got = {u["unit"]: (u["score"], u["score_before_objections"]) for u in run(*q4)["units"]}
    assert got["t2"] == (30.0, 25.4)
    assert got["zzb"] == (98.0, 88.0)
    assert got["t1"] == (83.4, 83.4)
    explained = run(*q4, "--unit", "t2", "--explain")
    [objection] = explained["objections"]
    assert (objection["status"], objection["score_before"], objection["score_after"]) == (
        "upheld",
        25.4,
        30.0,
    )
    rejected = run(*q4, "--unit", "t1", "--explain")["objections"][0]
    assert (rejected["status"], rejected["score_before"], rejected["score_after"]) == (
        "rejected",
        83.4,
        83.4,
    )

    late = run_cli(capsys, "assess", "objection", "add", *q4, "--unit", "t2", "--item",
                   str(i["C", "t2"]), "--part", "completion", "--reason", "晚了", "--as-of",
                   "2022-01-12")  # fmt: skip
    assert late.code == 2 and "申诉期已过" in late.err and "第 7 个工作日" in late.err
    again = run_cli(capsys, "assess", "objection", "decide", "1", "--reject", "--reason", "改判")
    assert again.code == 2 and "已于2022年1月6日决定（成立）" in again.err
    text = CliRunner().invoke(app, ["assess", *q4, "--unit", "t2", "--explain"]).output
    assert "30.0 分（申诉前 25.4 分）" in text and "得分 25.4 → 30.0" in text


def test_settled_and_replayed_readings_agree(assessed: Engine) -> None:
    """Assessed on 2022-01-10 the first quarter of 2022 reads today's columns (nothing in the
    record is later); after a report dated 2022-02-01 the same day is replayed from the logs,
    and gives the very same scores. t2's C, carried over and done 2022-01-05, is late: 30 of
    60 for t2, 2 working days overdue in the quarter (01-04, 01-05)."""
    args = ["--quarter", "2022-Q1", "--as-of", "2022-01-10"]
    settled = run(*args)
    e = item_id(assessed, "E", "mzj")
    cli(date(2022, 2, 1), "report", str(e), "--unit", "mzj", "--state", "in_progress",
        "--percent", "80")  # fmt: skip
    assert run(*args) == settled
    t2 = next(u for u in settled["units"] if u["unit"] == "t2")
    parts = {line["part"]: line["points"] for line in t2["lines"]}
    assert (parts["completion"], parts["overdue"]) == (30.0, -0.4)
