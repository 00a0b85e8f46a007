"""The unit workbook as duban built it with openpyxl before issue 20 (the reference): the sheets
:mod:`domain.adapters.unit_workbook` writes must read back the same, cell by cell."""

from __future__ import annotations

from copy import copy
from datetime import date
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

from domain.adapters import signing
from domain.adapters.intake.workbook_reader import META_SHEET
from domain.adapters.unit_workbook import (
    FONT,
    FONT_SIZE,
    HEADER_ROW,
    INSTRUCTIONS,
    LINE_POINTS,
    MEASURE_ORDER,
    MIN_ROW_POINTS,
    TEXT_INPUTS,
    WIDTHS,
    MeasureRow,
    text_lines,
)
from domain.rules.cell_text import CellValue, put_cell
from domain.rules.glossary import ITEM_STATES, MEASURE_SHEET, PROGRESS_SHEET, zh_date
from domain.rules.intake.rows import MEASURE_COLUMNS, REPORT_COLUMNS
from domain.rules.reporting import LABELS, Cycle
from models.enums import ItemState

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def reference_workbook(
    path: Path,
    *,
    plan_id: str,
    unit_code: str,
    unit_name: str,
    as_of: date,
    cycle: Cycle,
    coordinator: str,
    items: list[tuple[object, ...]],
    measures: list[MeasureRow],
) -> None:
    """What ``write_workbook`` wrote before, from the same inputs as ``write_unit_workbook``."""
    book = Workbook()
    _guide_sheet(book, unit_name, cycle, coordinator, bool(measures))
    _progress_sheet(book, items, _titled(unit_name, "进展填报表", cycle))
    if measures:
        _measure_sheet(book, measures, _titled(unit_name, "指标数据", cycle))
    item_ids = [int(str(i[0])) for i in items]
    _identity_sheet(book, signing.payload(plan_id, unit_code, as_of, item_ids))
    book.active = 1
    book.save(path)


def _titled(unit_name: str, what: str, cycle: Cycle) -> str:
    return (
        f"{unit_name} {what}（报送期 {zh_date(cycle.start)}至{zh_date(cycle.end)}，"
        f"本期报送截止 {zh_date(cycle.due)}）"
    )


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


def _guide_sheet(
    book: Workbook, unit_name: str, cycle: Cycle, coordinator: str, has_measures: bool
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
        unit=unit_name,
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


def _measure_sheet(book: Workbook, measures: list[MeasureRow], title: str) -> None:
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
        cells: list[CellValue] = [m.name, m.unit_of_measure, m.previous, None, m.code]
        for col, value in enumerate(cells, start=1):
            put_cell(sheet.cell(row=row, column=col), value)
        _body(sheet, row, columns, {"value"})
        if m.yes_no:
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
