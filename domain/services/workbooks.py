"""Unit workbooks (台账): one .xlsx per unit, prefilled with its items, signed, ready to fill in.

Sheets: 填报说明 (instructions), 进展填报 (one row per item: the id columns are locked, the input
columns have dropdowns and range checks), 指标数据 (for units that report measures), and a very
hidden ``_duban`` sheet holding the plan, unit, period and item ids with their HMAC signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import cast

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.adapters import signing
from domain.adapters.files import fit_name
from domain.adapters.intake.readers import META_SHEET
from domain.queries.indicators import latest_values
from domain.queries.plans import unit_of
from domain.rules.cell_text import CellValue, put_cell
from domain.rules.glossary import ITEM_STATES, MEASURE_SHEET, PROGRESS_SHEET
from domain.rules.intake.rows import MEASURE_COLUMNS, REPORT_COLUMNS
from domain.rules.lifecycle import done_values
from domain.rules.reporting import LABELS
from models.enums import ItemState
from models.orm import Measure, Milestone, Plan, Task, Unit, WorkItem
from models.unitsets import select_units

WINDOW = timedelta(days=30)
WIDTHS = {
    "item": 9,
    "task": 6,
    "milestone": 9,
    "title": 40,
    "due": 12,
    "current_state": 11,
    "current_percent": 10,
    "state": 11,
    "percent": 11,
    "note": 28,
    "problem": 24,
    "next_steps": 22,
    "evidence": 20,
    "measure": 22,
    "name": 30,
    "unit_of_measure": 10,
    "previous": 12,
    "value": 12,
}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
INSTRUCTIONS = """填报说明
1. 本表由督办系统为 {unit} 生成，报送期 {period}，请勿更换单位或复制他人表格：表内有校验签名。
2. 在“进展填报”表中，只填写黄色栏目：本期状态、本期进度%、进展情况、存在问题、下步计划、佐证材料。
   本期状态可选：未开始、推进中、已完成（即申请办结）、受阻。无进展的事项可留空不填。
3. 填“已完成”时，进度为 100，并在“佐证材料”中写明材料名称或链接（如会议纪要、印发文件）。
4. 填“受阻”，或状态、进度比上期倒退时，须在“存在问题”或“进展情况”中说明原因。
5. {measures}
6. 填好后原样保存为 .xlsx，交回协调单位（{coordinator}）。
   整份表格要么全部入库，要么全部退回并附错误说明。
"""


@dataclass(frozen=True)
class WorkbookFile:
    """A written workbook."""

    unit: str
    unit_name: str
    path: Path
    items: int
    measures: int


def _header(sheet: Worksheet, columns: list[tuple[str, str]], inputs: set[str]) -> None:
    for col, (field, label) in enumerate(columns, start=1):
        cell = put_cell(sheet.cell(row=1, column=col), label)
        cell.font = Font(bold=True)
        cell.fill = INPUT_FILL if field in inputs else HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[cell.column_letter].width = WIDTHS.get(field, 12)
    sheet.freeze_panes = "D2"
    # printable: landscape A4, all columns on one page width, header row repeated
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"


def _unlock(sheet: Worksheet, row: int, columns: list[tuple[str, str]], inputs: set[str]) -> None:
    for col, (field, _) in enumerate(columns, start=1):
        if field in inputs:
            cell = sheet.cell(row=row, column=col)
            cell.protection = Protection(locked=False)
            cell.fill = INPUT_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def unit_items(session: Session, plan: Plan, unit: Unit, as_of: date) -> list[tuple[object, ...]]:
    """The unit's open items whose window opens within 30 days, and items due ±30 days."""
    return list(
        session.execute(
            select(
                WorkItem.id,
                Task.code,
                Milestone.code,
                Milestone.title,
                WorkItem.due,
                WorkItem.state,
                WorkItem.percent,
            )
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Task, Task.id == Milestone.task_id)
            .where(
                WorkItem.plan_id == plan.id,
                WorkItem.unit_id == unit.id,
                WorkItem.state != ItemState.RETIRED.value,
                or_(
                    (WorkItem.state.not_in(done_values())) & (WorkItem.start <= as_of + WINDOW),
                    WorkItem.due.between(as_of - WINDOW, as_of + WINDOW),
                ),
            )
            .order_by(WorkItem.due, Milestone.code, WorkItem.id)
        ).all()
    )


def write_workbook(
    session: Session, plan: Plan, unit: Unit, as_of: date, out: Path
) -> WorkbookFile:
    """Write one unit's workbook into ``out``."""
    items = unit_items(session, plan, unit, as_of)
    measures = [
        m
        for m in session.scalars(
            select(Measure)
            .where(Measure.plan_id == plan.id, Measure.retired_at.is_(None))
            .order_by(Measure.id)
        )
        if select_units(m.reported_by, [unit], key=lambda u: u.code)
    ]
    coordinator = (
        session.scalars(
            select(Unit.name).where(Unit.plan_id == plan.id, Unit.code == plan.coordinator_code)
        ).first()
        or ""
    )
    book = Workbook()
    _guide_sheet(book, unit, as_of, coordinator, bool(measures))
    _progress_sheet(book, items)
    if measures:
        _measure_sheet(book, measures, latest_values(session, plan.id, unit.id))
    item_ids = [int(str(i[0])) for i in items]
    _identity_sheet(book, signing.payload(plan.id, unit.code, as_of, item_ids))
    book.active = 1
    out.mkdir(parents=True, exist_ok=True)
    path = out / fit_name(f"{unit.code}-{unit.name}-{as_of.isoformat()}.xlsx")
    book.save(path)
    return WorkbookFile(unit.code, unit.name, path, len(items), len(measures))


def _guide_sheet(
    book: Workbook, unit: Unit, as_of: date, coordinator: str, has_measures: bool
) -> None:
    guide = book.active
    assert guide is not None
    guide.title = "填报说明"
    measures = (
        "在“指标数据”表中填写本单位各项指标的本期值（是/否 项填“是”或“否”）。"
        if has_measures
        else "本单位无需填报指标数据。"
    )
    text = INSTRUCTIONS.format(
        unit=unit.name, period=as_of.isoformat(), coordinator=coordinator, measures=measures
    )
    for row, line in enumerate(text.splitlines(), start=1):
        put_cell(guide.cell(row=row, column=1), line)
    guide["A1"].font = Font(bold=True, size=14)
    guide.column_dimensions["A"].width = 110


def _progress_sheet(book: Workbook, items: list[tuple[object, ...]]) -> None:
    sheet = book.create_sheet(PROGRESS_SHEET)
    inputs = {"state", "percent", "note", "problem", "next_steps", "evidence"}
    _header(sheet, REPORT_COLUMNS, inputs)
    states = DataValidation(
        type="list",
        formula1='"' + ",".join(LABELS.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        error="请选择：未开始、推进中、已完成、受阻",
    )
    percent = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        error="进度为 0–100 的整数",
    )
    sheet.add_data_validation(states)
    sheet.add_data_validation(percent)
    for row, (item_id, task, milestone, title, due, state, pct) in enumerate(items, start=2):
        values = [item_id, task, milestone, title, due, ITEM_STATES[ItemState(str(state))], pct]
        for col, value in enumerate(cast("list[CellValue]", values), start=1):
            put_cell(sheet.cell(row=row, column=col), value)
        sheet.cell(row=row, column=5).number_format = "yyyy-mm-dd"
        _unlock(sheet, row, REPORT_COLUMNS, inputs)
    if items:
        last = len(items) + 1
        states.add(f"H2:H{last}")
        percent.add(f"I2:I{last}")
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _measure_sheet(book: Workbook, measures: list[Measure], previous: dict[str, float]) -> None:
    sheet = book.create_sheet(MEASURE_SHEET)
    _header(sheet, MEASURE_COLUMNS, {"value"})
    yes_no = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    sheet.add_data_validation(yes_no)
    for row, m in enumerate(measures, start=2):
        prev = previous.get(m.code)
        shown = ("是" if prev else "否") if m.type == "boolean" and prev is not None else prev
        for col, value in enumerate([m.code, m.name, m.unit_of_measure, shown], start=1):
            put_cell(sheet.cell(row=row, column=col), value)
        _unlock(sheet, row, MEASURE_COLUMNS, {"value"})
        if m.type == "boolean":
            yes_no.add(f"E{row}")
    sheet.protection.sheet = True


def _identity_sheet(book: Workbook, payload: str) -> None:
    plan, unit, period, items = payload.split("|")
    meta = book.create_sheet(META_SHEET)
    rows = [
        ("plan", plan),
        ("unit", unit),
        ("period", period),
        ("items", items),
        ("signature", signing.sign(payload)),
    ]
    for row, (label, value) in enumerate(rows, start=1):
        put_cell(meta.cell(row=row, column=1), label)
        put_cell(meta.cell(row=row, column=2), value)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True


def units_for_workbooks(session: Session, plan: Plan, code: str | None) -> list[Unit]:
    """One named unit, or every unit that has work items or reports measures."""
    if code is not None:
        return [unit_of(session, plan.id, code)]
    query = select(Unit).where(Unit.plan_id == plan.id, Unit.retired_at.is_(None))
    units = list(session.scalars(query.order_by(Unit.code)))
    with_items = set(
        session.scalars(select(WorkItem.unit_id).where(WorkItem.plan_id == plan.id).distinct())
    )
    selectors = [
        m.reported_by
        for m in session.scalars(
            select(Measure).where(Measure.plan_id == plan.id, Measure.retired_at.is_(None))
        )
    ]
    with_measures = {u.id for s in selectors for u in select_units(s, units, key=lambda u: u.code)}
    return [u for u in units if u.id in with_items | with_measures]
