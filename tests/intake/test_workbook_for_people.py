"""The workbook as a person reads it on screen and on paper, and as it comes back: a title row
(unit, period, deadline) above the header, borders, a Chinese font of size 11, A4 landscape
with the title and header on every page, Chinese measure names; a percent typed as 70% read as
70, a date typed in a note kept as typed, a merged cell refused with the sheet and cells named.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from domain.adapters.intake.workbook_reader import read_xlsx
from domain.rules.intake.shown import percent_shown, shown_text
from domain.services.workbooks import FONT, HEADER_ROW, write_workbook
from duban.sample import fill_workbook
from models.clock import frozen_time
from models.db import session_scope
from models.orm import Plan, Report, Unit
from tests.intake.signed import PLAN
from tests.intake.support import item_of, run

PERIOD = date(2021, 12, 20)  # t1 has two items then: M2 (due 12-31) and M3's first quarter
RECEIVED = datetime(2021, 12, 21, 2, tzinfo=UTC)


def make(engine: Engine, unit: str, folder: Path, period: date = PERIOD) -> Path:
    with session_scope(engine) as session:
        plan = session.get(Plan, PLAN)
        row = session.scalars(select(Unit).where(Unit.code == unit)).one()
        assert plan is not None
        return write_workbook(session, plan, row, period, folder).path


def column_of(sheet: Any, header: str) -> int:
    return next(int(c.column) for c in sheet[HEADER_ROW] if c.value == header)


def row_of(sheet: Any, item: int) -> int:
    return next(
        r
        for r in range(HEADER_ROW + 1, sheet.max_row + 1)
        if sheet.cell(row=r, column=column_of(sheet, "事项编号")).value == item
    )


def reports(engine: Engine) -> dict[int, tuple[int | None, str | None]]:
    with session_scope(engine) as session:
        return {
            r.item_id: (r.percent, r.note)
            for r in session.scalars(select(Report).order_by(Report.id))
        }


# ---- on screen and on paper ------------------------------------------------------------------


def test_each_input_sheet_has_a_title_row_with_unit_period_and_deadline(
    synced: Engine, tmp_path: Path
) -> None:
    """Row 1 names the unit, the week reported on and its deadline; the header is row 2."""
    book = openpyxl.load_workbook(make(synced, "v11", tmp_path))
    for name in ("进展填报", "指标数据"):
        title = book[name]["A1"].value
        assert title.startswith("甲镇社区 "), name
        assert "报送期 2021年12月20日至2021年12月26日" in title
        assert "本期报送截止 2021年12月24日" in title
        assert str(book[name].merged_cells).startswith("A1:")
    assert book["进展填报"]["A2"].value == "事项编号"


def test_cells_have_borders_and_a_readable_chinese_font(synced: Engine, tmp_path: Path) -> None:
    """Every table cell, header and rows, in 宋体 of size 11 or more with a border all round."""
    book = openpyxl.load_workbook(make(synced, "v11", tmp_path))
    for name in ("进展填报", "指标数据"):
        sheet = book[name]
        cells = [c for row in sheet.iter_rows(min_row=HEADER_ROW) for c in row]
        assert len(cells) > 10
        assert {c.font.name for c in cells} == {FONT} == {"宋体"}
        assert min(c.font.size for c in cells) >= 11
        sides = {(c.border.left.style, c.border.bottom.style) for c in cells}
        assert sides == {("thin", "thin")}, name
    assert book["进展填报"]["A1"].font.size > 11  # the title stands out


def test_sheets_print_on_a4_landscape_one_page_wide_with_repeating_title_and_header(
    synced: Engine, tmp_path: Path
) -> None:
    """Page setup a printer follows: A4, landscape, fit to one page wide (any number of pages
    long), the title and header rows printed on every page."""
    book = openpyxl.load_workbook(make(synced, "v11", tmp_path))
    for name in ("进展填报", "指标数据"):
        sheet = book[name]
        setup = sheet.page_setup
        assert (setup.orientation, str(setup.paperSize)) == ("landscape", sheet.PAPERSIZE_A4)
        width = 1 if setup.fitToWidth is None else setup.fitToWidth  # absent: 1, the default
        assert (width, setup.fitToHeight) == (1, 0)
        fit = sheet.sheet_properties.pageSetUpPr
        assert fit is not None and fit.fitToPage
        assert sheet.print_title_rows == "$1:$2"


def test_measure_sheet_shows_chinese_names_and_hides_the_codes(
    synced: Engine, tmp_path: Path
) -> None:
    """指标数据 leads with 指标项 (户数, 设施面积); the code column (facility_area) is hidden."""
    sheet = openpyxl.load_workbook(make(synced, "v11", tmp_path))["指标数据"]
    header = [c.value for c in sheet[HEADER_ROW]]
    assert header[0] == "指标项"
    names = {sheet.cell(row=r, column=1).value for r in range(HEADER_ROW + 1, sheet.max_row + 1)}
    assert names == {"户数", "设施面积"}
    code = openpyxl.utils.get_column_letter(header.index("指标项代码") + 1)
    assert sheet.column_dimensions[code].hidden


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_printed_through_libreoffice_every_page_is_a4_landscape_with_the_title(
    synced: Engine, tmp_path: Path
) -> None:
    """LibreOffice prints the workbook to PDF: A4 landscape pages, the instructions first, each
    page of the progress sheet under the title row (the unit and the deadline)."""
    path = make(synced, "t1", tmp_path / "book")
    home = tmp_path / "home"  # LibreOffice's profile, away from the user's
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        capture_output=True,
        timeout=180,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    pdf = tmp_path / path.with_suffix(".pdf").name
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    assert "841.89 x 595.3" in info.stdout  # A4 landscape, in points
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")
    progress = [p for p in pages if "事项编号" in p]
    assert progress and all("甲镇 进展填报表" in p and "本期报送截止" in p for p in progress)
    assert "1. 本表由督办系统为 甲镇 生成" in pages[0]  # the instructions come first


# ---- as it comes back ------------------------------------------------------------------------


def test_a_percent_typed_as_70_percent_reads_as_70(synced: Engine, tmp_path: Path) -> None:
    """Typed 70% (stored 0.7 under Excel's percent format) or the text "45%": 70 and 45."""
    inbox = tmp_path / "inbox"
    path = make(synced, "t1", inbox)
    m2, m3 = item_of(synced, "M2", "t1"), item_of(synced, "M3", "t1")
    book = openpyxl.load_workbook(path)
    sheet = book["进展填报"]
    state, percent = column_of(sheet, "本期状态"), column_of(sheet, "本期进度%")
    for item, value, shown in ((m2, 0.7, "0%"), (m3, "45%", "General")):
        sheet.cell(row=row_of(sheet, item), column=state, value="推进中")
        cell = sheet.cell(row=row_of(sheet, item), column=percent, value=value)
        cell.number_format = shown
    book.save(path)
    with frozen_time(RECEIVED):
        (outcome,) = run(synced, inbox)
    assert outcome.status == "landed", outcome.problems
    assert {item: p for item, (p, _) in reports(synced).items()} == {m2: 70, m3: 45}


def test_a_date_typed_in_a_note_is_kept_as_typed(synced: Engine, tmp_path: Path) -> None:
    """A spreadsheet turns 2021-12-20 typed in 进展情况 into a date; it lands as "2021-12-20",
    and 12月20日 as "12月20日" (never "2021-12-20 00:00:00"); the workbook's note cells are
    text cells, so Excel keeps what is typed there as it is."""
    inbox = tmp_path / "inbox"
    path = make(synced, "t1", inbox)
    m2, m3 = item_of(synced, "M2", "t1"), item_of(synced, "M3", "t1")
    book = openpyxl.load_workbook(path)
    sheet = book["进展填报"]
    state, note = column_of(sheet, "本期状态"), column_of(sheet, "进展情况")
    assert sheet.cell(row=row_of(sheet, m2), column=note).number_format == "@"
    for item, fmt in ((m2, "yyyy-mm-dd"), (m3, 'm"月"d"日"')):
        sheet.cell(row=row_of(sheet, item), column=state, value="推进中")
        cell = sheet.cell(row=row_of(sheet, item), column=note, value=datetime(2021, 12, 20))  # noqa: DTZ001
        cell.number_format = fmt
    book.save(path)
    with frozen_time(RECEIVED):
        (outcome,) = run(synced, inbox)
    assert outcome.status == "landed", outcome.problems
    assert {item: n for item, (_, n) in reports(synced).items()} == {
        m2: "2021-12-20",
        m3: "12月20日",
    }


def test_a_merged_cell_in_the_data_area_is_refused_naming_sheet_and_cells(
    synced: Engine, tmp_path: Path
) -> None:
    """Two items' 进展情况 merged into one cell: refused, the reason naming the sheet and the
    cells (today the second note would vanish); the title row's own merge is no problem."""
    inbox = tmp_path / "inbox"
    path = make(synced, "t1", inbox)
    book = openpyxl.load_workbook(path)
    sheet = book["进展填报"]
    note = openpyxl.utils.get_column_letter(column_of(sheet, "进展情况"))
    state = column_of(sheet, "本期状态")
    for row in (3, 4):
        sheet.cell(row=row, column=state, value="推进中")
    sheet[f"{note}3"] = "两项一并推进"
    sheet.merge_cells(f"{note}3:{note}4")
    book.save(path)
    with frozen_time(RECEIVED):
        (outcome,) = run(synced, inbox)
    assert outcome.status == "rejected"
    (problem,) = outcome.problems
    assert f"“进展填报”表 {note}3:{note}4 是合并单元格" in problem.message
    assert problem.line == 3
    assert reports(synced) == {}


def test_a_workbook_without_the_title_row_still_reads(synced: Engine, tmp_path: Path) -> None:
    """A workbook sent before the title row existed (header in row 1) is read as before."""
    path = make(synced, "t1", tmp_path)
    m2 = item_of(synced, "M2", "t1")
    fill_workbook(path, {m2: {"state": "推进中", "percent": 20}})
    book = openpyxl.load_workbook(path)
    for name in ("进展填报", "指标数据"):
        if name in book.sheetnames:
            book[name].unmerge_cells(str(book[name].merged_cells).split()[0])
            book[name].delete_rows(1)
    book.save(path)
    parsed = read_xlsx(path, path.read_bytes())
    assert parsed.problems == []
    assert [(r.row, r.item_id, r.percent) for r in parsed.reports] == [(2, m2, 20)]


# ---- the rules of what a cell shows ----------------------------------------------------------


@given(st.integers(0, 100))
def test_any_whole_percent_typed_with_a_percent_sign_reads_back_whole(percent: int) -> None:
    """n% is stored as n/100 (a binary fraction); the percent shown is n again, exactly."""
    assert percent_shown(percent / 100, "0%") == percent
    assert percent_shown(percent / 100, "0.00%") == percent
    assert percent_shown(percent, "General") == percent
    assert percent_shown(percent / 100, '0"%"') == percent / 100  # a quoted % is only text


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)))
def test_any_date_in_a_text_column_reads_as_it_shows(day: date) -> None:
    """A date under the usual formats reads as the formatted text, with no time of day."""
    moment = datetime.combine(day, time())
    assert shown_text(moment, "yyyy-mm-dd") == day.isoformat()
    assert shown_text(moment, "mm-dd-yy") == day.isoformat()  # Excel's built-in short date
    assert shown_text(moment, "yyyy/m/d") == f"{day.year}/{day.month}/{day.day}"
    zh = f"{day.year}年{day.month}月{day.day}日"
    assert shown_text(moment, '[$-804]yyyy"年"m"月"d"日";@') == zh
    assert shown_text(day, "General") == day.isoformat()


def test_times_and_text_read_as_they_show() -> None:
    """A time of day keeps its minutes (m after h is minutes); text and numbers are untouched."""
    moment = datetime(2021, 12, 20, 9, 5)  # noqa: DTZ001 - a cell's date has no time zone
    assert shown_text(moment, "yyyy-mm-dd h:mm") == "2021-12-20 9:05"
    assert shown_text(time(14, 30), "hh:mm") == "14:30"
    assert shown_text(0.25, "0%") == "25%"
    assert shown_text("已摸底一半", "@") == "已摸底一半"
    assert shown_text(12, "General") == 12
