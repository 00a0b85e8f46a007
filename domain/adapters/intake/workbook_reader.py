"""Read a workbook made by ``duban workbook`` (.xlsx) from its bytes: its identity sheet, then
its two input sheets, each cell as the person who filled it sees it.

Each input sheet's header row is found among its first rows (the title row above it is the
workbook's own); a merged cell at or below the header is refused, naming the sheet and the
cells, since only its first cell holds a value and the others would be lost silently.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.xml.functions import iterparse

from domain.adapters import signing
from domain.rules.glossary import MEASURE_SHEET, PROGRESS_SHEET
from domain.rules.intake.cells import (
    MAX_ID,
    a_date,
    map_headers,
    measure_row,
    report_row,
    storable,
    text_of,
    whole_number,
)
from domain.rules.intake.rows import HEADER_TO_FIELD, MeasureRow, ParsedFile, ReportRow
from domain.rules.intake.shown import percent_shown, shown_text

META_SHEET = "_duban"
MAX_ROWS = 5_000  # rows per sheet or file; a unit has at most a few hundred items
HEADER_SEARCH = 5
"""The rows searched for an input sheet's header (the workbook puts a title row above it)."""
KEY_FIELD = {PROGRESS_SHEET: "item", MEASURE_SHEET: "measure"}
"""The column whose header marks a sheet's header row."""
NUMBER_FIELDS = frozenset({"percent", "current_percent", "previous", "value"})
"""Columns read as numbers: a number under a percent format is the percent shown."""
DATE_FIELDS = frozenset({"due", "period"})
"""Columns read as dates; every other column is read as the text a cell shows."""
_MERGE_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}mergeCell"
log = logging.getLogger("duban.intake")


@dataclass
class Sheet:
    """One sheet's first rows: values, number formats, and its merged ranges (A1 style)."""

    values: list[tuple[Any, ...]] = field(default_factory=list)
    formats: list[tuple[str | None, ...]] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)


def _merged(archive: zipfile.ZipFile, path: str) -> list[str]:
    """The merged ranges a worksheet's XML declares, read as a stream."""
    out: list[str] = []
    with archive.open(path.lstrip("/")) as source:
        for _, element in iterparse(source):
            if element.tag == _MERGE_TAG and element.get("ref"):
                out.append(str(element.get("ref")))
            element.clear()
    return out


def xlsx_sheets(data: bytes) -> dict[str, Sheet] | None:
    """The sheets duban reads (at most MAX_ROWS + 2 rows each), or None when the workbook
    cannot be read at all."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets: dict[str, Sheet] = {}
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in (META_SHEET, PROGRESS_SHEET, MEASURE_SHEET):
                    if name not in book.sheetnames:
                        continue
                    sheet = Sheet()
                    rows = book[name].iter_rows()
                    for _, cells in zip(range(MAX_ROWS + 2), rows, strict=False):
                        sheet.values.append(tuple(c.value for c in cells))
                        sheet.formats.append(tuple(c.number_format for c in cells))
                    if name != META_SHEET:
                        # a read-only sheet knows its part's path under a private name only
                        part = str(vars(book[name])["_worksheet_path"])
                        sheet.merged = _merged(archive, part)
                    sheets[name] = sheet
            return sheets
        finally:
            book.close()
    # openpyxl raises whatever its XML and zip layers raise on a damaged or hostile file
    # (ParseError, KeyError, TypeError, defusedxml's EntitiesForbidden, …): all mean "unreadable"
    except Exception as exc:
        log.info("收件箱：工作簿无法读取（%s）", type(exc).__name__)
        return None


def read_xlsx(path: Path, data: bytes) -> ParsedFile:
    """A workbook made by `duban workbook`: identity checked, then its two input sheets."""
    parsed = ParsedFile(path, "xlsx")
    sheets = xlsx_sheets(data)
    if sheets is None:
        parsed.problem(
            None,
            "",
            "无法作为 Excel 工作簿打开（文件损坏或不是 .xlsx）；"
            "请用 Excel/WPS 另存为 .xlsx 后重新报送",
        )
        return parsed
    if META_SHEET not in sheets or PROGRESS_SHEET not in sheets:
        parsed.problem(None, "", "不是督办系统生成的台账（缺少身份页）；请用发给本单位的台账填报")
        return parsed
    if not _identity(parsed, sheets[META_SHEET]):
        return parsed
    _input_sheet(parsed, PROGRESS_SHEET, sheets[PROGRESS_SHEET], report_row)
    if MEASURE_SHEET in sheets:
        _input_sheet(parsed, MEASURE_SHEET, sheets[MEASURE_SHEET], measure_row)
    return parsed


def _identity(parsed: ParsedFile, meta: Sheet) -> bool:
    """Read the identity sheet and check its signature; False (a problem recorded) if broken."""
    cells = [*(r[1] if len(r) > 1 else None for r in meta.values[:5]), *[None] * 5]
    plan, unit, period, items, signature = (text_of(v) for v in cells[:5])
    broken = "台账的身份页已损坏；请用发给本单位的台账填报"
    try:
        parsed.period = a_date(period)
        parsed.signed_items = {
            whole_number(i, low=1, high=MAX_ID) for i in (items or "").split(",") if i
        }
    except ValueError:
        parsed.problem(None, "", broken)
        return False
    if any(v is not None and storable(v) for v in (plan, unit, signature)):
        parsed.problem(None, "", broken)
        return False
    parsed.plan, parsed.unit = plan, unit
    text = signing.payload(plan or "", unit or "", parsed.period, parsed.signed_items)
    if not signature or not signing.verify(text, signature):
        parsed.problem(
            None,
            "",
            "台账签名不符：表格被改动，或是为其他单位、其他报送期生成的；请用发给本单位的台账",
        )
        return False
    parsed.signed = True
    return True


def header_row(values: list[tuple[Any, ...]], key: str) -> int | None:
    """The index of the first of the first :data:`HEADER_SEARCH` rows with the ``key`` column's
    header (Chinese or English), or None."""
    for index, row in enumerate(values[:HEADER_SEARCH]):
        if any(HEADER_TO_FIELD.get(text_of(v) or "") == key for v in row):
            return index
    return None


def _input_sheet(
    parsed: ParsedFile,
    name: str,
    sheet: Sheet,
    make: Callable[[ParsedFile, int, dict[str, Any], str | None], ReportRow | MeasureRow | None],
) -> None:
    """Read one input sheet's rows below its header into ``parsed`` (problems named by sheet
    when it is not the main one; merged cells refused)."""
    parsed.sheet = None if name == PROGRESS_SHEET else name
    try:
        _sheet_rows(parsed, name, sheet, make)
    finally:
        parsed.sheet = None


def _sheet_rows(
    parsed: ParsedFile,
    name: str,
    sheet: Sheet,
    make: Callable[[ParsedFile, int, dict[str, Any], str | None], ReportRow | MeasureRow | None],
) -> None:
    if len(sheet.values) > MAX_ROWS + 1:
        parsed.problem(None, "", f"表格超过 {MAX_ROWS} 行；请只保留本单位的事项")
        return
    top = header_row(sheet.values, KEY_FIELD[name])
    if top is None:
        header = "事项编号" if name == PROGRESS_SHEET else "指标项代码"
        parsed.problem(
            None, "", f"“{name}”表前{HEADER_SEARCH}行中找不到表头（“{header}”列）；请用原表填报"
        )
        return
    refused = False
    for ref in sheet.merged:
        cells = CellRange(ref)
        if cells.max_row >= top + 1:  # touches the header row or the rows below it
            parsed.problem(
                cells.min_row,
                "",
                f"“{name}”表 {ref} 是合并单元格：合并后只保留第一格的内容，其余会丢失；"
                "请取消合并，每个事项（指标项）各占一行分别填写",
            )
            refused = True
    if refused:
        return
    fields = map_headers(parsed, sheet.values[top], top + 1)
    rows = zip(sheet.values[top + 1 :], sheet.formats[top + 1 :], strict=True)
    for number, (values, formats) in enumerate(rows, start=top + 2):
        record = {
            f: _shown(f, v, fmt) for f, v, fmt in zip(fields, values, formats, strict=False) if f
        }
        row = make(parsed, number, record, parsed.unit)
        signed = parsed.signed_items
        if isinstance(row, ReportRow) and signed is not None and row.item_id not in signed:
            parsed.problem(number, "item", f"事项 {row.item_id} 不在本台账内（不能手工添加行）")
            continue
        parsed.add(row)


def _shown(column: str, value: Any, number_format: str | None) -> Any:
    """A cell of ``column`` as the person sees it: a percent as its number, a date or time in a
    text column as its text."""
    if column in DATE_FIELDS:
        return value
    if column in NUMBER_FIELDS:
        return percent_shown(value, number_format)
    return shown_text(value, number_format)
