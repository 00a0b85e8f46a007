"""Reading one cell or row of a report file: form only, ranges bounded, nothing echoed whole.

Every value a reader takes is checked here: whole numbers fit a 64-bit integer, numbers are
finite, text can be stored (UTF-8, no NUL) and is not absurdly long, dates parse. A message
quotes at most :data:`EXCERPT_CHARS` characters of what the file said.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from domain.rules.intake.rows import (
    HEADER_TO_FIELD,
    INPUT_FIELDS,
    MeasureRow,
    ParsedFile,
    ReportRow,
)
from domain.rules.reporting import LABELS, parse_report_state

EXCERPT_CHARS = 30
MAX_TEXT_CHARS = 10_000  # one cell's text (a narrative runs to a few hundred characters)
MAX_ID = 2**63 - 1  # item ids are 64-bit integers in every database duban runs on
MAX_INT_DIGITS = 20  # more digits than any 64-bit integer: refused before it is parsed
MAX_VALUE = 1e15  # a measure value beyond this is a typing mistake, not a county's figure
YES = {"是", "有", "yes", "y", "true", "1"}
NO = {"否", "无", "no", "n", "false", "0"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
STATE_CHOICES = "、".join(LABELS.values())


def excerpt(value: Any) -> str:
    """At most 30 characters of what the file said, quoted, control characters shown as ␣-like
    marks, with an ellipsis when cut."""
    text = value if isinstance(value, str) else repr(value)
    shown = "".join(
        "\ufffd" if unicodedata.category(c) in {"Cc", "Cs"} else c
        for c in text[: EXCERPT_CHARS + 1]
    )
    if len(text) > EXCERPT_CHARS:
        shown = shown[:EXCERPT_CHARS] + "…"
    return f"“{shown}”"


def storable(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None: it must encode as UTF-8, hold no NUL and fit."""
    if "\x00" in text:
        return "含有空字符（NUL），请删去后重新保存"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "含有无法保存的字符（孤立的代理项），请重新输入这一格"
    if len(text) > MAX_TEXT_CHARS:
        return f"内容过长（{len(text)} 字，最多 {MAX_TEXT_CHARS} 字）"
    return None


def text_of(value: Any) -> str | None:
    """A cell as stripped text, None when blank (no checks: see :func:`checked_text`)."""
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, str | int | float | date) else repr(value)
    return text or None


def unit_code(text: str) -> str:
    """The unit code of a 单位代码 cell: the template writes ``530521101001（甸阳镇）`` so
    that Excel keeps the long code as text; the name in brackets (either width) is dropped."""
    for opening, closing in (("（", "）"), ("(", ")")):
        code, found, rest = text.partition(opening)
        if found and rest.endswith(closing) and code.strip():
            return code.strip()
    return text


def checked_text(parsed: ParsedFile, row: int | None, column: str, value: Any) -> str | None:
    """A text cell, or None with a problem recorded when it is not text or cannot be stored."""
    if isinstance(value, dict | list):
        parsed.problem(row, column, "应为文字，不能是列表或对象")
        return None
    text = text_of(value)
    if text is None:
        return None
    why = storable(text)
    if why is not None:
        parsed.problem(row, column, why)
        return None
    return text


def whole_number(value: Any, *, low: int, high: int) -> int:
    """A whole number within [low, high]; ValueError with a Chinese message otherwise."""
    if isinstance(value, bool | dict | list):
        raise ValueError(f"{excerpt(value)} 不是整数")
    number: int
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{excerpt(value)} 不是整数")
        number = int(value)
    else:
        text = str(value).strip().rstrip("%").strip()
        if not (text.lstrip("+-").isdigit() and text.isascii()):
            raise ValueError(f"{excerpt(value)} 不是整数")
        if len(text) > MAX_INT_DIGITS:
            raise ValueError(f"{excerpt(value)} 超出范围（应在 {low}–{high} 之间）")
        number = int(text)
    if not low <= number <= high:
        raise ValueError(f"{excerpt(value)} 超出范围（应在 {low}–{high} 之间）")
    return number


def number(value: Any) -> float:
    """A finite number (是/否 as 1/0); ValueError with a Chinese message otherwise."""
    if isinstance(value, dict | list):
        raise ValueError(f"{excerpt(value)} 不是数字")
    if isinstance(value, bool):
        result = float(value)
    elif isinstance(value, int | float):
        if isinstance(value, int) and abs(value) > MAX_VALUE:
            raise ValueError(f"{excerpt(value)} 超出范围")
        result = float(value)
    else:
        text = str(value).strip().replace(",", "").replace("，", "")
        if text.lower() in YES:
            return 1.0
        if text.lower() in NO:
            return 0.0
        if len(text) > 40:
            raise ValueError(f"{excerpt(value)} 不是数字")
        try:
            result = float(text)
        except ValueError:
            raise ValueError(f"{excerpt(value)} 不是数字") from None
    if not math.isfinite(result) or abs(result) > MAX_VALUE:
        raise ValueError(f"{excerpt(value)} 超出范围")
    return result


def a_date(value: Any) -> date:
    """A date cell: a real date, or text like 2021-12-20, 2021/12/20, 2021.12.20, 2021年12月20日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip() if isinstance(value, str | int) else ""
    for pattern in DATE_FORMATS if len(text) <= 20 else ():
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(f"{excerpt(value)} 不是日期，应写作 2025-06-13 或 2025/6/13")


def report_row(
    parsed: ParsedFile, row: int, values: dict[str, Any], unit: str | None
) -> ReportRow | None:
    """One report row, or None when the unit left it blank; problems go to ``parsed``."""
    if all(text_of(values.get(f)) is None for f in INPUT_FIELDS):
        return None
    before = len(parsed.problems)
    item_id = 0
    try:
        item_id = whole_number(values.get("item"), low=1, high=MAX_ID)
    except ValueError as exc:
        parsed.problem(row, "item", str(exc))
    state = None
    state_text = checked_text(parsed, row, "state", values.get("state"))
    if state_text is None and text_of(values.get("state")) is None:
        parsed.problem(row, "state", f"本期状态未填；请选 {STATE_CHOICES}")
    elif state_text is not None:
        try:
            state = parse_report_state(state_text)
        except ValueError:
            parsed.problem(
                row, "state", f"{excerpt(state_text)} 不是可选的状态；请选 {STATE_CHOICES}"
            )
    percent: int | None = None
    if text_of(values.get("percent")) is not None:
        try:
            percent = whole_number(values.get("percent"), low=0, high=100)
        except ValueError as exc:
            parsed.problem(row, "percent", str(exc))
    texts = {
        f: checked_text(parsed, row, f, values.get(f))
        for f in ("note", "problem", "next_steps", "evidence", "milestone")
    }
    if len(parsed.problems) > before or state is None:
        return None
    return ReportRow(
        row=row,
        unit=unit,
        item_id=item_id,
        state=state,
        percent=percent,
        note=texts["note"],
        problem=texts["problem"],
        next_steps=texts["next_steps"],
        evidence=texts["evidence"],
        milestone=texts["milestone"],
    )


def measure_row(
    parsed: ParsedFile, row: int, values: dict[str, Any], unit: str | None
) -> MeasureRow | None:
    """One measure row, or None when its value is blank; problems go to ``parsed``."""
    if text_of(values.get("value")) is None:
        return None
    measure = checked_text(parsed, row, "measure", values.get("measure"))
    if measure is None:
        if text_of(values.get("measure")) is None:
            parsed.problem(row, "measure", "指标项代码未填")
        return None
    try:
        return MeasureRow(row=row, unit=unit, measure=measure, value=number(values["value"]))
    except ValueError as exc:
        parsed.problem(row, "value", str(exc))
        return None


def map_headers(parsed: ParsedFile, headers: Iterable[Any], row: int) -> list[str | None]:
    """The field each column holds (None for a blank header); unknown headers are problems."""
    fields: list[str | None] = []
    for header in headers:
        text = text_of(header)
        fields.append(HEADER_TO_FIELD.get(text) if text else None)
        if text and text not in HEADER_TO_FIELD:
            parsed.problem(row, "", f"未知的列名 {excerpt(text)}")
    return fields
