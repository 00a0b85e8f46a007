"""The briefing as a leader holds it: the Word file printed to PDF by LibreOffice.

The week of ``tests.fixtures.plan_week`` is stretched to every list's limit (as many key tasks,
overdue rows, problems and items changed this week as the builders print, with texts as long as
real ones), so what is measured is the longest briefing the rules can produce, not a short one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from sqlalchemy import Engine

from domain.adapters.briefing.charts import task_progress
from domain.adapters.briefing.docx_parts import (
    CELL_PADDING_MM,
    PPR_ORDER,
    PT_MM,
    TEXT_WIDTH_MM,
    column_widths,
    table_lines,
)
from domain.adapters.briefing.docx_writer import write_docx
from domain.adapters.briefing.fonts import OFFICIAL
from domain.rules.briefing import lists
from domain.rules.briefing.blocks import TableBlock
from domain.rules.briefing.build import CHANGE_ROWS
from domain.rules.briefing.model import Briefing, UpcomingRow
from domain.rules.briefing.printed import document
from models.enums import Light
from tests.domain.test_briefing_issue import issue
from tests.domain.test_briefing_layout import stretched
from tests.fixtures.plan_week import AS_OF

TITLE = "建立健全村（社区）党组织书记后备人才库并动态管理"  # 24 characters, as long as real ones
PROBLEM = "项目资金尚未下达，村（社区）无配套能力，施工队伍进场时间待定，需县级统筹解决"
UNITS = "甸阳镇、姚关镇、仁和镇等12个单位"
MAX_BODY_PAGES = 4


def soffice_or_skip() -> str:
    """LibreOffice; a failure on CI (.ci/run installs libreoffice-writer), a skip elsewhere."""
    found = shutil.which("soffice")
    if found is None or shutil.which("lowriter") is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is required here (.ci/run installs libreoffice-writer)")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-writer)")
    return found


def longest(view: Briefing) -> Briefing:
    """``view`` with every list at the length the builders allow, texts at real lengths."""
    task = view.tasks[0]
    tasks = [
        task.model_copy(update={"number": n, "code": f"T{n:02}", "title": TITLE})
        for n in range(1, 13)
    ]
    overdue = [
        view.overdue[0].model_copy(
            update={"title": TITLE, "unit": UNITS, "units": 12, "reason": "3个单位报告了原因"}
        )
    ] * lists.OVERDUE_ROWS
    problems = [
        view.problems[0].model_copy(
            update={"title": TITLE, "problem": PROBLEM, "unit": UNITS, "units": 12}
        )
    ] * lists.PROBLEM_ROWS
    upcoming = UpcomingRow(
        task="T01",
        milestone="T01-M2",
        title=TITLE,
        due=AS_OF + timedelta(days=7),
        units=UNITS,
        open=12,
    )
    changed = view.changes.newly_overdue_items or view.changes.newly_done_items
    item = changed[0] if changed else None
    changes = view.changes.model_copy(
        update={
            "newly_done": 40,
            "newly_done_items": [item.model_copy(update={"title": TITLE})] * CHANGE_ROWS
            if item
            else [],
        }
    )
    indicators = [
        view.indicators[0].model_copy(
            update={
                "name": f"{n}号指标：每百户居民拥有的社区综合服务设施面积",
                "attainment": 40.0 + 15 * n,
                "value": "25.8㎡",
                "target": "≥30㎡",
                "light": Light.YELLOW,
            }
        )
        for n in range(1, 9)
    ]
    return view.model_copy(
        update={
            "tasks": tasks,
            "overdue": overdue,
            "overdue_items": 400,
            "overdue_hidden": 40,
            "problems": problems,
            "problems_hidden": 5,
            "upcoming": [upcoming] * 12,
            "indicators": indicators,
            "changes": changes,
        }
    )


def printed_pages(docx: Path, tmp_path: Path) -> list[str]:
    """The text of each printed page (LibreOffice → PDF → pdftotext)."""
    soffice = soffice_or_skip()
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx)],
        check=True,
        capture_output=True,
        timeout=180,
        env={"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
    )
    pdf = tmp_path / docx.with_suffix(".pdf").name
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


def body_pages(pages: list[str]) -> int:
    """Pages before the first annex (a page that opens with 附件1)."""
    opens = [n for n, page in enumerate(pages) if re.match(r"\s*附件\s*1\n", page)]
    assert opens, "no page opens with 附件1"
    return opens[0]


@pytest.fixture
def printed(week: Engine, tmp_path: Path) -> list[str]:
    view = longest(issue(week, AS_OF, tmp_path / "issued", formats=("md",)).view)
    charts = {"tasks": task_progress(view, tmp_path / "tasks.png").path}
    path = tmp_path / "brief.docx"
    printed = document(view, {"report_to": ["县委、县政府主要领导"]})
    write_docx(view, charts, dict(OFFICIAL), path, printed)
    return printed_pages(path, tmp_path)


def test_the_annexes_follow_the_body_on_pages_of_their_own(printed: list[str]) -> None:
    """The body ends with the 附件 note and the signature; each annex opens a page; the 版记
    closes the last page."""
    body = body_pages(printed)
    assert "附件：1." in printed[body - 1]
    annexes = [re.match(r"\s*附件\s*(\d)\n", p) for p in printed[body:]]
    assert [m.group(1) for m in annexes if m] == ["1", "2", "3", "4", "5"]
    last = printed[-1]
    assert "报：县委、县政府主要领导。" in last and "印发" in last


def test_the_longest_body_prints_on_four_pages(printed: list[str]) -> None:
    body = body_pages(printed)
    assert body <= MAX_BODY_PAGES, f"the body takes {body} pages"


def test_page_one_says_what_needs_the_leader(printed: list[str]) -> None:
    assert "需要领导协调解决的事项" in printed[0]


def test_every_table_starts_on_the_page_of_its_heading(printed: list[str]) -> None:
    """A table's header row is never the last thing on a page: each page that shows a
    table's header row shows at least one of its rows below it."""
    for n, page in enumerate(printed, 1):
        lines = [line for line in page.splitlines() if line.strip()]
        if len(lines) > 1:
            last = lines[-2]  # above the page number
            assert "序号" not in last, f"a table's header row ends page {n}"


# ---- the Word file itself (no LibreOffice needed) --------------------------------------------


def test_short_headers_levels_and_numbers_do_not_wrap() -> None:
    """序号 and 逾期通报 fit on one line at 五号; the widths still fill the text block."""
    block = TableBlock(
        headers=["序号", "事项", "责任单位", "到期日", "逾期工作日", "督办层级", "单位说明"],
        rows=[["10", TITLE, UNITS, "2022年3月31日", "最长128", "逾期通报", PROBLEM]],
        numeric=frozenset({0, 4}),
        nowrap=frozenset({3, 5}),
        widths=(0.8, 3.6, 2.4, 1.6, 1.3, 1.3, 2.4),
    )
    widths = column_widths(block, TEXT_WIDTH_MM, 10.5)
    assert sum(widths) == pytest.approx(TEXT_WIDTH_MM)

    def one_line(chars: float) -> float:
        return chars * 10.5 * PT_MM + CELL_PADDING_MM - 1e-9

    assert widths[0] >= one_line(2)  # 序号
    assert widths[5] >= one_line(4)  # 逾期通报
    assert widths[3] >= one_line(3 + 7 * 0.55 + 5 * 0.25)  # 2022年3月31日: 5 digit/CJK meets
    assert widths[4] >= one_line(2 + 3 * 0.55 + 0.25)  # 最长128
    assert widths[1] > widths[2] > widths[0]  # the rest shared by weight


def test_columns_share_the_width_so_that_rows_take_fewer_lines() -> None:
    """A column whose texts are short gives its width to one that would wrap; a row as tall as
    its tallest cell; the widths still fill the text block."""
    block = TableBlock(
        headers=["序号", "反映单位", "事项", "反映的问题"],
        rows=[[str(n), "常村村、大乌邑村、茨桶村", "设施摸底", "资金未到位"] for n in range(3)],
        numeric=frozenset({0}),
        widths=(0.8, 1.9, 4.4, 7.1),
    )
    by_weight = [10.4, 145.6 * 1.9 / 13.4, 145.6 * 4.4 / 13.4, 145.6 * 7.1 / 13.4]
    assert table_lines(block, by_weight, 10.5) == 9  # the units in three lines each
    widths = column_widths(block, TEXT_WIDTH_MM, 10.5)
    assert sum(widths) == pytest.approx(TEXT_WIDTH_MM)
    assert table_lines(block, widths, 10.5) == 3


def test_the_word_file_keeps_headings_with_tables_and_ends_with_annexes_and_colophon(
    tmp_path: Path,
) -> None:
    """Headings and the sentence before a table are kept with what follows, a table's header
    row with its first row and no row split; each annex opens a page; the 版记 comes last,
    between thick rules."""
    view = stretched(tasks=8, overdue=25, problems=12, upcoming=5)
    path = tmp_path / "b.docx"
    printed = document(view, {"report_to": ["县委"], "issue_to": ["各乡镇"]})
    write_docx(view, {}, dict(OFFICIAL), path, printed)
    doc = Document(str(path))
    for style in ("Heading 1", "Heading 2", "Title"):
        assert doc.styles[style].paragraph_format.keep_with_next
    body = doc.element.body
    for table in body.iter(qn("w:tbl")):
        before = table.getprevious()
        assert before.tag == qn("w:p")
        assert before.find(f"{qn('w:pPr')}/{qn('w:keepNext')}") is not None
        rows = table.findall(qn("w:tr"))
        assert all(r.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None for r in rows)
        assert rows[0].find(f".//{qn('w:keepNext')}") is not None
    texts = [p.text for p in doc.paragraphs]
    labels = [p for p in doc.paragraphs if p.text.startswith("附件") and p.text[2:].isdigit()]
    assert [p.text for p in labels] == ["附件1", "附件2", "附件3", "附件4", "附件5"]
    assert all('w:type="page"' in p._p.xml for p in labels)
    assert texts.index("附件：1. 重点任务推进情况表") < texts.index("民政局") < texts.index("附件1")
    assert texts[-3:] == ["报：县委。", "发：各乡镇。", "民政局\t2021年10月15日印发"]
    first, last = doc.paragraphs[-3]._p.xml, doc.paragraphs[-1]._p.xml
    assert '<w:top w:val="single" w:sz="8"' in first
    assert '<w:bottom w:val="single" w:sz="8"' in last
    widths = [c.width for c in doc.tables[1].rows[0].cells]  # the overdue table
    assert sum(w for w in widths if w is not None) == pytest.approx(Mm(TEXT_WIDTH_MM), rel=1e-3)


def test_paragraph_properties_are_in_the_order_word_requires(tmp_path: Path) -> None:
    """The rules under the masthead and around the 版记 are written among the other paragraph
    properties in schema order (Word reports a file out of order as damaged)."""
    path = tmp_path / "b.docx"
    write_docx(stretched(tasks=2, overdue=1, problems=1, upcoming=0), {}, dict(OFFICIAL), path)
    order = {qn(tag): n for n, tag in enumerate(PPR_ORDER)}
    for ppr in Document(str(path)).element.body.iter(qn("w:pPr")):
        seen = [order[child.tag] for child in ppr]
        assert seen == sorted(seen), [child.tag for child in ppr]
