"""The Word briefing's building parts in OOXML: type sizes, fonts on a run or style, rules,
page numbers, cell shading, row and header properties, column widths and the title's break
(:mod:`domain.adapters.briefing.docx_writer` puts them together)."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from domain.adapters.briefing.fonts import LATIN
from domain.rules.briefing.blocks import (
    TableBlock,
)
from models.enums import Light

ER_HAO = Pt(22)  # 二号
SAN_HAO = Pt(16)  # 三号
SI_HAO = Pt(14)  # 四号
WU_HAO = Pt(10.5)  # 五号
LINE_PITCH = Pt(28.9)
CELL_PITCH = Pt(13)
"""Line pitch of 五号 text in tables: fixed, so rows are as tall on every machine (a font's
own single spacing runs from 1.0 to 1.45 times its size)."""
TEXT_WIDTH_MM = 156
CELL_MARGIN_MM = 1.0
"""The tables' cell margins left and right (Word's default is 1.9 mm): narrow columns of
short Chinese texts keep a character more per line."""
CELL_PADDING_MM = 2 * CELL_MARGIN_MM + 1.0
"""Both cell margins and a millimetre to spare."""
PT_MM = 25.4 / 72
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters Word's XML cannot hold (a stray control character in a unit's report)."""
RED = RGBColor(0xC0, 0x00, 0x00)
CELL_SHADE = {
    Light.GREEN: "C8E6C9",
    Light.YELLOW: "FFF59D",
    Light.RED: "FFCDD2",
    Light.GRAY: "E0E0E0",
    Light.DONE_LATE: "E1BEE7",
}


def fonts_on(element: Any, east_asia: str) -> None:
    """Name the East Asian font and Times New Roman for Latin text on a run (``CT_R``) or a
    style (``CT_Style``): python-docx has no API for the eastAsia attribute."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:ascii"), LATIN)
    fonts.set(qn("w:hAnsi"), LATIN)
    fonts.set(qn("w:cs"), LATIN)
    fonts.set(qn("w:eastAsia"), east_asia)


def set_style(style: ParagraphStyle, east_asia: str, size: Pt, *, bold: bool = False) -> None:
    style.font.size = size
    rpr = style.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")  # so a reader's Word/LibreOffice picks Chinese faces
    ppr = style.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):  # the default Title style's blue rule
        ppr.remove(border)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    fonts_on(style.element, east_asia)
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_PITCH
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def add_run(
    paragraph: Paragraph,
    text: str,
    east_asia: str,
    size: Pt,
    *,
    bold: bool = False,
    colour: RGBColor | None = None,
) -> Run:
    run = paragraph.add_run(_XML_UNSAFE.sub("", text))
    run.font.size = size
    fonts_on(run._element, east_asia)
    if bold:
        run.font.bold = True
    if colour is not None:
        run.font.color.rgb = colour
    return run


TITLE_LINE = 18
"""Characters of 二号 type on one line of the 156 mm text block (20 in theory; LibreOffice
wraps a line of 20 with its letter spacing, so two of slack)."""


def split_title(title: str) -> tuple[str, str]:
    """A title too long for one line, broken where a reader would (after 规划/计划/方案 or
    before 工作简报), not with one or two characters left over; short titles stay whole."""
    if len(title) <= TITLE_LINE:
        return title, ""
    for marker, offset in (("规划", 2), ("计划", 2), ("方案", 2), ("工作简报", 0)):
        at = title.rfind(marker)
        cut = at + offset
        if at >= 0 and 4 <= cut <= len(title) - 4 and cut <= TITLE_LINE:
            return title[:cut], title[cut:]
    half = (len(title) + 1) // 2
    return title[:half], title[half:]


PPR_ORDER = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
    "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
    "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE",
    "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
    "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
    "w:sectPr", "w:pPrChange",
)  # fmt: skip
"""The order of a paragraph's properties in WordprocessingML (Word refuses another order)."""


def set_ppr(paragraph: Paragraph, element: Any) -> None:
    """Put ``element`` (w:pBdr) among the paragraph's properties in schema order."""
    ppr = paragraph._p.get_or_add_pPr()
    tag = element.tag.split("}")[1]
    successors = PPR_ORDER[PPR_ORDER.index(f"w:{tag}") + 1 :]
    ppr.insert_element_before(element, *successors)


def bottom_rule(paragraph: Paragraph, colour: str = "C00000", size: int = 12) -> None:
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", str(size)),
        ("w:space", "1"),
        ("w:color", colour),
    ):
        bottom.set(qn(key), value)
    border.append(bottom)
    set_ppr(paragraph, border)


def page_number(paragraph: Paragraph, font: str, align: WD_ALIGN_PARAGRAPH) -> None:
    """— PAGE — in 四号, one character in from the edge (GB/T 9704 7.5)."""
    paragraph.alignment = align
    pad = "\u3000"  # one full-width space from the edge
    left, right = (pad, "") if align == WD_ALIGN_PARAGRAPH.LEFT else ("", pad)
    add_run(paragraph, f"{left}— ", font, SI_HAO)
    run = add_run(paragraph, "", font, SI_HAO)
    for kind, text in (
        ("begin", None),
        (None, "PAGE"),
        ("separate", None),
        (None, "1"),
        ("end", None),
    ):
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = " PAGE "
            run._r.append(instr)
        else:
            shown = OxmlElement("w:t")
            shown.text = text
            run._r.append(shown)
    add_run(paragraph, f" —{right}", font, SI_HAO)


def text_em(text: str) -> float:
    """The width of ``text`` in ems: wide (CJK, full-width) characters one, others 0.55, and a
    quarter where wide and narrow meet (the space Word and LibreOffice put between Chinese
    text and digits)."""
    wide = [unicodedata.east_asian_width(c) in "WF" for c in text]
    meets = sum(1 for a, b in itertools.pairwise(wide) if a != b)
    return sum(1.0 if w else 0.55 for w in wide) + 0.25 * meets


def column_widths(block: TableBlock, total_mm: float, size_pt: float) -> list[float]:
    """Column widths in mm summing to ``total_mm``, shared by the block's weights; a column
    kept on one line (numbers, dates, levels, the light) is at least as wide as its longest
    cell; a header of up to four characters (序号, 督办层级) never wraps, a longer one takes at
    most two lines."""
    n = len(block.headers)
    weights = list(block.widths or (1.0,) * n)
    one_line = block.nowrap | block.numeric | {block.light_column}
    need = []
    for c, header in enumerate(block.headers):
        cells = [text_em(row[c]) for row in block.rows] if c in one_line else []
        head = text_em(header)
        widest = max([*cells, head if len(header) <= 4 else math.ceil(head / 2)])
        need.append(widest * size_pt * PT_MM + CELL_PADDING_MM)
    if sum(need) >= total_mm:  # nothing left to share: each as it needs, scaled to fit
        return [total_mm * w / sum(need) for w in need]
    fixed: dict[int, float] = {}
    while True:
        rest = [c for c in range(n) if c not in fixed]
        free = total_mm - sum(fixed.values())
        share = {c: free * weights[c] / sum(weights[r] for r in rest) for c in rest}
        short = [c for c in rest if share[c] < need[c]]
        if not short:
            widths = [fixed[c] if c in fixed else share[c] for c in range(n)]
            return _to_content(block, widths, weights, need, size_pt)
        fixed |= {c: need[c] for c in short}


def _to_content(
    block: TableBlock, widths: list[float], weights: list[float], need: list[float], size_pt: float
) -> list[float]:
    """Columns wider than their longest text on one line give the rest to the columns that
    wrap, by weight (the widths keep their sum)."""
    n = len(widths)
    longest = [max((text_em(row[c]) for row in block.rows), default=0.0) for c in range(n)]
    most = [max(need[c], longest[c] * size_pt * PT_MM + CELL_PADDING_MM) for c in range(n)]
    for _ in range(n):
        over = [c for c in range(n) if widths[c] > most[c] + 0.01]
        under = [c for c in range(n) if widths[c] < most[c] - 0.01]
        if not over or not under:
            break
        spare = sum(widths[c] - most[c] for c in over)
        for c in over:
            widths[c] = most[c]
        for c in under:
            widths[c] += spare * weights[c] / sum(weights[u] for u in under)
    return fewest_lines(block, widths, need, size_pt)


def cell_lines(text: str, width_mm: float, size_pt: float) -> int:
    """Lines ``text`` takes in a cell ``width_mm`` wide (at least one)."""
    em = size_pt * PT_MM
    return max(1, math.ceil(text_em(text) * em / max(width_mm - CELL_PADDING_MM, em) - 1e-9))


def table_lines(block: TableBlock, widths: list[float], size_pt: float) -> int:
    """Lines the table's rows take at ``widths`` (a row as tall as its tallest cell)."""
    return sum(
        max(cell_lines(t, w, size_pt) for t, w in zip(row, widths, strict=True))
        for row in block.rows
    )


def fewest_lines(
    block: TableBlock, widths: list[float], need: list[float], size_pt: float
) -> list[float]:
    """Widths moved between columns while the rows take fewer lines: a column is widened just
    enough for one of its cells to lose a line, the width taken from the others in proportion
    to what they have beyond their need; the best such move, until none helps."""
    n, em = len(widths), size_pt * PT_MM
    best = table_lines(block, widths, size_pt)
    for _ in range(4 * n * max(1, len(block.rows))):
        found: tuple[int, list[float]] | None = None
        for b in range(n):
            for row in block.rows:
                lines = cell_lines(row[b], widths[b], size_pt)
                if lines <= 1:
                    continue
                target = text_em(row[b]) * em / (lines - 1) + CELL_PADDING_MM + 0.01
                grow = target - widths[b]
                slack = {c: widths[c] - need[c] for c in range(n) if c != b}
                room = sum(v for v in slack.values() if v > 0)
                if grow <= 0 or grow > room:
                    continue
                trial = [
                    widths[c] + grow if c == b else widths[c] - grow * max(slack[c], 0) / room
                    for c in range(n)
                ]
                total = table_lines(block, trial, size_pt)
                if total < best and (found is None or total < found[0]):
                    found = (total, trial)
        if found is None:
            break
        best, widths = found
    return widths


def shade(cell: _Cell, fill: str) -> None:
    props = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    props.append(shading)


def rules(paragraph: Paragraph, *, top: int, bottom: int) -> None:
    """Black rules above and below a paragraph, in eighths of a point (0: none)."""
    border = OxmlElement("w:pBdr")
    for side, size in (("w:top", top), ("w:bottom", bottom)):
        if size:
            rule = OxmlElement(side)
            for key, value in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "1")):
                rule.set(qn(key), value)
            rule.set(qn("w:color"), "000000")
            border.append(rule)
    set_ppr(paragraph, border)


KEEP_ROWS = 1
"""Table rows (the header) kept on the page of what introduces the table (LibreOffice moves
the whole table when more rows are kept with the next)."""


def cell_margins(table: object, mm: float = CELL_MARGIN_MM) -> None:
    """The table's left and right cell margins (``w:tblCellMar``, in twentieths of a point)."""
    props = table._tbl.tblPr  # type: ignore[attr-defined]
    margins = OxmlElement("w:tblCellMar")
    for side in ("w:left", "w:right"):
        margin = OxmlElement(side)
        margin.set(qn("w:w"), str(round(mm / PT_MM * 20)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    props.append(margins)


def keep_row_together(row: object) -> None:
    props = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    cant = OxmlElement("w:cantSplit")
    cant.set(qn("w:val"), "true")
    props.append(cant)


def repeat_header(row: object) -> None:
    props = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    props.append(header)
