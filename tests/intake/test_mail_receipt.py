"""The answer to a report mail, composed from what the intake did (no database, no server)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from config.errors import Problem
from domain.queries.mail import LandedItem
from domain.queries.report_landing import Landed
from domain.services.intake.inbox import FileOutcome
from domain.services.mail_receipt import PROBLEMS_SHOWN, Answer, compose, marker


def week(day: date) -> tuple[date, date]:
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


def landed(name: str, moves: dict[str, int]) -> FileOutcome:
    done = Landed("t1", "甲镇", sum(moves.values()), Counter(moves), 0)
    return FileOutcome(name, "ab" * 32, "landed", None, landed=done, period=date(2021, 12, 29))


def test_a_receipt_names_unit_period_items_and_what_waits_for_the_coordinator() -> None:
    """Landed: unit and code, the week across the new year, each item, the 办结 waiting."""
    answer = Answer("k" * 64, "li@t1", "进展", None, [landed("进展.xlsx", {"submitted": 1})])
    answer.items["ab" * 32] = [LandedItem(7, "M2", "乡镇建立制度", "done", 100)]

    subject, body = compose(answer, week, "示例县民政局")

    assert subject == "回执：已收到甲镇的进展报送"
    assert "甲镇（t1）2021年12月27日至2022年1月2日报送期的进展 1 条（申请办结 1）" in body
    assert "  事项编号 7 乡镇建立制度：已完成 100%" in body
    assert "  其中 1 项已申请办结，待协调单位核验销号。" in body
    assert "发件地址 li@t1 不在本计划的联系人名单中" in body
    assert body.endswith(marker("k" * 64)) and body.count(marker("k" * 64)) == 1


def test_a_refusal_shows_the_first_problems_and_counts_the_rest() -> None:
    """Every reason up to the limit with its row and column; the rest counted, not dropped."""
    problems = [Problem(Path("x.xlsx"), n, "本期状态", f"第{n}个问题") for n in range(2, 30)]
    refused = FileOutcome("x.xlsx", None, "rejected", None, problems=problems)

    subject, body = compose(Answer("k" * 64, "a@b", "", None, [refused]), week, "协调单位")

    assert subject == "退回：《x.xlsx》未入库，请改正后重新报送"
    assert f"第{PROBLEMS_SHOWN + 1}行，本期状态：第{PROBLEMS_SHOWN + 1}个问题" in body
    assert f"第{PROBLEMS_SHOWN + 2}行" not in body
    assert f"…… 另有 {len(problems) - PROBLEMS_SHOWN} 个问题" in body
    assert "《（无主题）》" in body
