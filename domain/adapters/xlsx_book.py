"""A workbook being written with XlsxWriter, as duban's workbooks use it: cells described by a
:class:`Style` (one XlsxWriter format per style), text always a string cell, column widths as
stored in the file, data validations over several ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from types import TracebackType
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

Value = str | int | float | date | None
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
"""Characters XML 1.0 cannot hold (openpyxl refuses them too)."""
DIGIT_PIXELS = 7
"""The pixels of one digit of the default font: a stored column width counts them."""

POINTS_PER_PIXEL = 0.75
"""A row's height in points per pixel, as XlsxWriter counts it."""


@dataclass(frozen=True)
class Style:
    """One cell's look."""

    font: str = "Calibri"
    size: float = 11
    bold: bool = False
    fill: str | None = None  # solid fill, RGB hex
    border: str | None = None  # thin border on every side, RGB hex
    horizontal: str | None = None
    vertical: str | None = None  # top or center
    wrap: bool = False
    unlocked: bool = False
    number_format: str | None = None
    quote_prefix: bool = False


DEFAULT = Style()


class Book:
    """A workbook written to ``path`` when the ``with`` block ends (not if it raised)."""

    def __init__(self, path: Path) -> None:
        self._book = xlsxwriter.Workbook(
            str(path),
            {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False},
        )
        self._looks: dict[Style, Format | None] = {DEFAULT: None}

    def __enter__(self) -> Book:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self._book.close()

    def add_sheet(self, name: str) -> Worksheet:
        return self._book.add_worksheet(name)

    def look(self, style: Style) -> Format | None:
        """The workbook's format for ``style`` (none for the default look)."""
        if style in self._looks:
            return self._looks[style]
        props: dict[str, Any] = {"font_name": style.font, "font_size": style.size}
        if style.bold:
            props["bold"] = True
        if style.fill:
            props |= {"pattern": 1, "fg_color": "#" + style.fill}
        if style.border:
            props |= {"border": 1, "border_color": "#" + style.border}
        if style.horizontal:
            props["align"] = style.horizontal
        if style.vertical:
            props["valign"] = "vcenter" if style.vertical == "center" else style.vertical
        if style.wrap:
            props["text_wrap"] = True
        if style.unlocked:
            props["locked"] = False
        if style.number_format:
            props["num_format"] = style.number_format
        if style.quote_prefix:
            props["quote_prefix"] = True
        found = self._looks[style] = self._book.add_format(props)
        return found

    def put(self, sheet: Worksheet, row: int, col: int, value: Value, style: Style) -> None:
        """One cell, its row and column counted from 1: text is always a string cell (an empty
        text an empty cell, its line breaks ``\\n``), a date a date serial number."""
        look = self.look(style)
        r, c = row - 1, col - 1
        if value is None or value == "":
            sheet.write_blank(r, c, None, look)
        elif isinstance(value, str):
            if _ILLEGAL.search(value):
                raise ValueError(f"text a workbook cannot hold: {value[:40]!r}")
            if "\r" in value:  # a line break is Excel's \n (as XML reads CR LF and CR)
                value = value.replace("\r\n", "\n").replace("\r", "\n")
            sheet.write_string(r, c, value, look)
        elif isinstance(value, date):
            moment = value if isinstance(value, datetime) else datetime.combine(value, time())
            sheet.write_datetime(r, c, moment, look)
        elif isinstance(value, bool):
            raise TypeError("a workbook cell takes no bool here")
        else:
            sheet.write_number(r, c, value, look)

    def width(self, sheet: Worksheet, col: int, width: int, *, hidden: bool = False) -> None:
        """Column ``col`` (counted from 1) ``width`` digits wide as the file stores it (the
        width Excel shows is about 0.7 less: XlsxWriter's ``set_column`` adds that padding)."""
        options = {"hidden": True} if hidden else None
        sheet.set_column_pixels(col - 1, col - 1, width * DIGIT_PIXELS, None, options)

    def height(self, sheet: Worksheet, row: int, points: float) -> None:
        """Row ``row`` (counted from 1) ``points`` high, exactly (``set_row`` rounds to whole
        pixels)."""
        sheet.set_row_pixels(row - 1, points / POINTS_PER_PIXEL)

    def check(
        self, sheet: Worksheet, ranges: list[str], rule: dict[str, Any], error: str | None = None
    ) -> None:
        """A data validation ``rule`` (XlsxWriter's options) over the cells of ``ranges``, blank
        allowed, no input message; ``error`` shown when a value breaks it."""
        options = rule | {"ignore_blank": True, "show_input": False, "show_error": bool(error)}
        if error:
            options["error_message"] = error
        if len(ranges) > 1:
            options["multi_range"] = " ".join(ranges)
        sheet.data_validation(ranges[0], options)
