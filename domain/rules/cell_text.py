"""Text cells that a spreadsheet never evaluates (OWASP's CSV-injection rule).

A text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is formula-like:
Excel, WPS and LibreOffice may evaluate it. Every text cell duban writes goes through here: in
an .xlsx the cell is typed as a string and quote-prefixed (the text is kept exactly); in a CSV the
text gets a leading apostrophe, which :func:`csv_cell_read` takes off when the file comes back.
"""

from __future__ import annotations

from datetime import date, datetime

from openpyxl.cell.cell import Cell, MergedCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CellValue = str | int | float | date | datetime | None
"""What duban writes into a workbook cell."""


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula (its first character is one of
    :data:`FORMULA_STARTS`)."""
    return text.startswith(FORMULA_STARTS)


def _quoted_formula(text: str) -> bool:
    """Whether ``text`` is formula-like once its leading apostrophes are set aside."""
    return looks_like_formula(text.lstrip("'"))


def csv_cell(value: object) -> object:
    """The value to hand to ``csv.writer``: formula-like text, also behind apostrophes of its
    own (``'=``), gets one more leading apostrophe; any other value is unchanged (numbers stay
    numbers)."""
    if isinstance(value, str) and _quoted_formula(value):
        return "'" + value
    return value


def csv_cell_read(text: str) -> str:
    """The text :func:`csv_cell` was given: before formula-like text, the one apostrophe it
    added is taken off; any other text (an apostrophe typed before ordinary text included) is
    unchanged."""
    if text.startswith("'") and _quoted_formula(text):
        return text[1:]
    return text


def put_cell(cell: Cell | MergedCell, value: CellValue) -> Cell:
    """Store ``value`` in an openpyxl cell; text is always a string cell, never a formula or an
    error code, whatever it begins with. Formula-like text is also marked "quote prefix", so that
    Excel keeps it text even when someone edits the cell."""
    assert isinstance(cell, Cell), "a merged cell takes no value"
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True
    return cell
