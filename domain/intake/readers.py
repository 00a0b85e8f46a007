"""Read report files (.xlsx workbooks, .csv, .json) into rows, noting every unreadable cell.

Readers check form only (numbers are numbers, dates parse, states are known, the workbook's
signature holds); whether an item exists and belongs to the unit is checked in
:mod:`domain.intake.check` against the database.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from domain import signing
from domain.intake.rows import (
    HEADER_TO_FIELD,
    INPUT_FIELDS,
    MeasureRow,
    ParsedFile,
    ReportRow,
)
from domain.reporting import parse_report_state

META_SHEET = "_duban"
PROGRESS_SHEET = "进展填报"
MEASURE_SHEET = "指标数据"
YES = {"是", "有", "yes", "y", "true", "1"}
NO = {"否", "无", "no", "n", "false", "0"}


def read_report_file(path: Path) -> ParsedFile:
    """Read any supported report file."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_xlsx(path)
    if suffix == ".csv":
        return read_csv(path)
    if suffix == ".json":
        return read_json(path)
    parsed = ParsedFile(path, suffix.lstrip(".") or "file")
    hint = (
        " (save it as .xlsx: 文件→另存为→Excel 工作簿)" if suffix in {".xls", ".et", ".ods"} else ""
    )
    parsed.problem(
        None, "", f"unsupported file type {suffix or '(none)'}; send .xlsx, .csv or .json{hint}"
    )
    return parsed


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().rstrip("%").strip()
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    if text.lower() in YES:
        return 1.0
    if text.lower() in NO:
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def _date(value: Any) -> date:
    """A date cell: a real date, or text like 2021-12-20, 2021/12/20, 2021.12.20, 2021年12月20日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date like 2025-06-13 or 2025/6/13")


def _report_row(
    parsed: ParsedFile, row: int, values: dict[str, Any], unit: str | None
) -> ReportRow | None:
    """One report row, or None when the unit left it blank; problems go to ``parsed``."""
    if all(_text(values.get(f)) is None for f in INPUT_FIELDS):
        return None
    ok = True
    try:
        item_id = _int(values.get("item"))
    except ValueError as exc:
        parsed.problem(row, "item", str(exc))
        ok = False
    state_text = _text(values.get("state"))
    if state_text is None:
        parsed.problem(row, "state", "state is empty; choose 未开始, 推进中, 已完成 or 受阻")
        ok = False
    else:
        try:
            state = parse_report_state(state_text)
        except ValueError as exc:
            parsed.problem(row, "state", str(exc))
            ok = False
    percent: int | None = None
    if _text(values.get("percent")) is not None:
        try:
            percent = _int(values.get("percent"))
        except ValueError as exc:
            parsed.problem(row, "percent", str(exc))
            ok = False
        else:
            if not 0 <= percent <= 100:
                parsed.problem(row, "percent", f"{percent} is not between 0 and 100")
                ok = False
    if not ok:
        return None
    return ReportRow(
        row=row,
        unit=unit,
        item_id=item_id,
        state=state,
        percent=percent,
        note=_text(values.get("note")),
        problem=_text(values.get("problem")),
        next_steps=_text(values.get("next_steps")),
        evidence=_text(values.get("evidence")),
        milestone=_text(values.get("milestone")),
    )


def _measure_row(
    parsed: ParsedFile, row: int, values: dict[str, Any], unit: str | None
) -> MeasureRow | None:
    if _text(values.get("value")) is None:
        return None
    measure = _text(values.get("measure"))
    if measure is None:
        parsed.problem(row, "measure", "measure code is empty")
        return None
    try:
        return MeasureRow(row=row, unit=unit, measure=measure, value=_number(values["value"]))
    except ValueError as exc:
        parsed.problem(row, "value", str(exc))
        return None


def _map_headers(parsed: ParsedFile, headers: Iterable[Any], row: int) -> list[str | None]:
    fields: list[str | None] = []
    for header in headers:
        text = _text(header)
        fields.append(HEADER_TO_FIELD.get(text) if text else None)
        if text and text not in HEADER_TO_FIELD:
            parsed.problem(row, text, f"unknown column {text!r}")
    return fields


# -- .xlsx --------------------------------------------------------------------------------------
def read_xlsx(path: Path) -> ParsedFile:
    """A workbook made by `duban workbook`: identity checked, then its two input sheets."""
    parsed = ParsedFile(path, "xlsx")
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        parsed.problem(None, "", f"cannot open as an Excel workbook ({exc})")
        return parsed
    if META_SHEET not in book.sheetnames or PROGRESS_SHEET not in book.sheetnames:
        parsed.problem(
            None,
            "",
            "not a duban workbook (its identity sheet is missing); "
            "report with the workbook generated for your unit",
        )
        return parsed
    meta = book[META_SHEET]
    plan, unit, period, items, signature = (
        _text(meta.cell(row=r, column=2).value) for r in range(1, 6)
    )
    try:
        parsed.period = _date(period)
        parsed.signed_items = {int(i) for i in (items or "").split(",") if i}
    except ValueError:
        parsed.problem(None, "", "the workbook's identity sheet is damaged")
        return parsed
    parsed.plan, parsed.unit = plan, unit
    text = signing.payload(plan or "", unit or "", parsed.period, parsed.signed_items)
    if not signature or not signing.verify(text, signature):
        parsed.problem(
            None,
            "",
            "the workbook's signature does not match: it was altered or "
            "made for another unit or period; use the workbook sent to your unit",
        )
        return parsed
    sheet = book[PROGRESS_SHEET]
    rows = sheet.iter_rows(values_only=True)
    fields = _map_headers(parsed, next(rows, ()), 1)
    for number, values in enumerate(rows, start=2):
        record = {f: v for f, v in zip(fields, values, strict=False) if f}
        report = _report_row(parsed, number, record, unit)
        if report is None:
            continue
        if report.item_id not in parsed.signed_items:
            parsed.problem(
                number,
                "item",
                f"item {report.item_id} is not one of this "
                "workbook's items (rows cannot be added by hand)",
            )
            continue
        parsed.reports.append(report)
    if MEASURE_SHEET in book.sheetnames:
        rows = book[MEASURE_SHEET].iter_rows(values_only=True)
        fields = _map_headers(parsed, next(rows, ()), 1)
        for number, values in enumerate(rows, start=2):
            record = {f: v for f, v in zip(fields, values, strict=False) if f}
            measure = _measure_row(parsed, number, record, unit)
            if measure is not None:
                parsed.measures.append(measure)
    return parsed


# -- .csv ---------------------------------------------------------------------------------------
def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, what Chinese Excel saves)."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "gb18030"


def read_csv(path: Path) -> ParsedFile:
    """A CSV of reports (item, unit, state, …) or of measures (unit, measure, value)."""
    parsed = ParsedFile(path, "csv")
    try:
        text, _ = decode(path.read_bytes())
    except UnicodeDecodeError:
        parsed.problem(None, "", "the file is neither UTF-8 nor GB18030/GBK text")
        return parsed
    reader = csv.reader(io.StringIO(text, newline=""))
    fields = _map_headers(parsed, next(reader, []), 1)
    if "unit" not in fields:
        parsed.problem(1, "unit", "a CSV report needs a column 单位代码 (unit)")
        return parsed
    is_measures = "measure" in fields
    if not is_measures and ("item" not in fields or "state" not in fields):
        parsed.problem(
            1,
            "",
            "a CSV report needs columns 事项编号 (item) and 本期状态 (state), "
            "or 指标项代码 (measure) and 本期值 (value)",
        )
        return parsed
    units: set[str] = set()
    periods: set[date] = set()
    for number, values in enumerate(reader, start=2):
        record = {f: v for f, v in zip(fields, values, strict=False) if f}
        if not any(_text(v) for v in values):
            continue
        unit = _text(record.get("unit"))
        if unit is None:
            parsed.problem(number, "unit", "unit is empty")
            continue
        units.add(unit)
        if _text(record.get("period")) is not None:
            try:
                periods.add(_date(record["period"]))
            except ValueError as exc:
                parsed.problem(number, "period", str(exc))
        row = (_measure_row if is_measures else _report_row)(parsed, number, record, unit)
        if isinstance(row, MeasureRow):
            parsed.measures.append(row)
        elif isinstance(row, ReportRow):
            parsed.reports.append(row)
    parsed.unit = next(iter(units)) if len(units) == 1 else None
    if len(units) > 1:
        parsed.problem(
            None, "unit", "one file reports for one unit; found " + ", ".join(sorted(units))
        )
    if len(periods) > 1:
        parsed.problem(None, "period", "one file covers one reporting period")
    parsed.period = next(iter(periods)) if len(periods) == 1 else None
    return parsed


# -- .json --------------------------------------------------------------------------------------
def read_json(path: Path) -> ParsedFile:
    """``{"unit": ..., "period": ..., "reports": [{item, state, ...}], "measures": [...]}``."""
    parsed = ParsedFile(path, "json")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        parsed.problem(line, "", f"not valid JSON ({exc})")
        return parsed
    if not isinstance(data, dict):
        parsed.problem(None, "", "expected an object with unit, period, reports, measures")
        return parsed
    unknown = set(data) - {"plan", "unit", "period", "reports", "measures"}
    for key in sorted(unknown):
        parsed.problem(None, key, f"unknown key {key!r}")
    parsed.plan = _text(data.get("plan"))
    parsed.unit = _text(data.get("unit"))
    if parsed.unit is None:
        parsed.problem(None, "unit", "unit is missing")
    if data.get("period") is not None:
        try:
            parsed.period = _date(data["period"])
        except ValueError as exc:
            parsed.problem(None, "period", str(exc))
    for section, make, target in (
        ("reports", _report_row, parsed.reports),
        ("measures", _measure_row, parsed.measures),
    ):
        entries = data.get(section, [])
        if not isinstance(entries, list):
            parsed.problem(None, section, "expected a list")
            continue
        for index, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                parsed.problem(index, section, "expected an object")
                continue
            row = make(parsed, index, entry, parsed.unit)
            if row is not None:
                target.append(row)  # type: ignore[arg-type]
    return parsed
