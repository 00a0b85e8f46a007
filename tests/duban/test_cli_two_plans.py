"""The CLI with two plans in the database: a command about one plan asks for --plan, naming
the plans to choose from; `duban escalate` without --plan works on both and sends one digest
per person."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select

from models.db import session_scope
from models.orm import Plan
from models.records import Message
from tests.duban.test_cli_owner import duban
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.two_plans import NEW, NEW_TITLE, OLD, OLD_TITLE, old_catalog


def test_a_command_for_one_plan_names_the_plans_to_choose_from(
    two_plans: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`duban status` without --plan: exit 2, both ids and titles; with --plan: that plan."""
    code, said = duban(monkeypatch, capsys, "status", "--as-of", "2026-01-15")
    assert code == 2
    assert "请用 --plan 指定其中一个" in said and f"{OLD}（{OLD_TITLE}）" in said
    assert f"{NEW}（{NEW_TITLE}）" in said and "Traceback" not in said
    code, said = duban(monkeypatch, capsys, "status", "--as-of", "2026-01-15", "--plan", OLD)
    assert code == 0 and "收尾验收" in said and "开局部署" not in said  # the task of each plan
    code, said = duban(monkeypatch, capsys, "status", "--plan", "nosuch")
    assert code == 2 and f"数据库中没有规划 'nosuch'；已有的规划：{NEW}、{OLD}" in said


def test_escalate_without_plan_works_on_both_and_merges_the_digests(
    two_plans: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each plan's count, then the digests: one to the coordinating unit's liaison (a dry run
    shows the same and writes nothing)."""
    code, said = duban(monkeypatch, capsys, "escalate", "--as-of", "2026-01-15", "--dry-run")
    assert code == 0 and "将发送" in said and said.count("给 mzj/liaison") == 1
    assert f"规划 {OLD}（{OLD_TITLE}）：应发提醒 4 条，将新写入 4 条" in said  # nothing written
    with session_scope(two_plans) as session:
        assert session.scalars(select(Message)).all() == []  # a dry run writes nothing
    code, said = duban(monkeypatch, capsys, "escalate", "--as-of", "2026-01-15")
    assert code == 0, said
    assert f"规划 {OLD}（{OLD_TITLE}）：应发提醒 4 条，新写入 4 条" in said
    assert f"规划 {NEW}（{NEW_TITLE}）：应发提醒 6 条，新写入 6 条" in said
    assert "以上2个规划的提醒按收件人合并发送，每人一份" in said
    assert said.count("给 mzj/liaison") == 1
    with session_scope(two_plans) as session:
        assert len(session.scalars(select(Message)).all()) == 8
    code, again = duban(monkeypatch, capsys, "escalate", "--as-of", "2026-01-15", "--json")
    result = json.loads(again)
    assert result["plans"] == [
        {"plan": NEW, "due": 6, "new_in_outbox": 0},
        {"plan": OLD, "due": 4, "new_in_outbox": 0},
    ]
    assert result["sent"] == []


@pytest.mark.parametrize("clash", ["Old-Plan", "old_plan", "old.plan"])
def test_a_plan_id_that_would_share_artifact_keys_is_refused(
    two_plans: Engine,
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clash: str,
) -> None:
    """A third catalogue whose id differs from ``old-plan`` only in case or ``_`` ``.`` ``-``:
    exit 2, the file, line and ``plan.id`` named in Chinese, no traceback, nothing written;
    the old plan itself syncs again as before."""
    data = old_catalog()
    data["plan"]["id"] = clash
    path = write_catalog(data, name="third")
    code, said = duban(monkeypatch, capsys, "catalog", "sync", str(path))
    assert code == 2 and "Traceback" not in said
    assert f"规划 {clash} 的目录未写入任何内容" in said
    assert (
        f"{path / 'plan.yaml'}:2: plan.id: 规划编号 '{clash}' 与数据库中已有的规划 'old-plan'"
        in said
    )
    assert "产物键相同（old-plan）" in said
    with session_scope(two_plans) as session:
        assert sorted(session.scalars(select(Plan.id))) == [NEW, OLD]
    code, said = duban(monkeypatch, capsys, "catalog", "sync", str(write_catalog(old_catalog())))
    assert code == 0, said
