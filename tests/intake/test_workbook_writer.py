"""The unit workbook written with XlsxWriter reads back, with openpyxl, exactly
as the openpyxl builder it replaced wrote it (:mod:`tests.intake.reference_workbook`): every
cell's value, type and look, row heights, column widths, merges, panes, validations, protection
and print settings; formula-like text quote-prefixed, empty and awkward values alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from domain.adapters.unit_workbook import MeasureRow, write_unit_workbook
from domain.rules.reporting import Cycle
from tests.intake.reference_workbook import reference_workbook

CYCLE = Cycle(date(2021, 12, 20), date(2021, 12, 26), date(2021, 12, 24))
AS_OF = date(2021, 12, 21)
STATES = ["assigned", "in_progress", "submitted", "blocked", "closed"]


def rgb(color: str | None) -> str | None:
    """A colour without its alpha byte: XlsxWriter writes FF (as Excel does), openpyxl 00, and
    Excel ignores it in cell colours."""
    return color[-6:] if color else color


def describe(path: Path) -> dict[str, Any]:
    """Everything a person or the intake reader can see of a workbook, as plain data. An empty
    cell has no type (XlsxWriter writes an empty text as a blank cell, openpyxl as an empty
    inline string: both read back as None); an absent ``fitToWidth`` is 1, the format's
    default (XlsxWriter writes it only when it is not 1); a column range stands for each of its
    columns."""
    book = openpyxl.load_workbook(path)
    out: dict[str, Any] = {
        "sheets": [(ws.title, ws.sheet_state) for ws in book.worksheets],
        "active": book.index(book.active),  # type: ignore[arg-type]
    }
    for ws in book.worksheets:
        d: dict[str, Any] = {}
        for row in ws.iter_rows():
            for c in row:
                f, fill, b, a = c.font, c.fill, c.border, c.alignment
                sides = [getattr(b, s) for s in ("left", "right", "top", "bottom")]
                d[c.coordinate] = (
                    c.value,
                    c.data_type if c.value is not None else None,
                    (f.name, f.sz, f.b),
                    (fill.patternType, rgb(fill.fgColor.rgb) if fill.patternType else None),
                    tuple((s.style, rgb(s.color.rgb) if s.color else None) for s in sides),
                    (a.horizontal, a.vertical, a.wrap_text),
                    c.protection.locked,
                    c.number_format,
                    c.quotePrefix,
                )
        d["rows"] = {r: dim.height for r, dim in ws.row_dimensions.items() if dim.height}
        d["cols"] = {  # XlsxWriter writes neighbouring columns alike as one range
            get_column_letter(n): (dim.width, dim.hidden)
            for dim in ws.column_dimensions.values()
            if dim.width or dim.hidden
            for n in range(dim.min or 1, (dim.max or dim.min or 1) + 1)
        }
        d["merged"] = sorted(str(m) for m in ws.merged_cells.ranges)
        d["freeze"] = ws.freeze_panes
        d["checks"] = sorted(
            (
                v.type,
                v.formula1,
                v.formula2,
                str(v.sqref),
                v.allow_blank,
                v.showErrorMessage,
                v.error,
            )
            for v in ws.data_validations.dataValidation
        )
        p = ws.protection
        d["protection"] = (p.sheet, p.formatColumns, p.formatRows, p.formatCells, p.insertRows)
        page, margins, fit = ws.page_setup, ws.page_margins, ws.sheet_properties.pageSetUpPr
        d["print"] = (
            (page.orientation, page.paperSize, page.fitToWidth or 1, page.fitToHeight),
            fit.fitToPage if fit is not None else None,
            ws.print_options.horizontalCentered,
            (margins.left, margins.right, margins.top, margins.bottom, margins.footer),
            (ws.oddFooter.center.text, ws.oddFooter.center.font),  # type: ignore[union-attr]
            ws.print_title_rows,
        )
        out[ws.title] = d
    return out


def both(tmp_path: Path, **inputs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    old, new = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    reference_workbook(old, **inputs)
    write_unit_workbook(new, **inputs)
    return describe(old), describe(new)


def inputs(
    items: list[tuple[object, ...]], measures: list[MeasureRow], **over: Any
) -> dict[str, Any]:
    return {
        "plan_id": "demo-plan",
        "unit_code": "v11",
        "unit_name": "甲镇社区",
        "as_of": AS_OF,
        "cycle": CYCLE,
        "coordinator": "示例县民政局",
        "items": items,
        "measures": measures,
    } | over


AWKWARD = [
    (7, "T01", "T01-M1", "印发方案", date(2021, 12, 31), "assigned", 0),
    (12, "=1+1", "-M2", "+加号开头的事项名称" + "很长" * 12, date(2022, 1, 5), "in_progress", 40),
    (30, "@T", "\tM3", "第一行\n第二行", date(2022, 1, 5), "blocked", 100),
]  # fmt: skip
MEASURES = [
    MeasureRow("has_site", "是否建有服务站", None, "是", yes_no=True),
    MeasureRow("area", "服务站面积", "m²", 12.5),
    MeasureRow("=code", "-负数开头", "", None),
    MeasureRow("open", "是否开放", None, None, yes_no=True),
]


@pytest.mark.parametrize(
    ("items", "measures", "over"),
    [
        (AWKWARD, MEASURES, {}),
        (AWKWARD[:1], [], {}),
        ([], [], {}),
        ([], MEASURES[1:3], {"unit_name": "=甲镇", "plan_id": "-plan", "coordinator": ""}),
    ],
    ids=["awkward", "one-item", "empty", "no-items-odd-names"],
)
def test_reads_back_as_the_openpyxl_builder_wrote_it(
    tmp_path: Path, items: list[tuple[object, ...]], measures: list[MeasureRow], over: Any
) -> None:
    """Formula-like text, wrapped and multi-line text, yes/no and numeric measures, no items
    and odd names: the same workbook, read back."""
    old, new = both(tmp_path, **inputs(items, measures, **over))
    assert new == old


text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=60)
item_rows = st.lists(
    st.tuples(
        st.integers(1, 10**7),
        text,
        text,
        text,
        st.dates(date(2021, 1, 1), date(2026, 12, 31)),
        st.sampled_from(STATES),
        st.integers(0, 100),
    ),
    max_size=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=item_rows, unit_name=text.filter(bool))
def test_any_text_reads_back_the_same(
    tmp_path: Path, items: list[tuple[object, ...]], unit_name: str
) -> None:
    """Whatever text the catalogue holds (any printable character, leading or trailing spaces,
    formula-like starts), both builders' workbooks read back the same."""
    old, new = both(tmp_path, **inputs(items, MEASURES[:2], unit_name=unit_name))
    assert new == old


def test_line_breaks_read_back_as_newlines(tmp_path: Path) -> None:
    """A carriage return, alone or before a newline, reads back as a newline (Excel's line
    break), not as an escape code."""
    row: tuple[object, ...] = (7, "a\rb", "c\r\nd", "e\nf", date(2021, 12, 31), "assigned", 0)
    path = tmp_path / "breaks.xlsx"
    write_unit_workbook(path, **inputs([row], []))
    sheet = openpyxl.load_workbook(path)["进展填报"]
    assert [c.value for c in sheet[3][1:4]] == ["a\nb", "c\nd", "e\nf"]


def test_control_characters_are_refused(tmp_path: Path) -> None:
    """A text XML cannot hold is refused, not written into a workbook no program opens."""
    bad: list[tuple[object, ...]] = [
        (7, "T01", "T01-M1", "a\x01b", date(2021, 12, 31), "assigned", 0)
    ]
    path = tmp_path / "bad.xlsx"
    with pytest.raises(ValueError, match="cannot hold"):
        write_unit_workbook(path, **inputs(bad, []))
    assert not path.exists()
