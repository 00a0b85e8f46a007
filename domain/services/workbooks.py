"""Unit workbooks (台账): one .xlsx per unit, prefilled with its items, signed, ready to fill in.

Sheets: 填报说明 (instructions), 进展填报 (one row per item: the id columns are locked, the input
columns have dropdowns and range checks), 指标数据 (for units that report measures), and a very
hidden ``_duban`` sheet holding the plan, unit, period and item ids with their HMAC signature.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import cast

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.adapters import signing
from domain.adapters.files import fit_name
from domain.adapters.intake.workbook_reader import META_SHEET
from domain.queries.calendar import reporting_cycle
from domain.queries.indicators import measure_table
from domain.queries.plans import unit_of
from domain.rules.cell_text import CellValue, put_cell
from domain.rules.glossary import ITEM_STATES, MEASURE_SHEET, PROGRESS_SHEET, zh_date
from domain.rules.intake.rows import MEASURE_COLUMNS, REPORT_COLUMNS
from domain.rules.lifecycle import done_values
from domain.rules.reporting import LABELS, Cycle
from models.enums import ItemState
from models.orm import Milestone, Plan, Task, Unit, WorkItem
from models.records import Measure
from models.unitsets import select_units

WINDOW = timedelta(days=30)
WIDTHS = {
    "item": 8,
    "task": 5,
    "milestone": 8,
    "title": 24,
    "due": 11,
    "current_state": 8,
    "current_percent": 7,
    "state": 8,
    "percent": 7,
    "note": 26,
    "problem": 18,
    "next_steps": 18,
    "evidence": 14,
    "measure": 14,
    "name": 36,
    "unit_of_measure": 10,
    "previous": 12,
    "value": 14,
}
"""Column widths (characters): the progress sheet's add up to what A4 landscape prints at
about 90% of size 11."""
FONT = "宋体"
"""The body font: on every Chinese Windows, WPS and Office; LibreOffice substitutes a CJK font."""
FONT_SIZE = 11
HEADER_ROW = 2
"""The header row of the input sheets: the title row (unit, period, deadline) is above it."""
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TEXT_INPUTS = frozenset({"state", "note", "problem", "next_steps", "evidence"})
"""Input columns stored as text (Excel's ``@``): a date or a number typed there stays as typed."""
INSTRUCTIONS = """填报说明
1. 本表由督办系统为 {unit} 生成，报送期 {period}，本期报送截止 {due}。
   请勿更换单位或复制他人表格：表内有校验签名。
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


def _title(sheet: Worksheet, text: str, width: int) -> None:
    """The title row above the header: one merged cell across the table."""
    cell = put_cell(sheet.cell(row=1, column=1), text)
    cell.font = Font(name=FONT, size=14, bold=True)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.row_dimensions[1].height = 42  # two lines of size 14, when the title wraps


def _header(sheet: Worksheet, columns: list[tuple[str, str]], inputs: set[str]) -> None:
    for col, (key, label) in enumerate(columns, start=1):
        cell = put_cell(sheet.cell(row=HEADER_ROW, column=col), label)
        cell.font = Font(name=FONT, size=FONT_SIZE, bold=True)
        cell.fill = INPUT_FILL if key in inputs else HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[cell.column_letter].width = WIDTHS.get(key, 12)
    sheet.row_dimensions[HEADER_ROW].height = 30
    sheet.freeze_panes = f"D{HEADER_ROW + 1}"
    _print_setup(sheet, landscape=True)
    sheet.print_title_rows = f"1:{HEADER_ROW}"


def _print_setup(sheet: Worksheet, *, landscape: bool) -> None:
    """A4, every column on one page width, narrow margins, page numbers in the footer."""
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins = PageMargins(
        left=0.4, right=0.4, top=0.5, bottom=0.75, header=0.3, footer=0.35
    )
    sheet.print_options.horizontalCentered = True
    footer = sheet.oddFooter
    assert footer is not None
    footer.center.text = "第 &P 页，共 &N 页"
    footer.center.font = FONT


def _body(sheet: Worksheet, row: int, columns: list[tuple[str, str]], inputs: set[str]) -> None:
    """One table row's look: font, borders, wrapping, a height that shows its longest text and
    leaves room to write by hand; input cells unlocked and yellow."""
    lines = 1
    above = row - 1 if row > HEADER_ROW + 1 else None
    for col, (key, _) in enumerate(columns, start=1):
        cell = sheet.cell(row=row, column=col)
        assert isinstance(cell, Cell)
        if above is not None:  # the row above's look, copied (set anew, styles are hashed again)
            prefixed = cell.quotePrefix  # put_cell's mark on formula-like text stays this cell's
            cell._style = copy(sheet.cell(row=above, column=col)._style)  # type: ignore[attr-defined,union-attr]
            cell.quotePrefix = prefixed
        else:
            _look(cell, key in inputs, key in TEXT_INPUTS)
        if isinstance(cell.value, str):
            lines = max(lines, text_lines(cell.value, WIDTHS.get(key, 12)))
    sheet.row_dimensions[row].height = max(LINE_POINTS * lines, MIN_ROW_POINTS) + 4


def _look(cell: Cell, is_input: bool, is_text: bool) -> None:
    """A table cell's font, border and wrapping; an input cell unlocked and yellow."""
    cell.font = Font(name=FONT, size=FONT_SIZE)
    cell.border = BORDER
    cell.alignment = Alignment(wrap_text=True, vertical="center")
    if is_input:
        cell.protection = Protection(locked=False)
        cell.fill = INPUT_FILL
        if is_text:
            cell.number_format = "@"


LINE_POINTS = 15
"""The height of one line of size-11 text, in points."""
MIN_ROW_POINTS = 30
"""A row is at least two lines high: room for a short note written on paper."""


def text_lines(text: str, width: float) -> int:
    """The lines ``text`` wraps to in a column ``width`` characters wide (a Chinese character
    takes two, as in Excel's measure)."""
    room = max(width - 1, 2)
    lines = 0
    for part in text.splitlines() or [""]:
        wide = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in part)
        lines += max(1, math.ceil(wide / room))
    return lines


def unit_items(session: Session, plan: Plan, unit: Unit, as_of: date) -> list[tuple[object, ...]]:
    """The unit's open items whose window opens within 30 days, and items due ±30 days."""
    return units_items(session, plan, [unit.id], as_of).get(unit.id, [])


def units_items(
    session: Session, plan: Plan, unit_ids: Sequence[int], as_of: date
) -> dict[int, list[tuple[object, ...]]]:
    """:func:`unit_items` of several units, by unit id, in one statement a thousand units."""
    out: dict[int, list[tuple[object, ...]]] = defaultdict(list)
    ids = sorted(set(unit_ids))
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(
                WorkItem.unit_id,
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
                WorkItem.unit_id.in_(ids[start : start + 1000]),
                WorkItem.state != ItemState.RETIRED.value,
                or_(
                    (WorkItem.state.not_in(done_values())) & (WorkItem.start <= as_of + WINDOW),
                    WorkItem.due.between(as_of - WINDOW, as_of + WINDOW),
                ),
            )
            .order_by(WorkItem.unit_id, WorkItem.due, Milestone.code, WorkItem.id)
        )
        for unit_id, *item in rows:
            out[unit_id].append(tuple(item))
    return out


def write_workbook(
    session: Session, plan: Plan, unit: Unit, as_of: date, out: Path
) -> WorkbookFile:
    """Write one unit's workbook into ``out``."""
    return PlanWorkbooks.read(session, plan, as_of).write(unit, out)


@dataclass
class PlanWorkbooks:
    """The plan's part of its units' workbooks on one day, read once (measures, coordinating
    unit, reporting cycle), and the units' items and latest measure values, read for many units
    at a time by :meth:`prefetch` or else for each unit by :meth:`write`."""

    session: Session
    plan: Plan
    as_of: date
    measures: list[Measure]
    coordinator: str
    cycle: Cycle
    items: dict[int, list[tuple[object, ...]]] = field(default_factory=dict)
    previous: dict[int, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, plan: Plan, as_of: date) -> PlanWorkbooks:
        measures = list(
            session.scalars(
                select(Measure)
                .where(Measure.plan_id == plan.id, Measure.retired_at.is_(None))
                .order_by(Measure.id)
            )
        )
        coordinator = (
            session.scalars(
                select(Unit.name).where(Unit.plan_id == plan.id, Unit.code == plan.coordinator_code)
            ).first()
            or ""
        )
        cycle = reporting_cycle(session, plan.reporting_cycle, plan.reporting_due, as_of)
        return cls(session, plan, as_of, measures, coordinator, cycle)

    def measures_of(self, unit: Unit) -> list[Measure]:
        """The measures ``unit`` reports."""
        return [
            m for m in self.measures if select_units(m.reported_by, [unit], key=lambda u: u.code)
        ]

    def prefetch(self, units: Sequence[Unit]) -> None:
        """Read the items of ``units`` and the latest measure values of those that report
        measures, a few statements for all of them."""
        todo = [u for u in units if u.id not in self.items]
        if not todo:
            return
        found = units_items(self.session, self.plan, [u.id for u in todo], self.as_of)
        self.items.update({u.id: found.get(u.id, []) for u in todo})
        measured = [u.id for u in todo if self.measures_of(u)]
        if measured:
            table = measure_table(self.session, self.plan.id, unit_ids=measured)
            self.previous.update({u: table.get(u, {}) for u in measured})

    def write(self, unit: Unit, out: Path) -> WorkbookFile:
        """Write ``unit``'s workbook into ``out``."""
        self.prefetch([unit])
        items = self.items[unit.id]
        measures = self.measures_of(unit)
        cycle, as_of = self.cycle, self.as_of
        book = Workbook()
        _guide_sheet(book, unit, cycle, self.coordinator, bool(measures))
        _progress_sheet(book, items, _titled(unit, "进展填报表", cycle))
        if measures:
            previous = self.previous.get(unit.id, {})
            _measure_sheet(book, measures, previous, _titled(unit, "指标数据", cycle))
        item_ids = [int(str(i[0])) for i in items]
        _identity_sheet(book, signing.payload(self.plan.id, unit.code, as_of, item_ids))
        book.active = 1
        out.mkdir(parents=True, exist_ok=True)
        path = out / fit_name(f"{unit.code}-{unit.name}-{as_of.isoformat()}.xlsx")
        book.save(path)
        return WorkbookFile(unit.code, unit.name, path, len(items), len(measures))


def _titled(unit: Unit, what: str, cycle: Cycle) -> str:
    """A sheet's title: the unit, the reporting period and its deadline."""
    return (
        f"{unit.name} {what}（报送期 {zh_date(cycle.start)}至{zh_date(cycle.end)}，"
        f"本期报送截止 {zh_date(cycle.due)}）"
    )


def _guide_sheet(
    book: Workbook, unit: Unit, cycle: Cycle, coordinator: str, has_measures: bool
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
        unit=unit.name,
        period=f"{zh_date(cycle.start)}至{zh_date(cycle.end)}",
        due=zh_date(cycle.due),
        coordinator=coordinator,
        measures=measures,
    )
    for row, line in enumerate(text.splitlines(), start=1):
        cell = put_cell(guide.cell(row=row, column=1), line)
        cell.font = Font(name=FONT, size=FONT_SIZE)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    guide["A1"].font = Font(name=FONT, bold=True, size=14)
    guide.column_dimensions["A"].width = 110
    _print_setup(guide, landscape=True)


def _progress_sheet(book: Workbook, items: list[tuple[object, ...]], title: str) -> None:
    sheet = book.create_sheet(PROGRESS_SHEET)
    inputs = {"state", "percent", "note", "problem", "next_steps", "evidence"}
    _title(sheet, title, len(REPORT_COLUMNS))
    _header(sheet, REPORT_COLUMNS, inputs)
    states = DataValidation(
        type="list",
        formula1='"' + ",".join(LABELS.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        error="请选择：未开始、推进中、已完成、受阻",
    )
    percent = DataValidation(  # decimal: 70% typed is 0.7, read back as 70
        type="decimal",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        error="进度为 0–100 的整数（写 70 或 70% 均可）",
    )
    sheet.add_data_validation(states)
    sheet.add_data_validation(percent)
    first = HEADER_ROW + 1
    for row, (item_id, task, milestone, title_, due, state, pct) in enumerate(items, start=first):
        values = [item_id, task, milestone, title_, due, ITEM_STATES[ItemState(str(state))], pct]
        for col, value in enumerate(cast("list[CellValue]", values), start=1):
            put_cell(sheet.cell(row=row, column=col), value)
        _body(sheet, row, REPORT_COLUMNS, inputs)
        sheet.cell(row=row, column=5).number_format = "yyyy-mm-dd"
    if items:
        last = len(items) + HEADER_ROW
        states.add(f"H{first}:H{last}")
        percent.add(f"I{first}:I{last}")
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


MEASURE_ORDER = ["name", "unit_of_measure", "previous", "value", "measure"]
"""The measure sheet's columns as a person reads them: the Chinese name first; the code that
identifies the measure last and hidden (the reader finds columns by header)."""


def _measure_sheet(
    book: Workbook, measures: list[Measure], previous: dict[str, float], title: str
) -> None:
    sheet = book.create_sheet(MEASURE_SHEET)
    header = dict(MEASURE_COLUMNS)
    columns = [(f, header[f]) for f in MEASURE_ORDER]
    _title(sheet, title, len(columns) - 1)
    _header(sheet, columns, {"value"})
    sheet.freeze_panes = f"B{HEADER_ROW + 1}"
    code_column = get_column_letter(len(columns))
    sheet.column_dimensions[code_column].hidden = True
    yes_no = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    sheet.add_data_validation(yes_no)
    value_column = get_column_letter(MEASURE_ORDER.index("value") + 1)
    for row, m in enumerate(measures, start=HEADER_ROW + 1):
        prev = previous.get(m.code)
        shown = ("是" if prev else "否") if m.type == "boolean" and prev is not None else prev
        cells: list[CellValue] = [m.name, m.unit_of_measure, shown, None, m.code]
        for col, value in enumerate(cells, start=1):
            put_cell(sheet.cell(row=row, column=col), value)
        _body(sheet, row, columns, {"value"})
        if m.type == "boolean":
            yes_no.add(f"{value_column}{row}")
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
