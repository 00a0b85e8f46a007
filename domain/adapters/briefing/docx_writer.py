"""The briefing as a Word document following GB/T 9704-2012 (党政机关公文格式) conventions.

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 × 225 mm text block);
title 小标宋 二号 (22 pt) in red as a 简报 masthead, with a red rule under the issuer and date;
body 仿宋 三号 (16 pt) at a fixed 28.9 pt line pitch (22 lines a page); headings 一、 黑体 and
（一） 楷体, both 三号; tables 仿宋 五号; page numbers 宋体 四号 as "— 1 —", odd pages on the right
and even pages on the left. Which font names are written is :mod:`domain.adapters.briefing.fonts`'
choice.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from domain.adapters.briefing.fonts import LATIN
from domain.rules.briefing.layout import (
    ChartBlock,
    ListBlock,
    Para,
    Section,
    Subheading,
    TableBlock,
    sections,
)
from domain.rules.briefing.model import Briefing
from models.enums import Light

ER_HAO = Pt(22)  # 二号
SAN_HAO = Pt(16)  # 三号
SI_HAO = Pt(14)  # 四号
WU_HAO = Pt(10.5)  # 五号
LINE_PITCH = Pt(28.9)
TEXT_WIDTH_MM = 156
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


TITLE_LINE = 20
"""Characters of 二号 type on one line of the 156 mm text block."""


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


def _bottom_rule(paragraph: Paragraph, colour: str = "C00000", size: int = 12) -> None:
    ppr = paragraph._p.get_or_add_pPr()
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
    ppr.append(border)


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


def _shade(cell: _Cell, fill: str) -> None:
    props = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    props.append(shading)


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
        self.doc.add_paragraph(section.heading, style="Heading 1")
        for block in section.blocks:
            if isinstance(block, Subheading):
                self.doc.add_paragraph(block.text, style="Heading 2")
            elif isinstance(block, Para):
                self.para(block.text, block.lead)
            elif isinstance(block, TableBlock):
                self.table(block)
            elif isinstance(block, ListBlock):
                for n, (lead, text) in enumerate(block.entries, 1):
                    self.para(text, f"{n}. {lead}")
            elif isinstance(block, ChartBlock) and block.name in self.charts:
                self.chart(block)

    def para(self, text: str, lead: str = "") -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(32)  # two characters
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if lead:
            _run(p, lead, self.faces["body"], SAN_HAO, bold=True)
        _run(p, text, self.faces["body"], SAN_HAO)

    def table(self, block: TableBlock) -> None:
        table = self.doc.add_table(rows=1, cols=len(block.headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _repeat_header(table.rows[0])
        weights = block.widths or (1.0,) * len(block.headers)
        widths = [Mm(TEXT_WIDTH_MM * w / sum(weights)) for w in weights]
        table.autofit = False
        for cell, text in zip(table.rows[0].cells, block.headers, strict=True):
            self._cell(cell, text, bold=True, centre=True)
            cell.paragraphs[0].paragraph_format.keep_with_next = True  # never alone at a page foot
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
        for row in table.rows:
            _keep_row_together(row)
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = width
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
        picture.add_run().add_picture(str(self.charts[block.name]), width=Mm(150))
        caption = self.doc.add_paragraph()
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(caption, block.caption, self.faces["body"], SI_HAO)


def write_docx(view: Briefing, charts: dict[str, Path], faces: dict[str, str], path: Path) -> None:
    """Write the briefing to ``path`` (its metadata dated by the briefing, not the clock)."""
    writer = _Writer(faces, charts)
    writer.masthead(view)
    for section in sections(view):
        writer.section(section)
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
