"""The assessment-report flow's body without a Prefect server: which day writes which notices,
what the coordinator's answer does (approve, reject, no answer), and a run form's mistakes.

Its stages run as plain functions, the UI's artifact and the approval form are stood in for
(:func:`offline`); the flow on a real server is the same code (tests/flows/test_flows_on_a_server).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prefect.client.schemas.objects import State
from prefect.logging import disable_run_logger
from sqlalchemy import Engine, select

from domain.services.briefing.approval import send_approved
from flows import assessment_report as module
from flows.briefing_review import BriefingApproval
from models.clock import frozen_time
from models.db import session_scope
from models.records import AssessmentNotice, Message
from tests.domain.test_assessment import TZ, assessed  # noqa: F401 - the fixture

FIRST_DAY = date(2022, 1, 4)  # the first working day after 2021-Q4 (1–3 January: New Year)


@dataclass
class Offline:
    """What the flow showed in the UI and who was asked to approve."""

    artifacts: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    answer: BriefingApproval | None = None


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Offline]:
    """Stages as plain functions, artifacts and the approval form recorded, 10:00 on ``day``."""
    seen = Offline()
    monkeypatch.setattr(module, "write_notice", module.write_notice.fn)
    monkeypatch.setattr(module, "send_notice", module.send_notice.fn)

    def artifact(text: str, key: str, description: str) -> None:
        seen.artifacts[key] = text

    def ask(title: str, timeout: int, kind: str) -> BriefingApproval | None:
        seen.asked.append(title)
        return seen.answer

    monkeypatch.setattr(module, "create_markdown_artifact", artifact)
    monkeypatch.setattr("flows.refusals.create_markdown_artifact", lambda *_, **__: None)
    monkeypatch.setattr(module, "ask_for_approval", ask)
    with disable_run_logger():
        yield seen


def run(day: date, **params: Any) -> Any:
    """The flow's body on ``day`` at 10:00 in Shanghai (within the delivery hours), with the
    run form's defaults (the function's own are Prefect's form fields)."""
    body: Callable[..., Any] = module.assessment_report.fn
    form = {"period": None, "send": True, "approval": None} | params
    with frozen_time(datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo(TZ))):
        return body(plan_id="assess-plan", as_of=day, **form)


def notices(engine: Engine) -> list[tuple[str, int, str | None, bool]]:
    with session_scope(engine) as session:
        return [
            (n.period, n.number, n.approved_by, n.sent_checksum == n.checksum)
            for n in session.scalars(select(AssessmentNotice).order_by(AssessmentNotice.id))
        ]


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2022, 1, 3), "2022年1月3日不是季度（年度）结束后的第一个工作日"),
        (date(2022, 1, 5), "2022年1月5日不是季度（年度）结束后的第一个工作日"),
        (  # the plan ended on 2022-12-31: its close-out quarter is not assessed
            date(2023, 4, 3),
            "上季度不在规划期内：2023年第一季度在规划期满（2022年12月31日）之后：规划期满后不再考评",
        ),
    ],
)
def test_any_other_day_ends_at_once_saying_why(
    assessed: Engine,  # noqa: F811
    offline: Offline,
    day: date,
    why: str,
) -> None:
    """The holiday before the first working day, and the day after it: nothing written."""
    assert run(day) == {"as_of": day.isoformat(), "skipped": why}
    assert notices(assessed) == [] and offline.artifacts == {} and offline.asked == []


def test_the_first_working_day_writes_the_quarters_and_the_years_notice(
    assessed: Engine,  # noqa: F811
    offline: Offline,
) -> None:
    """After the fourth quarter: its notice and the year's, each an artifact of its own key,
    each approved by the coordinator's answer and sent to leadership (its head, by file)."""
    offline.answer = BriefingApproval(approve=True, actor="王五", comment="同意")
    result = run(FIRST_DAY)
    assert result == {
        "notices": [
            {"period": "2021-Q4", "number": "考评〔2022〕1号", "sent": 1, "approval": "approved"},
            {"period": "2021", "number": "考评〔2022〕2号", "sent": 1, "approval": "approved"},
        ]
    }
    assert offline.asked == [
        "关于2021年第四季度规划实施考评情况的通报（考评〔2022〕1号）",
        "关于2021年度规划实施考评情况的通报（考评〔2022〕2号）",
    ]
    assert set(offline.artifacts) == {
        "assess-plan-assessment-2021-q4",
        "assess-plan-assessment-2021",
    }
    assert "| 2 |乙乡 |25.4 |" in offline.artifacts["assess-plan-assessment-2021-q4"]
    assert notices(assessed) == [("2021-Q4", 1, "王五", True), ("2021", 2, "王五", True)]
    with session_scope(assessed) as session:
        subjects = session.scalars(select(Message.subject).order_by(Message.id)).all()
    assert subjects == [
        "【考评通报】考评示例规划实施考评通报（考评〔2022〕1号）",
        "【考评通报】考评示例规划实施考评通报（考评〔2022〕2号）",
    ]


def test_a_rejected_notice_is_not_sent(assessed: Engine, offline: Offline) -> None:  # noqa: F811
    """The coordinator says no: written and recorded, neither approved nor sent."""
    offline.answer = BriefingApproval(approve=False, actor="王五", comment="数字待核")
    result = run(FIRST_DAY, period="2021-Q4")
    assert result == {"period": "2021-Q4", "number": "考评〔2022〕1号", "sent": 0,
                      "approval": "rejected"}  # fmt: skip
    assert notices(assessed) == [("2021-Q4", 1, None, False)]


def test_no_answer_leaves_it_unsent_and_tells_the_coordinator(
    assessed: Engine,  # noqa: F811
    offline: Offline,
) -> None:
    """Nobody answered in time: the run ends 未审核 with the command that sends it later, and
    the coordinator is alerted; nothing reaches leadership."""
    state = run(FIRST_DAY, period="2021-Q4")
    assert isinstance(state, State) and state.name == "未审核"
    assert "duban assess --quarter 2021-Q4 --report --send" in (state.message or "")
    assert notices(assessed) == [("2021-Q4", 1, None, False)]
    with session_scope(assessed) as session:
        subjects = session.scalars(select(Message.subject)).all()
    assert subjects == [
        "【督办系统】考评通报待审核：关于2021年第四季度规划实施考评情况的通报（考评〔2022〕1号）"
    ]


@pytest.mark.parametrize(
    ("period", "why"),
    [
        ("2021-Q5", "考评期有误：“2021-Q5”不是季度"),
        ("2022-Q1", "考评期有误：2022年第一季度到2022年3月31日才结束"),
        ("21", "考评期有误：“21”不是年份"),
        ("2020", "考评期有误：2020年度在规划开始（2021年1月1日）之前"),
    ],
)
def test_a_period_typed_wrong_is_refused(
    assessed: Engine,  # noqa: F811
    offline: Offline,
    period: str,
    why: str,
) -> None:
    """A run form's period that is not one, or has not ended: refused saying why."""
    refused = run(FIRST_DAY, period=period)
    assert isinstance(refused, State) and refused.name == "未执行"
    assert why in (refused.message or "")
    assert notices(assessed) == []


def test_approved_after_hours_it_goes_with_the_next_daily_delivery(
    assessed: Engine,  # noqa: F811
    offline: Offline,
) -> None:
    """Approved at 19:00 the notice is held (nothing sent at night); the next working morning
    the daily cycle's delivery (:func:`send_approved`) sends it, and only once."""
    offline.answer = BriefingApproval(approve=True, actor="王五")
    body: Callable[..., Any] = module.assessment_report.fn
    evening = datetime(2022, 1, 4, 19, tzinfo=ZoneInfo(TZ))
    with frozen_time(evening):
        result = body(plan_id="assess-plan", as_of=FIRST_DAY, period="2021-Q4", send=True,
                      approval=None)  # fmt: skip
    assert result["held"] is True and result["sent"] == 0
    assert notices(assessed) == [("2021-Q4", 1, "王五", False)]
    with frozen_time(datetime(2022, 1, 5, 9, 30, tzinfo=ZoneInfo(TZ))):
        sent = send_approved(assessed, "assess-plan")
        again = send_approved(assessed, "assess-plan")
    assert [d.subject for d in sent] == ["【考评通报】考评示例规划实施考评通报（考评〔2022〕1号）"]
    assert again == []
    assert notices(assessed) == [("2021-Q4", 1, "王五", True)]
