"""A unit's workbook (台账) as a person sees it: its four sheets, their cells and their look,
written with XlsxWriter.

Sheets: 填报说明 (instructions), 进展填报 (one row per item: the id columns are locked, the input
columns have dropdowns and range checks), 指标数据 (for units that report measures), and a very
hidden ``_duban`` sheet holding the plan, unit, period and item ids with their HMAC signature.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path

from openpyxl.utils import get_column_letter
from xlsxwriter.worksheet import Worksheet

from domain.adapters import signing
from domain.adapters.intake.workbook_reader import META_SHEET
from domain.adapters.xlsx_book import Book, Style, Value
from domain.rules.cell_text import looks_like_formula
from domain.rules.glossary import ITEM_STATES, MEASURE_SHEET, PROGRESS_SHEET, zh_date
from domain.rules.intake.rows import MEASURE_COLUMNS, REPORT_COLUMNS
from domain.rules.reporting import LABELS, Cycle
from models.enums import ItemState

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
HEADER_FILL = "DDEBF7"
INPUT_FILL = "FFF2CC"
BORDER = "808080"
"""The thin border's colour, on every side of a table cell."""
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
LINE_POINTS = 15
"""The height of one line of size-11 text, in points."""
MIN_ROW_POINTS = 30
"""A row is at least two lines high: room for a short note written on paper."""
MEASURE_ORDER = ["name", "unit_of_measure", "previous", "value", "measure"]
"""The measure sheet's columns as a person reads them: the Chinese name first; the code that
identifies the measure last and hidden (the reader finds columns by header)."""

GUIDE_TITLE = Style(FONT, 14, bold=True, vertical="top", wrap=True)
GUIDE_LINE = Style(FONT, FONT_SIZE, vertical="top", wrap=True)
TITLE = Style(FONT, 14, bold=True, horizontal="center", vertical="center", wrap=True)
HEADER = Style(
    FONT, FONT_SIZE, True, HEADER_FILL, BORDER, horizontal="center", vertical="center", wrap=True
)
HEADER_INPUT = replace(HEADER, fill=INPUT_FILL)
BODY = Style(FONT, FONT_SIZE, border=BORDER, vertical="center", wrap=True)
FOOTER = f'&C&"{FONT}"第 &P 页，共 &N 页'
"""The printed pages' footer: the page number and the page count, centred, in the body font."""


@dataclass(frozen=True)
class MeasureRow:
    """One measure a unit reports, with its latest value (as the sheet shows it)."""

    code: str
    name: str
    unit_of_measure: str | None
    previous: float | str | None
    yes_no: bool = False
    """Answered 是 or 否 (the cell offers the two)."""


def text_lines(text: str, width: float) -> int:
    """The lines ``text`` wraps to in a column ``width`` characters wide (a Chinese character
    takes two, as in Excel's measure)."""
    room = max(width - 1, 2)
    lines = 0
    for part in text.splitlines() or [""]:
        wide = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in part)
        lines += max(1, math.ceil(wide / room))
    return lines


def write_unit_workbook(
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
    """Write one unit's workbook at ``path``: its ``items`` (id, task, milestone, title, due,
    state, percent) to report on, its ``measures``, signed for ``as_of``."""
    with Book(path) as book:
        _guide(book, unit_name, cycle, coordinator, bool(measures))
        progress = _progress(book, items, _titled(unit_name, "进展填报表", cycle))
        if measures:
            _measure_sheet(book, measures, _titled(unit_name, "指标数据", cycle))
        item_ids = [int(str(i[0])) for i in items]
        _identity(book, signing.payload(plan_id, unit_code, as_of, item_ids))
        progress.activate()


def _titled(unit_name: str, what: str, cycle: Cycle) -> str:
    """A sheet's title: the unit, the reporting period and its deadline."""
    return (
        f"{unit_name} {what}（报送期 {zh_date(cycle.start)}至{zh_date(cycle.end)}，"
        f"本期报送截止 {zh_date(cycle.due)}）"
    )


def _put(book: Book, sheet: Worksheet, row: int, col: int, value: Value, style: Style) -> None:
    """A cell (row and column counted from 1); formula-like text is quote-prefixed
    (:func:`domain.rules.cell_text.put_cell`)."""
    if isinstance(value, str) and looks_like_formula(value):
        style = _quoted(style)
    book.put(sheet, row, col, value, style)


@cache
def _quoted(style: Style) -> Style:
    return replace(style, quote_prefix=True)


Formats = tuple[tuple[int, str], ...]
"""Number formats by column (counted from 1)."""


@cache
def _column_looks(
    columns: tuple[tuple[str, str], ...],
    inputs: frozenset[str],
    formats: tuple[tuple[int, str], ...],
) -> tuple[Style, ...]:
    """Each table column's look: bordered and wrapped; input cells unlocked and yellow (text
    inputs stored as text); ``formats``: number formats by column."""
    looks = []
    for col, (key, _) in enumerate(columns, start=1):
        look = BODY
        if key in inputs:
            text = "@" if key in TEXT_INPUTS else None
            look = replace(BODY, fill=INPUT_FILL, unlocked=True, number_format=text)
        if col in dict(formats):
            look = replace(look, number_format=dict(formats)[col])
        looks.append(look)
    return tuple(looks)


def _print_a4(sheet: Worksheet) -> None:
    """A4 landscape, every column on one page width, centred, narrow margins, page numbers in
    the footer."""
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.75)
    sheet.set_header("", {"margin": 0.3})
    sheet.set_footer(FOOTER, {"margin": 0.35})


def _guide(book: Book, unit_name: str, cycle: Cycle, coordinator: str, has_measures: bool) -> None:
    guide = book.add_sheet("填报说明")
    book.width(guide, 1, 110)
    _print_a4(guide)
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
        _put(book, guide, row, 1, line, GUIDE_TITLE if row == 1 else GUIDE_LINE)


def _table(
    book: Book, name: str, columns: list[tuple[str, str]], inputs: set[str], title: str, width: int
) -> Worksheet:
    """An input sheet with its title row (merged over ``width`` columns), its header row, the
    columns' widths, frozen panes and print settings."""
    sheet = book.add_sheet(name)
    sheet.merge_range(0, 0, 0, width - 1, None, book.look(TITLE))
    _put(book, sheet, 1, 1, title, TITLE)  # after the merge: XlsxWriter's merge takes no text
    for col, (key, label) in enumerate(columns, start=1):
        look = HEADER_INPUT if key in inputs else HEADER
        _put(book, sheet, HEADER_ROW, col, label, look)
        book.width(sheet, col, WIDTHS.get(key, 12))
    book.height(sheet, 1, 42)  # two lines of size 14, when the title wraps
    book.height(sheet, HEADER_ROW, 30)
    sheet.freeze_panes(f"D{HEADER_ROW + 1}")
    _print_a4(sheet)
    sheet.repeat_rows(0, HEADER_ROW - 1)
    return sheet


def _body_row(
    book: Book,
    sheet: Worksheet,
    row: int,
    columns: list[tuple[str, str]],
    inputs: set[str],
    values: list[Value],
    formats: Formats = (),
) -> None:
    """One table row: every column's cell (the values given, the rest empty) bordered and
    wrapped, input cells unlocked and yellow; the row as high as its longest text and room to
    write by hand."""
    lines = 1
    looks = _column_looks(tuple(columns), frozenset(inputs), formats)
    for col, ((key, _), look) in enumerate(zip(columns, looks, strict=True), start=1):
        value = values[col - 1] if col <= len(values) else None
        _put(book, sheet, row, col, value, look)
        if isinstance(value, str):
            lines = max(lines, text_lines(value, WIDTHS.get(key, 12)))
    book.height(sheet, row, max(LINE_POINTS * lines, MIN_ROW_POINTS) + 4)


def _progress(book: Book, items: list[tuple[object, ...]], title: str) -> Worksheet:
    inputs = {"state", "percent", "note", "problem", "next_steps", "evidence"}
    sheet = _table(book, PROGRESS_SHEET, REPORT_COLUMNS, inputs, title, len(REPORT_COLUMNS))
    sheet.protect("", {"format_columns": True, "format_rows": True})
    first = HEADER_ROW + 1
    for row, (item_id, task, milestone, title_, due, state, pct) in enumerate(items, start=first):
        label = ITEM_STATES[ItemState(str(state))]
        values = [item_id, task, milestone, title_, due, label, pct]
        _body_row(book, sheet, row, REPORT_COLUMNS, inputs, values, ((5, "yyyy-mm-dd"),))  # type: ignore[arg-type]
    if items:
        last = len(items) + HEADER_ROW
        states = {"validate": "list", "source": list(LABELS.values())}
        error = "请选择：未开始、推进中、已完成、受阻"
        book.check(sheet, [f"H{first}:H{last}"], states, error)
        percent = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100}
        error = "进度为 0–100 的整数（写 70 或 70% 均可）"
        book.check(sheet, [f"I{first}:I{last}"], percent, error)  # 70% typed is 0.7: read as 70
    return sheet


def _measure_sheet(book: Book, measures: list[MeasureRow], title: str) -> None:
    header = dict(MEASURE_COLUMNS)
    columns = [(f, header[f]) for f in MEASURE_ORDER]
    sheet = _table(book, MEASURE_SHEET, columns, {"value"}, title, len(columns) - 1)
    sheet.protect()
    sheet.freeze_panes(f"B{HEADER_ROW + 1}")
    book.width(sheet, len(columns), WIDTHS["measure"], hidden=True)
    value_column = get_column_letter(MEASURE_ORDER.index("value") + 1)
    yes_no = []
    for row, m in enumerate(measures, start=HEADER_ROW + 1):
        values: list[Value] = [m.name, m.unit_of_measure, m.previous, None, m.code]
        _body_row(book, sheet, row, columns, {"value"}, values)
        if m.yes_no:
            yes_no.append(f"{value_column}{row}")
    if yes_no:
        book.check(sheet, yes_no, {"validate": "list", "source": ["是", "否"]})


def _identity(book: Book, payload: str) -> None:
    plan, unit, period, items = payload.split("|")
    meta = book.add_sheet(META_SHEET)
    meta.very_hidden()
    meta.protect()
    meta.set_margins(left=0.75, right=0.75, top=1, bottom=1)  # Excel's defaults, as before
    meta.set_header("", {"margin": 0.5})
    meta.set_footer("", {"margin": 0.5})
    rows = [
        ("plan", plan),
        ("unit", unit),
        ("period", period),
        ("items", items),
        ("signature", signing.sign(payload)),
    ]
    for row, (label, value) in enumerate(rows, start=1):
        _put(book, meta, row, 1, label, Style())
        _put(book, meta, row, 2, value, Style())
