"""Reports from units: workbooks round-trip, files land whole or not at all, every rejection."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from domain.services.intake.inbox import FileOutcome, collect
from domain.services.workbooks import write_workbook
from duban.sample import fill_workbook
from models.db import session_scope
from models.orm import (
    InboxFile,
    ItemTransition,
    Milestone,
    Plan,
    Report,
    Unit,
    WorkItem,
    work_item_tally,
)
from models.records import MeasureValue
from models.tally import ITEM_KEY, tally_drift
from tests.fixtures.context import context_of
from tests.intake.signed import sign_csv, sign_json

PLAN = "demo-plan"


def find_item(engine: Engine, milestone: str, unit: str, occurrence: int = 1) -> int:
    with session_scope(engine) as session:
        return session.scalars(
            select(WorkItem.id)
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Unit, Unit.id == WorkItem.unit_id)
            .where(
                Milestone.code == milestone, Unit.code == unit, WorkItem.occurrence == occurrence
            )
        ).one()


def workbook(engine: Engine, unit: str, inbox: Path, period: date = date(2021, 6, 21)) -> Path:
    with session_scope(engine) as session:
        plan = session.get(Plan, PLAN)
        row = session.scalars(select(Unit).where(Unit.code == unit)).one()
        assert plan is not None
        return write_workbook(session, plan, row, period, inbox).path


def run_collect(engine: Engine, inbox: Path) -> list[FileOutcome]:
    return collect(engine, PLAN, inbox)


def counts(engine: Engine) -> tuple[int, ...]:
    with session_scope(engine) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Report, ItemTransition, MeasureValue, InboxFile)
        )


def state_of(engine: Engine, item: int) -> tuple[str, int]:
    with session_scope(engine) as session:
        row = session.get(WorkItem, item)
        assert row is not None
        return row.state, row.percent


def test_workbook_round_trip_lands_reports_and_measures(synced: Engine, tmp_path: Path) -> None:
    """A generated village workbook, filled in and collected: reports, moves and measures land."""
    inbox = tmp_path / "inbox"
    path = workbook(synced, "v11", inbox)
    m4 = find_item(synced, "M4", "v11")
    fill_workbook(
        path,
        {m4: {"state": "推进中", "percent": 40, "note": "已摸底一半"}},
        {"households": 500, "facility_area": 150},
    )
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "landed", outcome.problems
    assert outcome.landed is not None
    assert (outcome.landed.reports, dict(outcome.landed.moves), outcome.landed.measures) == (
        1,
        {"in_progress": 1},
        2,
    )
    assert state_of(synced, m4) == ("in_progress", 40)
    with session_scope(synced) as session:  # the collection folded the tally it changed
        assert tally_drift(session, PLAN) == []
        keys = select(*ITEM_KEY).where(WorkItem.plan_id == PLAN).group_by(*ITEM_KEY).subquery()
        assert session.scalar(select(func.count()).select_from(work_item_tally)) == (
            session.scalar(select(func.count()).select_from(keys))
        )
    assert outcome.kept_at is not None and outcome.sha256 is not None
    assert outcome.kept_at.parent == inbox / "archive" / "2021-06-25"
    assert outcome.kept_at.name.startswith(outcome.sha256[:8])
    assert not path.exists()


def test_workbook_has_locked_ids_dropdowns_and_instructions(synced: Engine, tmp_path: Path) -> None:
    """The sheet a unit opens: protected, id columns locked, input columns with validation."""
    path = workbook(synced, "v11", tmp_path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["填报说明", "进展填报", "指标数据", "_duban"]
    assert book["_duban"].sheet_state == "veryHidden"
    sheet = book["进展填报"]
    assert sheet.protection.sheet
    assert sheet["A3"].protection.locked and not sheet["H3"].protection.locked
    rules = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert '"未开始,推进中,已完成,受阻"' in rules["H3"].formula1
    assert (rules["I3"].formula1, rules["I3"].formula2) == ("0", "100")
    assert "甲镇社区" in book["填报说明"]["A2"].value


def test_a_bad_row_rejects_the_whole_file_and_changes_nothing(
    synced: Engine, tmp_path: Path
) -> None:
    """A good report row and a bad measure row: nothing lands; reasons are kept beside it."""
    inbox = tmp_path / "inbox"
    path = workbook(synced, "v11", inbox)
    m4 = find_item(synced, "M4", "v11")
    fill_workbook(path, {m4: {"state": "推进中", "percent": 30}}, {"households": -3})
    before = counts(synced)
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "rejected"
    assert counts(synced) == before
    assert state_of(synced, m4) == ("assigned", 0)
    assert outcome.kept_at == inbox / "rejected" / "2021-06-25" / path.name
    text = (outcome.error_report or Path()).read_text(encoding="utf-8")
    assert "第3行，本期值：“户数”不能为负数（-3）" in text  # below the title and header
    assert "表中内容均未入库" in text


REJECTIONS: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown state", {"state": "差不多"}, "本期状态", "“差不多” 不是可选的状态"),
    (
        "percent not a number",
        {"state": "推进中", "percent": "七十"},
        "本期进度%",
        "“七十” 不是整数",
    ),
    (
        "done without 100",
        {"state": "已完成", "percent": 90, "evidence": "文件"},
        "本期进度%",
        "填报“已完成”时本期进度应为 100，现为 90",
    ),
    (
        "done without evidence",
        {"state": "已完成"},
        "佐证材料",
        "填报“已完成”须在“佐证材料”中写明：印发文件",
    ),
    ("blocked without problem", {"state": "受阻"}, "存在问题", "填报“受阻”须在“存在问题”中写明"),
]


@pytest.mark.parametrize(
    ("case", "row", "column", "says"), REJECTIONS, ids=[r[0] for r in REJECTIONS]
)
def test_row_rejections(
    synced: Engine, tmp_path: Path, case: str, row: dict[str, Any], column: str, says: str
) -> None:
    """Each kind of bad row is rejected with a Chinese reason naming the row and the column."""
    inbox = tmp_path / "inbox"
    path = workbook(synced, "zzb", inbox)
    fill_workbook(path, {find_item(synced, "M1", "zzb"): row})
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "rejected"
    assert [(p.line, p.field) for p in outcome.problems if says in p.message] == [(3, column)], (
        outcome.problems
    )
    assert all(p.line == 3 for p in outcome.problems)  # the first row below the header


def test_silent_regression_is_rejected_but_a_stated_one_lands(
    synced: Engine, tmp_path: Path
) -> None:
    """Done → in progress needs a reason; with 存在问题 filled it is accepted (withdrawn)."""
    inbox = tmp_path / "inbox"
    m1 = find_item(synced, "M1", "zzb")
    path = workbook(synced, "zzb", inbox)
    fill_workbook(path, {m1: {"state": "已完成", "evidence": "县委组织部文件"}})
    assert run_collect(synced, inbox)[0].status == "landed"
    path = workbook(synced, "zzb", inbox, period=date(2021, 6, 22))
    fill_workbook(path, {m1: {"state": "推进中", "percent": 80}})
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "rejected"
    assert outcome.problems[0].message == (
        "该事项当前为“已申请办结”，填报“推进中”是倒退，请在“存在问题”或“进展情况”中说明原因"
    )
    path = workbook(synced, "zzb", inbox, period=date(2021, 6, 23))
    fill_workbook(path, {m1: {"state": "推进中", "percent": 80, "problem": "文件被要求重新修订"}})
    assert run_collect(synced, inbox)[0].status == "landed"
    assert state_of(synced, m1) == ("in_progress", 80)


def test_tampered_or_foreign_workbook_is_rejected(synced: Engine, tmp_path: Path) -> None:
    """Changing the unit in the hidden sheet breaks the signature; so does adding an item id."""
    inbox = tmp_path / "inbox"
    path = workbook(synced, "t1", inbox)
    book = openpyxl.load_workbook(path)
    book["_duban"]["B2"] = "t2"
    book.save(path)
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "rejected"
    assert "台账签名不符" in outcome.problems[0].message

    path = workbook(synced, "t1", inbox)
    other = find_item(synced, "M2", "t2")
    book = openpyxl.load_workbook(path)
    book["进展填报"]["A6"] = other
    book["进展填报"]["H6"] = "推进中"
    book.save(path)
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "rejected"
    assert f"事项 {other} 不在本台账内" in outcome.problems[0].message


def test_duplicate_submission_lands_once(synced: Engine, tmp_path: Path) -> None:
    """The same bytes sent again are recognised by checksum and not applied twice."""
    inbox = tmp_path / "inbox"
    path = workbook(synced, "v11", inbox)
    fill_workbook(path, {find_item(synced, "M4", "v11"): {"state": "推进中", "percent": 10}})
    copy = path.read_bytes()
    assert run_collect(synced, inbox)[0].status == "landed"
    before = counts(synced)
    (inbox / "again.xlsx").write_bytes(copy)
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "duplicate"
    assert counts(synced) == before
    assert outcome.kept_at is not None and outcome.kept_at.exists()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_chinese_excel_writes(
    synced: Engine, tmp_path: Path, encoding: str
) -> None:
    """Chinese headers and states in UTF-8 (with/without BOM) and GBK/GB18030 all land."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    m2 = find_item(synced, "M2", "t1")
    text = f"单位代码,事项编号,本期状态,本期进度%,进展情况\nt1,{m2},推进中,20,制度起草中\n"
    (inbox / "t1.csv").write_bytes(sign_csv(text).encode(encoding))
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "landed", outcome.problems
    with session_scope(synced) as session:
        note = session.scalars(select(Report.note)).one()
    assert note == "制度起草中"


def test_item_of_another_unit_is_rejected_whatever_the_source(
    synced: Engine, tmp_path: Path
) -> None:
    """A CSV from t1 naming t2's item: rejected, naming whose item it is."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    other = find_item(synced, "M2", "t2")
    text = sign_csv(f"unit,item,state\nt1,{other},in_progress\n")
    (inbox / "t1.csv").write_text(text, encoding="utf-8")
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "rejected"
    assert outcome.problems[0].message == f"事项 {other} 属于乙乡，不属于甲镇"
    assert outcome.problems[0].line == 2


def test_json_report_and_its_problems(synced: Engine, tmp_path: Path) -> None:
    """JSON lands like the rest; an unknown item and a bad percent are both named."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    m2 = find_item(synced, "M2", "t1")
    good = {"unit": "t1", "reports": [{"item": m2, "state": "in_progress", "percent": 15}]}
    (inbox / "a.json").write_text(json.dumps(sign_json(good)), encoding="utf-8")
    bad = {
        "unit": "t1",
        "reports": [
            {"item": 99999, "state": "in_progress"},
            {"item": m2, "state": "in_progress", "percent": -1},
        ],
    }
    (inbox / "b.json").write_text(json.dumps(sign_json(bad)), encoding="utf-8")
    first, second = run_collect(synced, inbox)
    assert first.status == "landed"
    assert second.status == "rejected"
    messages = [p.message for p in second.problems]
    assert "“-1” 超出范围（应在 0–100 之间）" in messages
    assert "没有编号为 99999 的事项" in messages


MEASURE_REJECTIONS: list[tuple[dict[str, Any], str]] = [
    ({"households": -5}, "不能为负数"),
    ({"households": 0, "facility_area": 120}, "户数为 0，而"),
    ({"households": "三百"}, "“三百” 不是数字"),
]


@pytest.mark.parametrize(("values", "says"), MEASURE_REJECTIONS)
def test_implausible_measures_are_rejected(
    synced: Engine, tmp_path: Path, values: dict[str, Any], says: str
) -> None:
    """Negative values and a zero denominator with a non-zero numerator are refused."""
    inbox = tmp_path / "inbox"
    fill_workbook(workbook(synced, "v12", inbox), {}, values)
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "rejected"
    assert any(says in p.message for p in outcome.problems), outcome.problems


def test_unsupported_files_are_rejected_and_lock_files_left_alone(
    synced: Engine, tmp_path: Path
) -> None:
    """An .xls gets a reason (save as .xlsx); Excel's ~$ lock file is not touched."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (inbox / "~$open.xlsx").write_bytes(b"lock")
    (outcome,) = run_collect(synced, inbox)
    assert (outcome.name, outcome.status) == ("old.xls", "rejected")
    assert "另存为" in outcome.problems[0].message
    assert (inbox / "~$open.xlsx").exists()


def test_all_measure_problems_come_back_at_once(synced: Engine, tmp_path: Path) -> None:
    """Each value is checked alone first; cross-checks then run on those that passed."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    text = "单位代码,指标项代码,本期值\nv11,facility_area,-5\nv11,households,0\n"
    (inbox / "m.csv").write_text(sign_csv(text), encoding="utf-8")
    (outcome,) = run_collect(synced, inbox)
    assert [p.line for p in outcome.problems] == [2]
    text = "unit,measure,value\nv11,facility_area,120\nv11,households,0\n"
    (inbox / "n.csv").write_text(sign_csv(text), encoding="utf-8")
    (outcome,) = run_collect(synced, inbox)
    assert outcome.problems[0].line == 3  # names the row of the zero denominator


def test_dates_as_chinese_excel_writes_them(synced: Engine, tmp_path: Path) -> None:
    """报送期 2021/6/21 and 2021年6月21日 parse like 2021-06-21."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    m2 = find_item(synced, "M2", "t1")
    text = f"单位代码,事项编号,本期状态,报送期\nt1,{m2},推进中,2021/6/21\n"
    (inbox / "a.csv").write_text(sign_csv(text), encoding="utf-8")
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "landed", outcome.problems
    with session_scope(synced) as session:
        assert session.scalars(select(Report.period)).one() == date(2021, 6, 21)


def test_an_id_changed_to_another_item_is_caught(synced: Engine, tmp_path: Path) -> None:
    """The 节点 column must agree with the item the id names."""
    inbox = tmp_path / "inbox"
    m2 = find_item(synced, "M2", "t1")
    path = workbook(synced, "t1", inbox)
    book = openpyxl.load_workbook(path)
    sheet = book["进展填报"]
    sheet["C3"] = "M3"
    sheet["H3"] = "推进中"
    book.save(path)
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "rejected"
    assert f"事项 {m2} 属于节点 M2，本行却写 “M3”" in outcome.problems[0].message


def test_a_blank_returned_workbook_counts_as_reported(synced: Engine, tmp_path: Path) -> None:
    """A unit with nothing new still reported: completeness counts the landed file."""
    from domain.queries.completeness import completeness_view  # noqa: PLC0415

    inbox = tmp_path / "inbox"
    workbook(synced, "v12", inbox)
    (outcome,) = run_collect(synced, inbox)
    assert outcome.status == "landed"
    with session_scope(synced) as session:
        view = completeness_view(session, context_of(session, date(2021, 6, 25)), cycles=1)
    assert "v12" not in [code for code, _ in view.missing]
