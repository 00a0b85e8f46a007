"""Read report files (.xlsx workbooks, .csv, .json) from their bytes into rows (workbooks in
:mod:`domain.adapters.intake.workbook_reader`).

Readers check form only (numbers are numbers, dates parse, states are known) and identity: the
workbook's signature, or each CSV/JSON template row's 签名 (:mod:`domain.adapters.intake.identity`).
Whether
an item exists and belongs to the unit is checked in :mod:`domain.queries.report_landing`. A reader
never
raises for what a file holds: everything wrong becomes a problem on the :class:`ParsedFile`.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from domain.adapters.intake.identity import row_key, settle_identity, sign_check
from domain.adapters.intake.workbook_reader import MAX_ROWS, read_xlsx
from domain.rules.cell_text import csv_cell_read
from domain.rules.intake.cells import (
    MAX_INT_DIGITS,
    a_date,
    checked_text,
    excerpt,
    map_headers,
    measure_row,
    report_row,
    storable,
    text_of,
    unit_code,
)
from domain.rules.intake.rows import ParsedFile


def read_report_file(path: Path, data: bytes, *, plan_id: str) -> ParsedFile:
    """Read any supported report file from its bytes; ``path`` names it in the problems and
    ``plan_id`` is the plan the CSV/JSON template rows must be signed for."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_xlsx(path, data)
    if suffix == ".csv":
        return read_csv(path, data, plan_id=plan_id)
    if suffix == ".json":
        return read_json(path, data, plan_id=plan_id)
    parsed = ParsedFile(path, "file")
    hint = (
        "（请用 文件→另存为→Excel 工作簿 存为 .xlsx）" if suffix in {".xls", ".et", ".ods"} else ""
    )
    parsed.problem(
        None,
        "",
        f"不支持的文件类型 {excerpt(suffix or '（无扩展名）')}；请报送 .xlsx、.csv 或 .json{hint}",
    )
    return parsed


# -- .csv ---------------------------------------------------------------------------------------
def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, what Chinese Excel saves)."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "gb18030"


def read_csv(path: Path, data: bytes, *, plan_id: str) -> ParsedFile:
    """A CSV of reports (item, unit, state, …) or of measures (unit, measure, value)."""
    parsed = ParsedFile(path, "csv")
    try:
        text, _ = decode(data)
    except UnicodeDecodeError:
        parsed.problem(None, "", "文件编码无法识别：请存为 UTF-8 或 GBK（GB18030）编码的 CSV")
        return parsed
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        _csv_rows(parsed, reader, plan_id)
    except csv.Error:
        parsed.problem(
            reader.line_num, "", "无法读取此行：单元格过长（超过 131072 字）或引号不成对"
        )
    return parsed


# one table read top to bottom: its branches are its columns
def _csv_rows(parsed: ParsedFile, reader: Any, plan_id: str) -> None:
    fields = map_headers(parsed, next(reader, []), 1)
    if "unit" not in fields:
        parsed.problem(1, "unit", "CSV 报送须有“单位代码”列（unit）")
        return
    is_measures = "measure" in fields
    if not is_measures and ("item" not in fields or "state" not in fields):
        parsed.problem(
            1, "", "CSV 报送须有“事项编号”和“本期状态”两列，或“指标项代码”和“本期值”两列"
        )
        return
    units: set[str] = set()
    periods: set[date] = set()
    signed: list[int] = []
    unsigned: list[int] = []
    for number, values in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            parsed.problem(None, "", f"文件超过 {MAX_ROWS} 行；请只保留本单位的事项")
            return
        # the apostrophe duban's template put before formula-like text is not the unit's
        record = {f: csv_cell_read(v) for f, v in zip(fields, values, strict=False) if f}
        if not any(text_of(v) for v in values):
            continue
        unit = checked_text(parsed, number, "unit", record.get("unit"))
        if unit is None:
            if text_of(record.get("unit")) is None:
                parsed.problem(number, "unit", "单位代码未填")
            continue
        unit = unit_code(unit)
        units.add(unit)
        period = None
        if text_of(record.get("period")) is not None:
            try:
                period = a_date(record["period"])
                periods.add(period)
            except ValueError as exc:
                parsed.problem(number, "period", str(exc))
        holds = sign_check(
            parsed,
            number,
            plan_id=plan_id,
            unit=unit,
            period=period,
            key=row_key(record, is_measures),
            signature=record.get("signature"),
        )
        (unsigned if holds is None else signed).append(number)
        parsed.add((measure_row if is_measures else report_row)(parsed, number, record, unit))
    settle_identity(parsed, signed, unsigned)
    parsed.unit = next(iter(units)) if len(units) == 1 else None
    if len(units) > 1:
        shown = "、".join(excerpt(u) for u in sorted(units)[:5])
        parsed.problem(None, "unit", f"一个文件只能报送一个单位；文件中有 {len(units)} 个：{shown}")
    if len(periods) > 1:
        parsed.problem(None, "period", "一个文件只能报送一个报送期")
    parsed.period = next(iter(periods)) if len(periods) == 1 else None


# -- .json --------------------------------------------------------------------------------------
class _RefusedError(ValueError):
    """A JSON document that parses but cannot be taken (its message is the Chinese reason)."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise _RefusedError(f"同一对象中的键重复出现：{'、'.join(excerpt(k) for k in twice[:3])}")
    return dict(pairs)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _RefusedError(f"整数 {excerpt(text)} 位数过多")
    return int(text)


def _no_constant(text: str) -> float:
    raise _RefusedError(f"{text} 不是有效数值")


def _unstorable(data: Any) -> tuple[str, str] | None:
    """The first string (key or value) that cannot be stored: (where, why), or None."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            why = storable(value)
            if why is not None and not why.startswith("内容过长"):  # long text: named per cell
                return where, why
        elif isinstance(value, dict):
            for key, inner in value.items():
                why = storable(key)
                if why is not None:
                    return where or "(键)", why
                stack.append((f"{where}.{key}" if where else key, inner))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i + 1}]", v) for i, v in enumerate(value))
    return None


def read_json(path: Path, data: bytes, *, plan_id: str) -> ParsedFile:  # noqa: PLR0911 - one exit per refusal
    """``{"unit", "period", "reports": [{item, state, …, signature}], "measures": [...]}``."""
    parsed = ParsedFile(path, "json")
    try:
        document = json.loads(
            data.decode("utf-8-sig"),
            object_pairs_hook=_no_duplicate_keys,
            parse_int=_bounded_int,
            parse_constant=_no_constant,
        )
    except UnicodeDecodeError:
        parsed.problem(None, "", "JSON 文件须为 UTF-8 编码")
        return parsed
    except _RefusedError as exc:
        parsed.problem(None, "", str(exc))
        return parsed
    except json.JSONDecodeError as exc:
        parsed.problem(
            None, "", f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）"
        )
        return parsed
    except RecursionError:
        parsed.problem(None, "", "JSON 嵌套层数过多")
        return parsed
    bad = _unstorable(document)
    if bad is not None:
        parsed.problem(None, bad[0][:60], bad[1])
        return parsed
    if not isinstance(document, dict):
        parsed.problem(None, "", '应为一个对象：{"unit", "period", "reports", "measures"}')
        return parsed
    _json_document(parsed, document, plan_id)
    return parsed


def _json_document(parsed: ParsedFile, document: dict[str, Any], plan_id: str) -> None:
    for key in sorted(set(document) - {"plan", "unit", "period", "reports", "measures"})[:10]:
        parsed.problem(None, "", f"未知的键 {excerpt(key)}")
    parsed.plan = checked_text(parsed, None, "plan", document.get("plan"))
    parsed.unit = checked_text(parsed, None, "unit", document.get("unit"))
    if parsed.unit is None and document.get("unit") is None:
        parsed.problem(None, "unit", "缺少 unit（单位代码）")
    if document.get("period") is not None:
        try:
            parsed.period = a_date(document["period"])
        except ValueError as exc:
            parsed.problem(None, "period", str(exc))
    signed: list[int] = []
    unsigned: list[int] = []
    for section, make in (("reports", report_row), ("measures", measure_row)):
        entries = document.get(section, [])
        if not isinstance(entries, list):
            parsed.problem(None, section, "应为列表")
            continue
        if len(entries) > MAX_ROWS:
            parsed.problem(None, section, f"超过 {MAX_ROWS} 条；请只保留本单位的事项")
            continue
        for index, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                parsed.problem(index, section, "应为一个对象")
                continue
            holds = sign_check(
                parsed,
                index,
                plan_id=plan_id,
                unit=parsed.unit,
                period=parsed.period,
                key=row_key(entry, section == "measures"),
                signature=entry.get("signature"),
            )
            (unsigned if holds is None else signed).append(index)
            parsed.add(make(parsed, index, entry, parsed.unit))
    settle_identity(parsed, signed, unsigned)
