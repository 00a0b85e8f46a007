"""Printed documents (the briefing, the final evaluation, the 考评通报) as Word files following
GB/T 9704-2012 (党政机关公文格式) conventions.

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 × 225 mm text block);
body 仿宋 三号 (16 pt) at a fixed 28.9 pt line pitch (22 lines a page); headings 一、 黑体 and
（一） 楷体, both 三号; tables 仿宋 五号; page numbers 宋体 四号 as "— 1 —", odd pages on the right
and even pages on the left. After the body: the 附件 note and the signature (落款); each annex on a
new page under 附件N (黑体) and its title (小标宋 二号); last the 版记 (四号, between a thick rule
above and below, thin rules between its lines). Which font names are written is
:mod:`domain.adapters.briefing.fonts`' choice.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.shared import Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from domain.adapters.briefing.docx_parts import (
    CELL_PITCH,
    CELL_SHADE,
    ER_HAO,
    KEEP_ROWS,
    SAN_HAO,
    SI_HAO,
    TEXT_WIDTH_MM,
    WU_HAO,
    add_run,
    cell_margins,
    column_widths,
    keep_row_together,
    page_number,
    repeat_header,
    rules,
    set_style,
    shade,
    split_title,
)
from domain.adapters.chart_style import CHART_WIDTH_MM
from domain.rules.briefing.blocks import (
    Block,
    ChartBlock,
    ListBlock,
    Para,
    Section,
    Subheading,
    TableBlock,
)
from domain.rules.briefing.printed import Colophon, Printed


class DocumentWriter:
    """A Word document on A4 in the GB/T 9704 look, written block by block: the subclass of
    each document writes its own head (a 简报's masthead, a report's title, a 文件's 文头)."""

    def __init__(self, faces: dict[str, str], charts: dict[str, Path]) -> None:
        self.faces = faces
        self.charts = charts
        self.doc = Document()
        styles = self.doc.styles
        set_style(styles["Normal"], faces["body"], SAN_HAO)
        set_style(styles["Heading 1"], faces["heading1"], SAN_HAO)
        set_style(styles["Heading 2"], faces["heading2"], SAN_HAO)
        set_style(styles["Title"], faces["title"], ER_HAO)
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
        page_number(section.footer.paragraphs[0], font, WD_ALIGN_PARAGRAPH.RIGHT)
        page_number(section.even_page_footer.paragraphs[0], font, WD_ALIGN_PARAGRAPH.LEFT)

    def title(
        self,
        text: str,
        size: Pt,
        *,
        after: Pt,
        before: Pt | None = None,
        colour: RGBColor | None = None,
        split: bool = True,
    ) -> Paragraph:
        """A centred title in the title face; when ``split``, a long one broken in two where a
        reader would (:func:`~domain.adapters.briefing.docx_parts.split_title`)."""
        title = self.doc.add_paragraph(style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
        if before is not None:
            title.paragraph_format.space_before = before
        title.paragraph_format.space_after = after
        first, second = split_title(text) if split else (text, "")
        run = add_run(title, first, self.faces["title"], size, colour=colour)
        if second:
            run.add_break()
            add_run(title, second, self.faces["title"], size, colour=colour)
        return title

    def issued(self, issuer: str, day: str) -> Paragraph:
        """The issuer at the left and the date at the right of one line (the caller rules it)."""
        issued = self.doc.add_paragraph()
        issued.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
        add_run(issued, f"{issuer}\t{day}", self.faces["body"], SAN_HAO)
        return issued

    def lead(self, text: str) -> None:
        """The line under the head: two characters in."""
        lead = self.doc.add_paragraph()
        lead.paragraph_format.first_line_indent = Pt(32)
        add_run(lead, text, self.faces["body"], SAN_HAO)

    def centred(self, text: str) -> Paragraph:
        """A line of body text, centred (第N期, a 文号)."""
        line = self.doc.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        add_run(line, text, self.faces["body"], SAN_HAO)
        return line

    def printed(self, printed: Printed, *, colophon: bool = True) -> None:
        """After the head: the body, the 附件 note and signature, the annexes and, when
        ``colophon``, the 版记."""
        for section in printed.body:
            self.section(section)
        self.closing(printed)
        for section in printed.annexes:
            self.section(section)
        if colophon:
            self.colophon(printed.colophon)

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
            add_run(p, lead, self.faces["body"], SAN_HAO, bold=True)
        add_run(p, text, self.faces["body"], SAN_HAO)
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
                add_run(p, ("附件：" if n == 0 else "") + line, self.faces["body"], SAN_HAO)
        self.doc.add_paragraph().paragraph_format.keep_with_next = True
        for n, text in enumerate(printed.signature):
            p = self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.paragraph_format.right_indent = Pt(64)
            p.paragraph_format.keep_with_next = n == 0
            add_run(p, text, self.faces["body"], SAN_HAO)

    def annex_heading(self, section: Section) -> None:
        """A new page: 附件N at the top left in 黑体, the title centred in 小标宋 二号."""
        label = self.doc.add_paragraph(style="Heading 1")
        label.add_run().add_break(WD_BREAK.PAGE)
        label.add_run(section.heading)
        title = self.title(section.title, ER_HAO, after=Pt(12), before=Pt(12), split=False)
        title.paragraph_format.keep_with_next = True

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
                add_run(p, lead + text, self.faces["body"], SI_HAO)
            else:  # 印发机关 on the left, 印发日期 on the right
                fmt.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM) - Pt(28), WD_TAB_ALIGNMENT.RIGHT)
                add_run(p, f"{lead}\t{text}", self.faces["body"], SI_HAO)
            rules(p, top=8 if n == 0 else 4, bottom=8 if n + 1 == len(lines) else 0)

    def table(self, block: TableBlock) -> None:
        table = self.doc.add_table(rows=1, cols=len(block.headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        cell_margins(table)
        repeat_header(table.rows[0])
        widths = [Mm(w) for w in column_widths(block, TEXT_WIDTH_MM, WU_HAO.pt)]
        table.autofit = False
        for cell, text in zip(table.rows[0].cells, block.headers, strict=True):
            self._cell(cell, text, bold=True, centre=True)
            shade(cell, "EEEEEE")
        for n, values in enumerate(block.rows):
            cells = table.add_row().cells
            for column, (cell, text) in enumerate(zip(cells, values, strict=True)):
                self._cell(cell, text, right=column in block.numeric)
                if column == block.light_column and block.lights:
                    light = block.lights[n]
                    if light is not None:
                        shade(cell, CELL_SHADE[light])
        grid = table._tbl.tblGrid
        for column, width in zip(grid.gridCol_lst, widths, strict=True):
            column.w = width
        for n, row in enumerate(table.rows):
            keep_row_together(row)
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = width
                if n < KEEP_ROWS:  # the header and first rows never alone at a page foot
                    for p in cell.paragraphs:
                        p.paragraph_format.keep_with_next = True
        if block.note:
            note = self.doc.add_paragraph()
            note.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            note.paragraph_format.space_before = Pt(3)
            add_run(note, block.note, self.faces["body"], WU_HAO)

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
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        p.paragraph_format.line_spacing = CELL_PITCH
        p.paragraph_format.first_line_indent = Pt(0)
        if centre:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif right:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        add_run(p, text, self.faces["body"], WU_HAO, bold=bold)

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
        add_run(caption, block.caption, self.faces["body"], SI_HAO)

    def save(self, path: Path, *, title: str, author: str, subject: str, day: date) -> None:
        """Write the document to ``path``, its metadata dated ``day`` (not the clock)."""
        props = self.doc.core_properties
        props.title, props.author, props.subject = title, author, subject
        props.created = props.modified = datetime.combine(day, time(0, 0))
        props.last_modified_by = "duban"
        props.revision = 1
        path.parent.mkdir(parents=True, exist_ok=True)
        self.doc.save(str(path))
