"""A small .xlsx writer: sheets of styled cells written straight to SpreadsheetML.

It writes what duban's workbooks use and nothing else — text (always a string cell, inline),
numbers, dates, empty styled cells; fonts, fills, thin borders, alignment, protection, number
formats and the quote prefix; column widths, row heights, merged cells, frozen panes, list and
range checks, sheet protection, hidden sheets, print settings and print titles — the way
openpyxl reads them back, about twenty times faster than building the workbook with openpyxl.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter
from openpyxl.writer.theme import theme_xml

from domain.adapters.xlsx_parts import APP, CORE, ROOT_RELS, content_types, workbook_rels

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
"""Characters XML 1.0 cannot hold (openpyxl refuses them too)."""
EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Style:
    """One cell's look."""

    font: str = "Calibri"
    size: float = 11
    bold: bool = False
    fill: str | None = None  # solid fill, RGB hex
    border: str | None = None  # thin border on every side, RGB hex
    horizontal: str | None = None
    vertical: str | None = None
    wrap: bool = False
    unlocked: bool = False
    number_format: str | None = None
    quote_prefix: bool = False


DEFAULT = Style()


@dataclass(frozen=True)
class Validation:
    """A data validation: ``kind`` list (``formula1`` the quoted choices) or decimal between
    ``formula1`` and ``formula2``, over the cells of ``ranges``."""

    kind: str
    formula1: str
    ranges: tuple[str, ...]
    formula2: str | None = None
    error: str | None = None


Value = str | int | float | date | None


@dataclass
class Sheet:
    """A sheet being written: cells by (row, column), both counted from 1."""

    name: str
    cells: dict[tuple[int, int], tuple[Value, Style]] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    widths: dict[int, float] = field(default_factory=dict)
    hidden_columns: set[int] = field(default_factory=set)
    merged: list[str] = field(default_factory=list)
    freeze: str | None = None  # the top-left cell of the unfrozen part, e.g. "D3"
    validations: list[Validation] = field(default_factory=list)
    protected: bool = False
    format_rows_columns: bool = False  # a protected sheet's rows and columns may be resized
    very_hidden: bool = False
    landscape_a4: bool = False  # A4 landscape, one page wide, centred, page numbers below
    footer_font: str = ""
    print_rows: str | None = None  # rows repeated on every printed page, e.g. "1:2"

    def put(self, row: int, column: int, value: Value, style: Style = DEFAULT) -> None:
        self.cells[(row, column)] = (value, style)


def write_xlsx(path: Path, sheets: list[Sheet], *, active: int = 0) -> None:
    """Write ``sheets`` as one workbook at ``path``, sheet ``active`` shown first."""
    styles = _Styles()
    parts = [_sheet_xml(sheet, styles) for sheet in sheets]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    buffer = io.BytesIO(_fixed_parts(len(sheets)))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as book:
        book.writestr("docProps/core.xml", CORE.format(now=now))
        book.writestr("xl/workbook.xml", _workbook_xml(sheets, active))
        book.writestr("xl/styles.xml", styles.xml())
        for n, part in enumerate(parts, start=1):
            book.writestr(f"xl/worksheets/sheet{n}.xml", part)
    path.write_bytes(buffer.getvalue())


@cache
def _fixed_parts(sheets: int) -> bytes:
    """The parts every workbook of ``sheets`` sheets shares, zipped once (the theme is most)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", content_types(sheets))
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("docProps/app.xml", APP)
        book.writestr("xl/_rels/workbook.xml.rels", workbook_rels(sheets))
        book.writestr("xl/theme/theme1.xml", theme_xml)
    return buffer.getvalue()


def _text(value: str) -> str:
    if _ILLEGAL.search(value):
        raise ValueError(f"text a workbook cannot hold: {value[:40]!r}")
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f"<t{space}>{escape(value)}</t>"


def _cell(ref: str, value: Value, style_id: int) -> str:
    s = f' s="{style_id}"' if style_id else ""
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if value == "":  # as openpyxl writes it: read back as an empty cell
        return f'<c r="{ref}"{s} t="inlineStr"/>'
    if isinstance(value, str):
        return f'<c r="{ref}"{s} t="inlineStr"><is>{_text(value)}</is></c>'
    if isinstance(value, date):
        return f'<c r="{ref}"{s} t="n"><v>{(value - EPOCH).days}</v></c>'
    if isinstance(value, bool):
        raise TypeError("a workbook cell takes no bool here")
    return f'<c r="{ref}"{s} t="n"><v>{value!r}</v></c>'


def _sheet_xml(sheet: Sheet, styles: _Styles) -> str:
    out = [f'<worksheet xmlns="{MAIN}"><sheetPr>']
    out.append('<pageSetUpPr fitToPage="1"/>' if sheet.landscape_a4 else "")
    last_row = max((r for r, _ in sheet.cells), default=1)
    last_col = max((c for _, c in sheet.cells), default=1)
    out.append(f'</sheetPr><dimension ref="A1:{get_column_letter(last_col)}{last_row}"/>')
    out.append('<sheetViews><sheetView workbookViewId="0">')
    if sheet.freeze:
        col, row = _split_ref(sheet.freeze)
        out.append(
            f'<pane xSplit="{col - 1}" ySplit="{row - 1}" topLeftCell="{sheet.freeze}" '
            'activePane="bottomRight" state="frozen"/>'
            '<selection pane="bottomRight" activeCell="A1" sqref="A1"/>'
        )
    else:
        out.append('<selection activeCell="A1" sqref="A1"/>')
    out.append('</sheetView></sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>')
    if sheet.widths:
        out.append("<cols>")
        for col, width in sorted(sheet.widths.items()):
            hidden = ' hidden="1"' if col in sheet.hidden_columns else ""
            out.append(f'<col min="{col}" max="{col}" width="{width}" customWidth="1"{hidden}/>')
        out.append("</cols>")
    out.append("<sheetData>")
    rows: dict[int, list[int]] = {}
    for r, c in sorted(sheet.cells):
        rows.setdefault(r, []).append(c)
    for r, cols in rows.items():
        height = sheet.heights.get(r)
        ht = f' ht="{height:g}" customHeight="1"' if height is not None else ""
        out.append(f'<row r="{r}"{ht}>')
        for c in cols:
            value, style = sheet.cells[(r, c)]
            out.append(_cell(f"{get_column_letter(c)}{r}", value, styles.id(style)))
        out.append("</row>")
    out.append("</sheetData>")
    if sheet.protected:
        resize = "0" if sheet.format_rows_columns else "1"
        out.append(
            f'<sheetProtection sheet="1" objects="0" scenarios="0" formatCells="1" '
            f'formatColumns="{resize}" formatRows="{resize}" insertColumns="1" insertRows="1" '
            'insertHyperlinks="1" deleteColumns="1" deleteRows="1" selectLockedCells="0" '
            'selectUnlockedCells="0" sort="1" autoFilter="1" pivotTables="1"/>'
        )
    if sheet.merged:
        out.append(f'<mergeCells count="{len(sheet.merged)}">')
        out.extend(f'<mergeCell ref="{ref}"/>' for ref in sheet.merged)
        out.append("</mergeCells>")
    checks = [v for v in sheet.validations if v.ranges]
    if checks:
        out.append(f'<dataValidations count="{len(checks)}">')
        out.extend(_validation(v) for v in checks)
        out.append("</dataValidations>")
    if sheet.landscape_a4:
        out.append(
            '<printOptions horizontalCentered="1"/><pageMargins left="0.4" right="0.4" '
            'top="0.5" bottom="0.75" header="0.3" footer="0.35"/><pageSetup '
            'orientation="landscape" paperSize="9" fitToHeight="0" fitToWidth="1"/>'
            "<headerFooter><oddFooter>"
            + escape(f'&C&"{sheet.footer_font}"第 &P 页，共 &N 页')
            + "</oddFooter></headerFooter>"
        )
    else:
        out.append(
            '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
        )
    out.append("</worksheet>")
    return "".join(out)


def _validation(v: Validation) -> str:
    shown = ' showErrorMessage="1"' if v.error else ' showErrorMessage="0"'
    error = f" error={quoteattr(v.error)}" if v.error else ""
    operator = ' operator="between"' if v.formula2 is not None else ""
    second = f"<formula2>{escape(v.formula2)}</formula2>" if v.formula2 is not None else ""
    return (
        f'<dataValidation type="{v.kind}"{operator} allowBlank="1" showDropDown="0" '
        f'showInputMessage="0"{shown}{error} sqref="{" ".join(v.ranges)}">'
        f"<formula1>{escape(v.formula1)}</formula1>{second}</dataValidation>"
    )


def _split_ref(ref: str) -> tuple[int, int]:
    """(column, row) of a cell reference such as ``D3``."""
    letters = ref.rstrip("0123456789")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col, int(ref[len(letters) :])


class _Styles:
    """The workbook's fonts, fills, borders, number formats and cell formats, in the order the
    cells first use them."""

    def __init__(self) -> None:
        self.xfs: dict[Style, int] = {DEFAULT: 0}
        self.fonts: dict[tuple[str, float, bool], int] = {("Calibri", 11, False): 0}
        self.fills: dict[str | None, int] = {None: 0, "gray125": 1}
        self.borders: dict[str | None, int] = {None: 0}
        self.formats: dict[str, int] = {}

    def id(self, style: Style) -> int:
        found = self.xfs.get(style)
        if found is None:
            found = self.xfs[style] = len(self.xfs)
            self.fonts.setdefault((style.font, style.size, style.bold), len(self.fonts))
            self.fills.setdefault(style.fill, len(self.fills))
            self.borders.setdefault(style.border, len(self.borders))
            if style.number_format not in (None, "@"):
                self.formats.setdefault(style.number_format, 164 + len(self.formats))
        return found

    def _format_id(self, style: Style) -> int:
        if style.number_format is None:
            return 0
        return 49 if style.number_format == "@" else self.formats[style.number_format]

    def xml(self) -> str:
        out = [f'<styleSheet xmlns="{MAIN}">']
        if self.formats:
            out.append(f'<numFmts count="{len(self.formats)}">')
            out.extend(
                f"<numFmt numFmtId={quoteattr(str(n))} formatCode={quoteattr(code)}/>"
                for code, n in self.formats.items()
            )
            out.append("</numFmts>")
        out.append(f'<fonts count="{len(self.fonts)}">')
        for name, size, bold in self.fonts:
            b = '<b val="1"/>' if bold else ""
            scheme = '<family val="2"/><color theme="1"/>' if name == "Calibri" else ""
            out.append(f'<font><name val={quoteattr(name)}/>{scheme}{b}<sz val="{size:g}"/></font>')
        out.append(f'</fonts><fills count="{len(self.fills)}">')
        for fill in self.fills:
            if fill is None:
                out.append("<fill><patternFill/></fill>")
            elif fill == "gray125":
                out.append('<fill><patternFill patternType="gray125"/></fill>')
            else:
                out.append(
                    f'<fill><patternFill patternType="solid"><fgColor rgb="00{fill}"/>'
                    "</patternFill></fill>"
                )
        out.append(f'</fills><borders count="{len(self.borders)}">')
        for border in self.borders:
            if border is None:
                out.append("<border><left/><right/><top/><bottom/><diagonal/></border>")
            else:
                side = f'style="thin"><color rgb="00{border}"/>'
                out.append(
                    f"<border><left {side}</left><right {side}</right><top {side}</top>"
                    f"<bottom {side}</bottom><diagonal/></border>"
                )
        out.append(
            '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            f'borderId="0"/></cellStyleXfs><cellXfs count="{len(self.xfs)}">'
        )
        out.extend(self._xf(style) for style in self.xfs)
        out.append(
            '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        )
        return "".join(out)

    def _xf(self, style: Style) -> str:
        font = self.fonts[(style.font, style.size, style.bold)]
        attrs = (
            f'numFmtId="{self._format_id(style)}" fontId="{font}" '
            f'fillId="{self.fills[style.fill]}" borderId="{self.borders[style.border]}" xfId="0"'
        )
        if style.number_format is not None:
            attrs += ' applyNumberFormat="1"'
        if style.quote_prefix:
            attrs += ' quotePrefix="1"'
        inner = ""
        if style.horizontal or style.vertical or style.wrap:
            attrs += ' applyAlignment="1"'
            h = f' horizontal="{style.horizontal}"' if style.horizontal else ""
            v = f' vertical="{style.vertical}"' if style.vertical else ""
            w = ' wrapText="1"' if style.wrap else ""
            inner += f"<alignment{h}{v}{w}/>"
        if style.unlocked:
            attrs += ' applyProtection="1"'
            inner += '<protection locked="0" hidden="0"/>'
        return f"<xf {attrs}>{inner}</xf>" if inner else f"<xf {attrs}/>"


def _workbook_xml(sheets: list[Sheet], active: int) -> str:
    out = [
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr/><bookViews>'
        f'<workbookView activeTab="{active}"/></bookViews><sheets>'
    ]
    for n, sheet in enumerate(sheets, start=1):
        state = ' state="veryHidden"' if sheet.very_hidden else ""
        out.append(f'<sheet name={quoteattr(sheet.name)} sheetId="{n}"{state} r:id="rId{n}"/>')
    out.append("</sheets>")
    titles = [(n, s) for n, s in enumerate(sheets) if s.print_rows]
    if titles:
        out.append("<definedNames>")
        for n, s in titles:
            first, last = (s.print_rows or "").split(":")
            ref = "'" + s.name.replace("'", "''") + f"'!${first}:${last}"
            out.append(
                f'<definedName name="_xlnm.Print_Titles" localSheetId="{n}">'
                f"{escape(ref)}</definedName>"
            )
        out.append("</definedNames>")
    out.append('<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
    return "".join(out)
