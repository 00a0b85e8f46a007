"""A workbook cell as the person who filled it sees it: a number under a percent format is the
percent shown (0.7 under ``0%`` is 70), and a date or time that a spreadsheet made of what was
typed into a text column is the text shown (``2021-12-20``, not ``2021-12-20 00:00:00``)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

PERCENT_DIGITS = 9
"""Digits kept after scaling a percent: 0.7 × 100 is 70.00000000000001 in binary floating point."""

_SECTIONS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|;')
_TOKENS = re.compile(r'"[^"]*"|\\.|yyyy|yy|mmmm|mmm|mm|m|dd|d|hh|h|ss|s|am/pm|.', re.IGNORECASE)
_BUILTIN_DATE = {"mm-dd-yy", "m/d/yy", "d-mmm-yy", "d-mmm", "mmm-yy", "m/d/yy h:mm"}
"""openpyxl's names for Excel's built-in, locale-dependent date formats (ids 14–17, 22): shown
here the way the plan's readers write dates, ``2021-12-20``."""


def is_percent_format(number_format: str | None) -> bool:
    """Whether a number format shows numbers as percents (a ``%`` outside quotes)."""
    if not number_format:
        return False
    return "%" in _SECTIONS.sub("", number_format)  # quoted text and tags set aside


def percent_shown(value: Any, number_format: str | None) -> Any:
    """A number under a percent format as the percent it shows (0.7 → 70.0); any other value as
    it is."""
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and is_percent_format(number_format)
    ):
        return round(value * 100, PERCENT_DIGITS)
    return value


def _first_section(number_format: str) -> str:
    """The part of a format used for positive numbers, without colours and locale tags."""
    for match in _SECTIONS.finditer(number_format):
        if match.group() == ";":
            number_format = number_format[: match.start()]
            break
    return re.sub(r"\[[^\]]*\]", "", number_format)


def _render(moment: datetime, number_format: str) -> str:
    """``moment`` in a date/time format's own tokens (m after h, or before s, is minutes)."""
    tokens = _TOKENS.findall(_first_section(number_format))
    out: list[str] = []
    for i, token in enumerate(tokens):
        low = token.lower()
        before = next((t.lower() for t in reversed(tokens[:i]) if t.strip(" :")), "")
        after = next((t.lower() for t in tokens[i + 1 :] if t.strip(" :")), "")
        minutes = low in {"m", "mm"} and (before.startswith("h") or after.startswith("s"))
        if low == "yyyy":
            out.append(f"{moment.year:04d}")
        elif low == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif minutes:
            out.append(f"{moment.minute:02d}" if low == "mm" else str(moment.minute))
        elif low in {"mm", "m"}:
            out.append(f"{moment.month:02d}" if low == "mm" else str(moment.month))
        elif low in {"dd", "d"}:
            out.append(f"{moment.day:02d}" if low == "dd" else str(moment.day))
        elif low in {"hh", "h"}:
            out.append(f"{moment.hour:02d}" if low == "hh" else str(moment.hour))
        elif low in {"ss", "s"}:
            out.append(f"{moment.second:02d}" if low == "ss" else str(moment.second))
        elif token.startswith('"'):
            out.append(token[1:-1])
        elif token.startswith("\\"):
            out.append(token[1:])
        else:
            out.append(token)
    return "".join(out).strip()


def shown_text(value: Any, number_format: str | None) -> Any:
    """A date, time or percent in a text column as the text the cell shows; any other value as
    it is. A format duban cannot read gives ``2021-12-20`` (with ``09:30`` when there is a
    time of day)."""
    fmt = number_format or "General"
    if isinstance(value, datetime | date | time):
        moment = (
            value
            if isinstance(value, datetime)
            else datetime.combine(value, time())
            if isinstance(value, date)
            else datetime.combine(date(1900, 1, 1), value)
        )
        if fmt.lower() not in _BUILTIN_DATE and re.search(r"[ymdhs]", fmt, re.IGNORECASE):
            return _render(moment, fmt)
        if isinstance(value, time):
            return value.strftime("%H:%M") if not value.second else value.strftime("%H:%M:%S")
        day = moment.date().isoformat()
        return day if moment.time() == time() else f"{day} {moment:%H:%M}"
    if is_percent_format(fmt) and isinstance(value, int | float) and not isinstance(value, bool):
        scaled = round(value * 100, PERCENT_DIGITS)
        return f"{scaled:g}%"
    return value
