"""The briefing as a Word document following GB/T 9704-2012 (党政机关公文格式) conventions.

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 × 225 mm text block);
title 小标宋 二号 (22 pt) in red as a 简报 masthead, with a red rule under the issuer and date;
body 仿宋 三号 (16 pt) at a fixed 28.9 pt line pitch (22 lines a page); headings 一、 黑体 and
（一） 楷体, both 三号; tables 仿宋 五号; page numbers 宋体 四号 as "— 1 —", odd pages on the right
and even pages on the left. After the body: the 附件 note and the signature (落款); each annex on a
new page under 附件N (黑体) and its title (小标宋 二号); last the 版记 (四号, between a thick rule
above and below, thin rules between its lines). Which font names are written is
:mod:`domain.adapters.briefing.fonts`' choice.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from datetime import datetime, time
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from domain.adapters.briefing.charts import CHART_WIDTH_MM
from domain.adapters.briefing.fonts import LATIN
from domain.rules.briefing.layout import (
    Block,
    ChartBlock,
    Colophon,
    Distribution,
    ListBlock,
    Para,
    Printed,
    Section,
    Subheading,
    TableBlock,
    document,
)
from domain.rules.briefing.model import Briefing
from models.enums import Light

ER_HAO = Pt(22)  # 二号
SAN_HAO = Pt(16)  # 三号
SI_HAO = Pt(14)  # 四号
WU_HAO = Pt(10.5)  # 五号
LINE_PITCH = Pt(28.9)
TEXT_WIDTH_MM = 156
CELL_PADDING_MM = 2 * 0.19 * 10 + 1.0
"""Word's default cell margins (0.19 cm each side) and a millimetre to spare."""
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


def _fonts_on(element: Any, east_asia: str) -> None:
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


def _style(style: ParagraphStyle, east_asia: str, size: Pt, *, bold: bool = False) -> None:
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
    _fonts_on(style.element, east_asia)
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_PITCH
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _run(
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
    _fonts_on(run._element, east_asia)
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


def _set_ppr(paragraph: Paragraph, element: Any) -> None:
    """Put ``element`` (w:pBdr) among the paragraph's properties in schema order."""
    ppr = paragraph._p.get_or_add_pPr()
    tag = element.tag.split("}")[1]
    successors = PPR_ORDER[PPR_ORDER.index(f"w:{tag}") + 1 :]
    ppr.insert_element_before(element, *successors)


def _bottom_rule(paragraph: Paragraph, colour: str = "C00000", size: int = 12) -> None:
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
    _set_ppr(paragraph, border)


def _page_number(paragraph: Paragraph, font: str, align: WD_ALIGN_PARAGRAPH) -> None:
    """— PAGE — in 四号, one character in from the edge (GB/T 9704 7.5)."""
    paragraph.alignment = align
    pad = "\u3000"  # one full-width space from the edge
    left, right = (pad, "") if align == WD_ALIGN_PARAGRAPH.LEFT else ("", pad)
    _run(paragraph, f"{left}— ", font, SI_HAO)
    run = _run(paragraph, "", font, SI_HAO)
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
    _run(paragraph, f" —{right}", font, SI_HAO)


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
            return [fixed[c] if c in fixed else share[c] for c in range(n)]
        fixed |= {c: need[c] for c in short}


def _shade(cell: _Cell, fill: str) -> None:
    props = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    props.append(shading)


def _rules(paragraph: Paragraph, *, top: int, bottom: int) -> None:
    """Black rules above and below a paragraph, in eighths of a point (0: none)."""
    border = OxmlElement("w:pBdr")
    for side, size in (("w:top", top), ("w:bottom", bottom)):
        if size:
            rule = OxmlElement(side)
            for key, value in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "1")):
                rule.set(qn(key), value)
            rule.set(qn("w:color"), "000000")
            border.append(rule)
    _set_ppr(paragraph, border)


KEEP_ROWS = 1
"""Table rows (the header) kept on the page of what introduces the table (LibreOffice moves
the whole table when more rows are kept with the next)."""


def _keep_row_together(row: object) -> None:
    props = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    cant = OxmlElement("w:cantSplit")
    cant.set(qn("w:val"), "true")
    props.append(cant)


def _repeat_header(row: object) -> None:
    props = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    props.append(header)


class _Writer:
    def __init__(self, faces: dict[str, str], charts: dict[str, Path]) -> None:
        self.faces = faces
        self.charts = charts
        self.doc = Document()
        styles = self.doc.styles
        _style(styles["Normal"], faces["body"], SAN_HAO)
        _style(styles["Heading 1"], faces["heading1"], SAN_HAO)
        _style(styles["Heading 2"], faces["heading2"], SAN_HAO)
        _style(styles["Title"], faces["title"], ER_HAO)
        for name in ("Heading 1", "Heading 2", "Title"):
            styles[name].paragraph_format.keep_with_next = True
        self._page()

    def _page(self) -> None:
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(28) - Mm(7)
        self.doc.settings.odd_and_even_pages_header_footer = True
        font = "宋体"
        _page_number(section.footer.paragraphs[0], font, WD_ALIGN_PARAGRAPH.RIGHT)
        _page_number(section.even_page_footer.paragraphs[0], font, WD_ALIGN_PARAGRAPH.LEFT)

    def masthead(self, view: Briefing) -> None:
        m = view.masthead
        title = self.doc.add_paragraph(style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
        title.paragraph_format.space_after = Pt(6)
        first, second = split_title(m.title)
        run = _run(title, first, self.faces["title"], ER_HAO, colour=RED)
        if second:
            run.add_break()
            _run(title, second, self.faces["title"], ER_HAO, colour=RED)
        number = self.doc.add_paragraph()
        number.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(number, f"{m.year}年第{m.number}期", self.faces["body"], SAN_HAO)
        issued = self.doc.add_paragraph()
        issued.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
        _run(issued, f"{m.issuer}\t{m.printed_on_zh}", self.faces["body"], SAN_HAO)
        _bottom_rule(issued)
        lead = self.doc.add_paragraph()
        lead.paragraph_format.first_line_indent = Pt(32)
        _run(
            lead, f"统计截至{m.issued_on_zh}，本期周期{m.period_zh}。", self.faces["body"], SAN_HAO
        )

    def section(self, section: Section) -> None:
        if section.annex:
            self.annex_heading(section)
        else:
            self.doc.add_paragraph(section.heading, style="Heading 1")
        for n, block in enumerate(section.blocks):
            before_table = n + 1 < len(section.blocks) and isinstance(
                section.blocks[n + 1], TableBlock
            )
            self.block(block, keep_with_next=before_table)

    def block(self, block: Block, *, keep_with_next: bool) -> None:
        if isinstance(block, Subheading):
            self.doc.add_paragraph(block.text, style="Heading 2")
        elif isinstance(block, Para):
            self.para(block.text, block.lead).paragraph_format.keep_with_next = keep_with_next
        elif isinstance(block, TableBlock):
            self.table(block)
        elif isinstance(block, ListBlock):
            for n, (lead, text) in enumerate(block.entries, block.start):
                self.para(text, f"{n}. {lead}")
        elif isinstance(block, ChartBlock) and block.name in self.charts:
            self.chart(block)

    def para(self, text: str, lead: str = "") -> Paragraph:
        p = self.doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(32)  # two characters
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if lead:
            _run(p, lead, self.faces["body"], SAN_HAO, bold=True)
        _run(p, text, self.faces["body"], SAN_HAO)
        return p

    def closing(self, printed: Printed) -> None:
        """The 附件 note (GB/T 9704 7.3.4: a blank line, two characters in, 附件：1. …) and
        the signature, right-aligned four characters in from the edge."""
        if printed.annex_note:
            self.doc.add_paragraph()
            for n, line in enumerate(printed.annex_note):
                p = self.doc.add_paragraph()
                p.paragraph_format.left_indent = Pt(32 + (48 if n else 0))
                p.paragraph_format.keep_with_next = True
                _run(p, ("附件：" if n == 0 else "") + line, self.faces["body"], SAN_HAO)
        self.doc.add_paragraph().paragraph_format.keep_with_next = True
        for n, text in enumerate(printed.signature):
            p = self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.paragraph_format.right_indent = Pt(64)
            p.paragraph_format.keep_with_next = n == 0
            _run(p, text, self.faces["body"], SAN_HAO)

    def annex_heading(self, section: Section) -> None:
        """A new page: 附件N at the top left in 黑体, the title centred in 小标宋 二号."""
        label = self.doc.add_paragraph(style="Heading 1")
        label.add_run().add_break(WD_BREAK.PAGE)
        label.add_run(section.heading)
        title = self.doc.add_paragraph(style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
        title.paragraph_format.space_before = Pt(12)
        title.paragraph_format.space_after = Pt(12)
        title.paragraph_format.keep_with_next = True
        _run(title, section.title, self.faces["title"], ER_HAO)

    def colophon(self, colophon: Colophon) -> None:
        """版记 (GB/T 9704 7.4): 四号, one character in from each side, a thick rule above the
        first line and below the last, thin rules between; after the last annex (a frame at
        the page foot is lost by LibreOffice)."""
        lines = [(f"{word}：", text) for word, text in colophon.lines]
        lines.append((colophon.printer, colophon.printed_on))
        gap = self.doc.add_paragraph()
        gap.paragraph_format.keep_with_next = True
        for n, (lead, text) in enumerate(lines):
            p = self.doc.add_paragraph()
            fmt = p.paragraph_format
            fmt.left_indent = fmt.right_indent = Pt(14)
            fmt.keep_with_next = n + 1 < len(lines)
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(24)
            if n + 1 < len(lines):
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
                _run(p, lead + text, self.faces["body"], SI_HAO)
            else:  # 印发机关 on the left, 印发日期 on the right
                fmt.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM) - Pt(28), WD_TAB_ALIGNMENT.RIGHT)
                _run(p, f"{lead}\t{text}", self.faces["body"], SI_HAO)
            _rules(p, top=8 if n == 0 else 4, bottom=8 if n + 1 == len(lines) else 0)

    def table(self, block: TableBlock) -> None:
        table = self.doc.add_table(rows=1, cols=len(block.headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _repeat_header(table.rows[0])
        widths = [Mm(w) for w in column_widths(block, TEXT_WIDTH_MM, WU_HAO.pt)]
        table.autofit = False
        for cell, text in zip(table.rows[0].cells, block.headers, strict=True):
            self._cell(cell, text, bold=True, centre=True)
            _shade(cell, "EEEEEE")
        for n, values in enumerate(block.rows):
            cells = table.add_row().cells
            for column, (cell, text) in enumerate(zip(cells, values, strict=True)):
                self._cell(cell, text, right=column in block.numeric)
                if column == block.light_column and block.lights:
                    light = block.lights[n]
                    if light is not None:
                        _shade(cell, CELL_SHADE[light])
        grid = table._tbl.tblGrid
        for column, width in zip(grid.gridCol_lst, widths, strict=True):
            column.w = width
        for n, row in enumerate(table.rows):
            _keep_row_together(row)
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = width
                if n < KEEP_ROWS:  # the header and first rows never alone at a page foot
                    for p in cell.paragraphs:
                        p.paragraph_format.keep_with_next = True
        if block.note:
            note = self.doc.add_paragraph()
            note.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            note.paragraph_format.space_before = Pt(3)
            _run(note, block.note, self.faces["body"], WU_HAO)

    def _cell(
        self,
        cell: _Cell,
        text: str,
        *,
        bold: bool = False,
        centre: bool = False,
        right: bool = False,
    ) -> None:
        p = cell.paragraphs[0]
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        p.paragraph_format.first_line_indent = Pt(0)
        if centre:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif right:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(p, text, self.faces["body"], WU_HAO, bold=bold)

    def chart(self, block: ChartBlock) -> None:
        picture = self.doc.add_paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        picture.paragraph_format.space_before = Pt(12)
        picture.paragraph_format.keep_with_next = True
        picture.add_run().add_picture(str(self.charts[block.name]), width=Mm(CHART_WIDTH_MM))
        caption = self.doc.add_paragraph()
        caption.paragraph_format.keep_together = True
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(caption, block.caption, self.faces["body"], SI_HAO)


def write_docx(
    view: Briefing,
    charts: dict[str, Path],
    faces: dict[str, str],
    path: Path,
    distribution: Distribution | None = None,
) -> None:
    """Write the briefing to ``path`` (its metadata dated by the briefing, not the clock);
    ``distribution``: the catalogue's 报、送、发 lists for the 版记."""
    printed = document(view, distribution)
    writer = _Writer(faces, charts)
    writer.masthead(view)
    for section in printed.body:
        writer.section(section)
    writer.closing(printed)
    for section in printed.annexes:
        writer.section(section)
    writer.colophon(printed.colophon)
    props = writer.doc.core_properties
    m = view.masthead
    props.title = f"{m.title}（{m.year}年第{m.number}期）"
    props.author = m.issuer
    props.subject = m.plan_title
    stamp = datetime.combine(view.as_of, time(0, 0))
    props.created = props.modified = stamp
    props.last_modified_by = "duban"
    props.revision = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    writer.doc.save(str(path))
