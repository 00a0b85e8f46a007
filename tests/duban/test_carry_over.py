"""Carry-over (结转) as a coordinator does it: `duban catalog carry-over` drafts the old plan's
unfinished milestones; the draft refuses to sync until its due dates are filled in; filled in and
merged into the next plan's catalogue it syncs, and each carried item shows the history of the
old plan's item it continues (`duban item show`, the owner's item page); references to a plan or
milestone the database lacks are refused with the file, line and field."""

from __future__ import annotations

import asyncio
import copy
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import aliased

from config.settings import Settings
from domain.adapters.signing import workbook_secret
from domain.queries.items import move_item, verify_item
from domain.queries.owner_links import issue_link
from domain.queries.sync import sync_catalog
from duban.web import create_app
from models import clock
from models.db import session_scope
from models.enums import ItemState
from models.orm import Milestone, Plan, Unit, WorkItem
from models.records import ItemPredecessor
from tasks_catalog.loader import load_catalog
from tests.duban.test_cli_owner import duban
from tests.fixtures.catalog import CatalogWriter, dump, minimal_catalog
from tests.fixtures.db import table_checksums
from tests.fixtures.plan_week import item_id
from tests.fixtures.words import english_lines

OLD = "demo-plan"
NEW = "next-plan"
PROBLEM = "乡镇经费未落实"
BLOCKED = "乡镇机构调整，牵头人空缺"


def at(day: date) -> datetime:
    """10:00 in Shanghai on ``day``."""
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)


def report(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    day: date,
    item: int,
    unit: str,
    *args: str,
) -> None:
    with clock.frozen_time(at(day)):
        code, said = duban(monkeypatch, capsys, "report", str(item), "--unit", unit, *args)
    assert code == 0, said


def close(engine: Engine, day: date, item: int) -> None:
    with clock.frozen_time(at(day)), session_scope(engine) as session:
        verify_item(session, item, actor="民政局", note=None)


@pytest.fixture
def old_plan(
    settings: Settings,
    engine: Engine,
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Engine:
    """The minimal plan (2021–2025) with a history: M1 (zzb) closed; M2 (townships) closed at
    t1, at t2 reported 60% with a problem then blocked; M3 (quarterly 2022, townships) closed
    twice at t1; M4 (villages) closed at v11 and v12, at v21 only after the plan's end (2026),
    never reported at v22."""
    with clock.frozen_time(at(date(2021, 1, 4))), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog())[0])
    m1 = item_id(engine, "M1", "zzb")
    report(monkeypatch, capsys, date(2021, 6, 28), m1, "zzb", "--state", "done",
           "--evidence", "县委组织部文件")  # fmt: skip
    close(engine, date(2021, 6, 29), m1)
    report(monkeypatch, capsys, date(2021, 12, 20), item_id(engine, "M2", "t1"), "t1",
           "--state", "done")  # fmt: skip
    close(engine, date(2021, 12, 21), item_id(engine, "M2", "t1"))
    blocked = item_id(engine, "M2", "t2")
    report(monkeypatch, capsys, date(2021, 12, 24), blocked, "t2", "--state", "in_progress",
           "--percent", "60", "--problem", PROBLEM)  # fmt: skip
    with clock.frozen_time(at(date(2021, 12, 27))), session_scope(engine) as session:
        move_item(session, blocked, ItemState.BLOCKED, actor="乙乡", reason=BLOCKED)
    for occurrence_day, occurrence in ((date(2022, 3, 30), 1), (date(2022, 6, 29), 2)):
        item = _occurrence(engine, "M3", "t1", occurrence)
        report(monkeypatch, capsys, occurrence_day, item, "t1", "--state", "done")
        close(engine, occurrence_day, item)
    for village, day in (("v11", date(2021, 9, 28)), ("v12", date(2021, 9, 29)),
                         ("v21", date(2026, 1, 12))):  # fmt: skip
        item = item_id(engine, "M4", village)
        report(monkeypatch, capsys, day, item, village, "--state", "done")
        close(engine, day, item)
    return engine


def _occurrence(engine: Engine, milestone: str, unit: str, occurrence: int) -> int:
    with session_scope(engine) as session:
        return session.scalars(
            select(WorkItem.id)
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Unit, Unit.id == WorkItem.unit_id)
            .where(
                Milestone.code == milestone,
                Unit.code == unit,
                WorkItem.occurrence == occurrence,
            )
        ).one()


def draft(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], out: Path, *more: str
) -> tuple[Path, str]:
    """Run the carry-over of the old plan into ``out``; (the draft, what was printed)."""
    code, said = duban(monkeypatch, capsys, "catalog", "carry-over", "--from", OLD,
                       "--out", str(out), *more)  # fmt: skip
    assert code == 0, said
    return out / f"carry_over_{OLD}.yaml", said


def next_plan(folder: Path, carried: str) -> Path:
    """The next plan's catalogue as the coordinator assembles it: its own plan file (2026–2030,
    the old plan's units, a liaison at 乙乡, a task of its own) and the carried-over file."""
    folder.mkdir(parents=True, exist_ok=True)
    units = copy.deepcopy(minimal_catalog()["units"])
    for unit in units:
        if unit["id"] == "t2":
            unit["contacts"] = [{"name": "孙八", "role": "liaison"}]
    own: dict[str, Any] = {
        "plan": {
            "id": NEW,
            "title": "示例规划（第二期）",
            "issuing_body": "示例县人民政府",
            "period": {"start": date(2026, 1, 1), "end": date(2030, 12, 31)},
            "coordinator": "mzj",
            "leadership": "xzf",
        },
        "units": units,
        "tasks": [
            {
                "number": 3,
                "title": "新增任务",
                "lead": "mzj",
                "milestones": [{"id": "N1", "title": "新任务节点", "due": date(2026, 12, 31)}],
            }
        ],
    }
    (folder / "plan.yaml").write_text(dump(own), encoding="utf-8")
    (folder / "carried.yaml").write_text(carried, encoding="utf-8")
    return folder


FILLED = {"JZ-M2": "2026-06-30", "JZ-M3": "2026-09-30", "JZ-M4": "2026-11-30"}
"""The due dates the coordinator gives the carried milestones (2026: a year the calendar knows)."""


def fill_in(text: str) -> str:
    """The draft with each ``due: 待填`` replaced by :data:`FILLED`'s date for its milestone, as
    the coordinator edits it (comments and all)."""
    out, current = [], None
    for line in text.splitlines(keepends=True):
        found = re.match(r'\s*- id: "(JZ-M\d)"', line)
        if found:
            current = found.group(1)
        if line.strip().startswith("due: 待填"):
            assert current is not None
            out.append(re.sub(r"due: 待填.*", f"due: {FILLED[current]}", line))
        else:
            out.append(line)
    return "".join(out)


def test_the_draft_lists_each_milestone_not_closed_by_the_end_with_its_open_units(
    old_plan: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """By the plan's end M1 was closed, M2 open at t2, M3 open twice at t1 and four times at
    t2, M4 open at v21 (closed only in 2026) and v22: 2 tasks, 3 milestones, 9 items; each
    carried milestone keeps only its open units, waits for a due date, is proposed and names
    its predecessor. A later day leaves v21 out."""
    path, said = draft(monkeypatch, capsys, tmp_path / "draft")
    assert "重点任务 2 项，节点 3 个，未销号事项 9 项" in said
    assert english_lines(said, [str(path), OLD, "due"]) == []
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tasks = data["tasks"]
    assert [(t["number"], t["id"], t["lead"]) for t in tasks] == [
        (1, "JZ-T01", "zzb"),
        (2, "JZ-T02", "mzj"),
    ]
    assert tasks[0]["cooperating"] == ["t1", "t2"]  # 配合: mzj has no open item
    milestones = [m for t in tasks for m in t["milestones"]]
    assert [(m["id"], m["fan_out"]) for m in milestones] == [
        ("JZ-M2", ["t2"]),
        ("JZ-M3", ["t1", "t2"]),
        ("JZ-M4", ["v21", "v22"]),
    ]
    for m in milestones:
        assert m["due"] == "待填" and m["proposed"] is True
        assert m["carried_from"] == {"plan": OLD, "milestone": m["id"].removeprefix("JZ-")}
    text = path.read_text(encoding="utf-8")
    assert (
        "乙乡：2021年12月31日到期，受阻 60%，最近报送 2021年12月24日；"
        f"原因：{BLOCKED}；问题：{PROBLEM}" in text
    )
    # the last quarter's 2022-12-31 is a Saturday of the 2023 New Year holiday: postponed to 1-3
    assert (
        "# 原规划中须先完成：M2；如新规划仍有先后顺序，请在 depends_on 中写新规划的节点编号" in text
    )
    assert "甲镇：2 次未完成，最近一次（2023年1月3日到期）已交办，从未报送进展" in text
    path, said = draft(monkeypatch, capsys, tmp_path / "later", "--as-of", "2026-02-01")
    assert "未销号事项 8 项" in said
    m4 = yaml.safe_load(path.read_text(encoding="utf-8"))["tasks"][1]["milestones"][0]
    assert m4["fan_out"] == ["v22"]


def test_a_draft_already_in_the_folder_is_not_overwritten_without_force(
    old_plan: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The coordinator may have filled in the draft: running the command again refuses (exit 2,
    the file untouched) and says how to regenerate; --force overwrites."""
    path, _ = draft(monkeypatch, capsys, tmp_path)
    edited = path.read_text(encoding="utf-8").replace("待填", "2026-06-30")
    path.write_text(edited, encoding="utf-8")
    code, said = duban(monkeypatch, capsys, "catalog", "carry-over", "--from", OLD,
                       "--out", str(tmp_path))  # fmt: skip
    assert code == 2 and "已有同名的结转草稿" in said and "--force" in said
    assert path.read_text(encoding="utf-8") == edited
    draft(monkeypatch, capsys, tmp_path, "--force")
    assert "待填" in path.read_text(encoding="utf-8")


def test_a_day_before_the_old_plan_began_is_refused(
    old_plan: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing existed to carry over before the plan began: exit 2, the option and both dates
    named, no draft written."""
    out = tmp_path / "drafts"
    code, said = duban(monkeypatch, capsys, "catalog", "carry-over", "--from", OLD,
                       "--out", str(out), "--as-of", "2020-12-31")  # fmt: skip
    assert code == 2, said
    assert "--as-of" in said and "2020年12月31日" in said and "2021年1月1日" in said
    assert not out.exists() or not any(out.iterdir())


def test_a_draft_does_not_sync_until_its_due_dates_are_filled_in(
    old_plan: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Merged as written, the draft fails validation and sync at each 待填 (file, line, field),
    exit 2, nothing written."""
    path, _ = draft(monkeypatch, capsys, tmp_path / "draft")
    text = path.read_text(encoding="utf-8")
    folder = next_plan(tmp_path / "next", text)
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith("due:")]
    assert len(lines) == 3
    before = table_checksums(old_plan)
    for command in ("validate", "sync"):
        code, said = duban(monkeypatch, capsys, "catalog", command, str(folder))
        assert code == 2, said
        said = said.replace("\n", "")  # the console wraps long lines
        for n in lines:
            assert f"carried.yaml:{n}: tasks[" in said
        assert said.count("完成时限还是“待填”：请把它改为新规划中的日期") == 3
    assert table_checksums(old_plan) == before


def links(engine: Engine) -> set[tuple[str, str]]:
    """(carried item, predecessor) pairs as milestone/unit/occurrence keys."""
    new, old = aliased(WorkItem), aliased(WorkItem)
    new_m, old_m, new_u = aliased(Milestone), aliased(Milestone), aliased(Unit)
    with session_scope(engine) as session:
        rows = session.execute(
            select(new_m.code, new_u.code, old_m.code, old.occurrence, old.plan_id)
            .select_from(ItemPredecessor)
            .join(new, new.id == ItemPredecessor.item_id)
            .join(new_m, new_m.id == new.milestone_id)
            .join(new_u, new_u.id == new.unit_id)
            .join(old, old.id == ItemPredecessor.predecessor_id)
            .join(old_m, old_m.id == old.milestone_id)
        ).all()
    return {(f"{a}/{u}", f"{p}:{b}/{u}/{n}") for a, u, b, n, p in rows}


def owner_item_page(settings: Settings, engine: Engine, unit: str, item: int) -> str:
    """The item page as the unit's liaison opens it from a personal link, in March 2026."""
    with clock.frozen_time(at(date(2026, 3, 2))):
        with session_scope(engine) as session:
            token = issue_link(
                session,
                workbook_secret(settings),
                plan_id=NEW,
                unit_code=unit,
                contact_id=None,
                now=clock.now(),
                days=30,
            ).token

        async def get() -> httpx.Response:
            transport = httpx.ASGITransport(app=create_app(settings))
            async with httpx.AsyncClient(transport=transport, base_url="http://site") as client:
                return await client.get(f"/l/{token}/items/{item}")

        response = asyncio.run(get())
    assert response.status_code == 200, response.text
    return response.text


def test_filled_in_and_synced_each_carried_item_shows_the_old_plans_history(
    settings: Settings,
    old_plan: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The next plan (2026–2030, the same database) syncs with the filled-in draft: each carried
    item is linked to the old plan's items of its milestone for the same unit (every occurrence
    of a recurring one), a second sync changes nothing, and `item show` and the owner's item
    page show the old item's state, due date, last report and reason, with the old plan's
    name. Years after 2026 use the Monday–Friday calendar, and the sync says so."""
    path, _ = draft(monkeypatch, capsys, tmp_path / "draft")
    folder = next_plan(tmp_path / "next", fill_in(path.read_text(encoding="utf-8")))
    code, said = duban(monkeypatch, capsys, "catalog", "sync", str(folder))
    assert code == 0, said
    assert "结转关联 11" in said
    assert "没有2027年、2028年、2029年、2030年的节假日安排，暂按周一至周五计算" in said
    assert links(old_plan) == {
        ("JZ-M2/t2", f"{OLD}:M2/t2/1"),
        *((f"JZ-M3/{u}", f"{OLD}:M3/{u}/{n}") for u in ("t1", "t2") for n in (1, 2, 3, 4)),
        ("JZ-M4/v21", f"{OLD}:M4/v21/1"),
        ("JZ-M4/v22", f"{OLD}:M4/v22/1"),
    }
    with session_scope(old_plan) as session:
        assert session.scalar(select(func.count()).select_from(Plan)) == 2
    code, said = duban(monkeypatch, capsys, "catalog", "sync", str(folder))
    assert code == 0 and "没有变化" in said

    carried, old = item_id(old_plan, "JZ-M2", "t2"), item_id(old_plan, "M2", "t2")
    code, said = duban(monkeypatch, capsys, "item", "show", str(carried))
    assert code == 0, said
    assert "办理期 2026年1月1日 至 2026年6月30日" in said
    assert f"结转自原规划《示例规划》（{OLD}）：" in said
    assert f"#{old} M2 乡镇建立制度 — 乙乡，2021年12月31日到期，受阻，进度 60%" in said
    assert f"原因：{BLOCKED}" in said
    assert f"最近报送 2021年12月24日：问题：{PROBLEM}" in said
    assert english_lines(said, [str(carried), "JZ-M2", "M2", "t2", OLD, "Asia/Shanghai"]) == []

    page = owner_item_page(settings, old_plan, "t2", carried)
    assert "本事项结转自原规划《示例规划》：原规划中的办理情况" in page
    assert "2021年12月31日到期，受阻，进度 60%" in page
    assert f"原因：{BLOCKED}" in page and f"问题：{PROBLEM}" in page


def test_a_reference_to_a_plan_or_milestone_the_database_lacks_is_refused(
    old_plan: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unknown plan or an unknown milestone of the old plan: each named with its file, line
    and field, exit 2, nothing written; the plan's own id is refused by validation alone."""
    path, _ = draft(monkeypatch, capsys, tmp_path / "draft")
    text = fill_in(path.read_text(encoding="utf-8"))
    text = text.replace(
        '{plan: "demo-plan", milestone: "M2"}', '{plan: "old-plan", milestone: "M2"}'
    )
    text = text.replace(
        '{plan: "demo-plan", milestone: "M4"}', '{plan: "demo-plan", milestone: "M9"}'
    )
    folder = next_plan(tmp_path / "next", text)
    numbered = text.splitlines()
    plan_line = next(n for n, line in enumerate(numbered, 1) if '"old-plan"' in line)
    milestone_line = next(n for n, line in enumerate(numbered, 1) if '"M9"' in line)
    before = table_checksums(old_plan)
    code, said = duban(monkeypatch, capsys, "catalog", "sync", str(folder))
    assert code == 2, said
    said = said.replace("\n", "")  # the console wraps long lines
    assert "规划 next-plan 的目录有 2 处结转来源错误，未写入任何内容" in said
    assert (
        f"carried.yaml:{plan_line}: tasks[0].milestones[0].carried_from.plan: "
        "数据库中没有规划 'old-plan'" in said
    )
    assert (
        f"carried.yaml:{milestone_line}: tasks[1].milestones[0].carried_from.milestone: "
        f"原规划 {OLD} 中没有节点 'M9'" in said
    )
    assert table_checksums(old_plan) == before

    (folder / "carried.yaml").write_text(
        text.replace('"old-plan"', '"next-plan"').replace('"M9"', '"M4"'), encoding="utf-8"
    )
    code, said = duban(monkeypatch, capsys, "catalog", "validate", str(folder))
    assert code == 2
    said = said.replace("\n", "")
    assert "tasks[0].milestones[0].carried_from.plan: 结转来源须是另一个（原）规划" in said


def test_a_carried_unit_with_no_item_in_the_old_milestone_is_named_and_left_unlinked(
    old_plan: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The coordinator gives JZ-M2 also to 甲镇社区 (v11), which had no M2 item: the sync says
    so and links only 乙乡's item."""
    path, _ = draft(monkeypatch, capsys, tmp_path / "draft")
    lines = fill_in(path.read_text(encoding="utf-8")).splitlines(keepends=True)
    at_t2 = next(
        i for i, line in enumerate(lines) if line.strip().startswith('- "t2"  # 乙乡：2021')
    )
    lines.insert(at_t2 + 1, '          - "v11"\n')
    folder = next_plan(tmp_path / "next", "".join(lines))
    code, said = duban(monkeypatch, capsys, "catalog", "sync", str(folder))
    assert code == 0, said
    assert "结转关联 11" in said
    assert (
        f"结转节点 JZ-M2：1 个单位在原规划 {OLD} 的节点 M2 中没有事项，"
        "未关联原规划的办理记录（v11）" in said.replace("\n", "")
    )
    assert ("JZ-M2/v11", f"{OLD}:M2/v11/1") not in links(old_plan)
    assert ("JZ-M2/t2", f"{OLD}:M2/t2/1") in links(old_plan)
