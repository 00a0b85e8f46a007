"""`duban extension-requests` as the coordinator runs it: list what waits, approve (the deadline
moves as with `duban extend`), refuse with a reason; mistakes exit 2 in Chinese."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, select

from domain.queries.extension_requests import request_extension
from domain.queries.item_detail import item_detail
from duban.cli import main
from models.db import session_scope
from models.orm import DeadlineChange, Unit, WorkItem
from models.records import ExtensionRequest
from tests.fixtures.plan_week import item_id
from tests.fixtures.words import english_lines


def ask(engine: Engine, milestone: str, unit: str, proposed: date, reason: str) -> int:
    """A pending request made as 赵六 or 孙八 would on the page; its id."""
    item = item_id(engine, milestone, unit)
    with session_scope(engine) as session:
        unit_id = session.scalars(select(Unit.id).where(Unit.code == unit)).one()
        row = request_extension(
            session,
            plan_id="demo-plan",
            item_id=item,
            unit_id=unit_id,
            contact_id=None,
            actor=f"联络员（{unit}·个人链接）",
            proposed=proposed,
            reason=reason,
            timezone="Asia/Shanghai",
        )
        return row.id


def duban(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    """Run ``duban ARGS`` as the console script does; (exit code, what it printed)."""
    monkeypatch.setattr("sys.argv", ["duban", *args])
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    said = capsys.readouterr()
    return code, said.out + said.err


def test_the_coordinator_lists_approves_and_refuses(
    village_plan: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pending requests are listed (also as JSON); approving one moves the item's deadline
    through the extension path (已延期, the old date kept); refusing one keeps the deadline
    and records the reason; a decided request cannot be decided again."""
    first = ask(village_plan, "M6", "v12", date(2022, 1, 28), "村民外出务工")
    second = ask(village_plan, "M5", "v22", date(2022, 1, 14), "公示期未满")
    code, said = duban(monkeypatch, capsys, "extension-requests")
    assert code == 0 and "待审批 2 份" in said
    assert "M6 便民服务清单上墙 — 甲一村：2021年12月30日 → 拟延期至 2022年1月28日" in said
    assert english_lines(said) == []
    code, said = duban(monkeypatch, capsys, "extension-requests", "--json")
    listed = json.loads(said)
    assert [(r["id"], r["status"], r["proposed_due"]) for r in listed] == [
        (first, "pending", "2022-01-28"),
        (second, "pending", "2022-01-14"),
    ]
    code, said = duban(
        monkeypatch, capsys, "extension-requests", "approve", str(first), "--actor", "王五"
    )
    assert code == 0 and "2021年12月30日 → 2022年1月28日" in said
    item = item_id(village_plan, "M6", "v12")
    with session_scope(village_plan) as session:
        work = session.get(WorkItem, item)
        assert work is not None and (work.due, work.state) == (date(2022, 1, 28), "extended")
        change = session.scalars(select(DeadlineChange).where(DeadlineChange.item_id == item))
        assert [(c.kind, c.old_due, c.actor) for c in change] == [
            ("extension", date(2021, 12, 30), "王五")
        ]
        record = [e.summary for e in item_detail(session, item).events]
        assert "延期申请 1：已批准" in record
    code, said = duban(
        monkeypatch,
        capsys,
        "extension-requests",
        "refuse",
        str(second),
        "--actor",
        "王五",
        "--reason",
        "公示期可在原时限内完成",
    )
    assert code == 0 and "未予批准" in said
    with session_scope(village_plan) as session:
        row = session.get(ExtensionRequest, second)
        assert row is not None
        assert (row.status, row.decided_by, row.decision_reason) == (
            "refused",
            "王五",
            "公示期可在原时限内完成",
        )
    code, said = duban(monkeypatch, capsys, "extension-requests")
    assert code == 0 and "没有待审批的延期申请" in said
    code, said = duban(monkeypatch, capsys, "extension-requests", "--all")
    assert "已批准" in said and "未批准" in said and english_lines(said) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["approve", "999", "--actor", "王五"], "没有编号为 999 的延期申请"),
        (["refuse", "{id}", "--actor", "王五", "--reason", " "], "须写明理由"),
        (["approve", "{id}", "--actor", " "], "写明审批人姓名"),
        (["approve", "{id}"], "写明审批人姓名"),
        (["refuse", "{id}", "--actor", "王五"], "须写明理由"),
    ],
    ids=["unknown", "refuse-blank-reason", "blank-actor", "no-actor", "refuse-no-reason"],
)
def test_a_mistake_exits_2_in_chinese_and_changes_nothing(
    village_plan: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    words: str,
) -> None:
    """An unknown number, a refusal without a reason or no approver: exit 2, nothing moved."""
    request = ask(village_plan, "M6", "v12", date(2022, 1, 28), "村民外出务工")
    typed = [a.replace("{id}", str(request)) for a in args]
    code, said = duban(monkeypatch, capsys, "extension-requests", *typed)
    assert code == 2 and words in said and "Traceback" not in said
    assert english_lines(said) == []
    with session_scope(village_plan) as session:
        row = session.get(ExtensionRequest, request)
        assert row is not None and row.status == "pending"


def test_an_approval_that_the_item_outran_is_refused(
    village_plan: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the deadline already moved past the proposed date, approving says so (exit 2)."""
    request = ask(village_plan, "M6", "v12", date(2022, 1, 10), "村民外出务工")
    item = item_id(village_plan, "M6", "v12")
    code, _ = duban(
        monkeypatch, capsys, "extend", str(item), "--to", "2022-01-20", "--reason", "统一延期"
    )
    assert code == 0
    code, said = duban(
        monkeypatch, capsys, "extension-requests", "approve", str(request), "--actor", "王五"
    )
    assert code == 2 and "不晚于当前时限" in said
    with session_scope(village_plan) as session:
        row = session.get(ExtensionRequest, request)
        assert row is not None and row.status == "pending"
