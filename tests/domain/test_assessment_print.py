"""The 考评通报 as leadership holds it: the Word file printed to PDF by LibreOffice, read back
with pdftotext (the small plan of :mod:`tests.domain.test_assessment`)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import Engine
from typer.testing import CliRunner

from duban.cli import app
from models.clock import end_of_working_day, frozen_time
from tests.domain.test_assessment import TZ, assessed  # noqa: F401 - the fixture
from tests.domain.test_briefing_print import printed_pages

HEADINGS = ["一、考评口径", "二、县直部门考评结果", "三、乡镇考评结果", "四、主要失分情况",
            "五、申诉处理情况"]  # fmt: skip


@pytest.fixture
def word_file(assessed: Engine, tmp_path: Path) -> Path:  # noqa: F811
    """The fourth quarter's notice issued on 2022-01-04, as a Word file."""
    with frozen_time(end_of_working_day(date(2022, 1, 4), TZ)):
        result = CliRunner().invoke(
            app, ["assess", "--quarter", "2021-Q4", "--report", "--out", str(tmp_path / "out")]
        )
    assert result.exit_code == 0, result.output
    return tmp_path / "out" / "assess-plan" / "assessment-2021-Q4" / "kaoping-2021-Q4.docx"


def test_the_printed_notice_reads_in_order(word_file: Path, tmp_path: Path) -> None:
    """Three A4 pages numbered — 1 — to — 3 —: the red 文头, the 文号, the title, 主送, the five
    headings in order, the ranking rows, the signature and the 版记 on the last page."""
    pages = printed_pages(word_file, tmp_path)
    assert len(pages) == 3
    text = re.sub(r"\s+", "", "".join(pages))
    order = ["考评示例规划实施考评通报", "考评〔2022〕1号",
             "关于2021年第四季度规划实施考评情况的通报", "各责任单位：", *HEADINGS,
             "示例县民政局2022年1月4日", "报：本级党委、政府领导。", "发：规划各责任单位。",
             "示例县民政局2022年1月4日印发"]  # fmt: skip
    at = [text.find(part) for part in order]
    assert -1 not in at and at == sorted(at), dict(zip(order, at, strict=True))
    assert "1甲镇83.445.020.018.4" in text and "2乙乡25.40.010.015.4" in text
    for n, page in enumerate(pages, start=1):
        assert f"—{n}—" in re.sub(r"\s+", "", page)
    assert "印发" in pages[-1] and "印发" not in "".join(pages[:-1])


def test_the_word_file_has_the_briefings_look(word_file: Path) -> None:
    """The 文头 in red 小标宋, the headings as Word headings (the document's outline), tables
    with a repeated header row, and metadata dated by the notice."""
    doc = Document(str(word_file))
    head = doc.paragraphs[0]
    assert head.text == "考评示例规划实施考评通报"
    assert {str(r.font.color.rgb) for r in head.runs if r.text} == {"C00000"}
    outline = [p.text for p in doc.paragraphs if p.style and p.style.name == "Heading 1"]
    assert outline == HEADINGS
    assert len(doc.tables) == 2
    assert doc.core_properties.created is not None
    assert doc.core_properties.created.date() == date(2022, 1, 4)
