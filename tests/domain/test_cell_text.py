"""Text cells are never formulas: the rule, and the unit workbooks written with it."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import Engine, select

from config.settings import Settings
from domain.queries.sync import sync_catalog
from domain.rules.cell_text import csv_cell, csv_cell_read, looks_like_formula, put_cell
from domain.services.intake.inbox import collect
from domain.services.workbooks import write_workbook
from duban.sample import fill_workbook
from models.clock import frozen_time
from models.db import session_scope
from models.orm import Milestone, Plan, Unit, WorkItem
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter

CORPUS = Path(__file__).parent.parent / "corpus" / "outputs"
HOSTILE = [line for line in (CORPUS / "formula_texts.txt").read_text("utf-8").splitlines() if line]
AT = datetime(2021, 6, 25, 9, tzinfo=UTC)


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_is_recognised(text: str) -> None:
    """Each reproducer of the corpus (=, +, -, @ first) is formula-like."""
    assert looks_like_formula(text)


@pytest.mark.parametrize("text", ["印发方案", "1=1", "a-b", " =1", "", "2021-06-30", "邮箱 a@b.cn"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    """Text whose first character is not a formula start passes through CSV unchanged."""
    assert not looks_like_formula(text)
    assert csv_cell(text) == text


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cell_prefixes_an_apostrophe(start: str) -> None:
    """OWASP's six formula starts each get one leading apostrophe in a CSV."""
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"


def test_numbers_stay_numbers() -> None:
    """A negative number is a number, not text: CSV writes it as it is."""
    assert csv_cell(-5) == -5
    assert csv_cell(None) is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_reading_back_gives_exactly_the_text_written(text: str) -> None:
    """Whatever the text, csv_cell_read(csv_cell(text)) is the text, and what is written is
    never formula-like."""
    written = csv_cell(text)
    assert isinstance(written, str)
    assert not looks_like_formula(written)
    assert csv_cell_read(written) == text


def test_an_apostrophe_the_unit_typed_is_kept() -> None:
    """Only the apostrophe the rule adds is taken off: '好的 stays '好的, and a text that was
    itself an apostrophe before a formula ('=1) is written with one more and comes back."""
    assert csv_cell_read("'好的") == "'好的"
    assert csv_cell("'=1") == "''=1"
    assert csv_cell_read("''=1") == "'=1"


def test_csv_round_trip_through_the_csv_module() -> None:
    """A row written with csv_cell and read with csv_cell_read comes back unchanged."""
    handle = io.StringIO()
    csv.writer(handle).writerow([csv_cell(t) for t in HOSTILE])
    (row,) = csv.reader(io.StringIO(handle.getvalue()))
    assert all(cell.startswith("'") for cell in row)
    assert [csv_cell_read(cell) for cell in row] == HOSTILE


def test_put_cell_writes_a_string_cell_for_every_text(tmp_path: Path) -> None:
    """openpyxl would make "=…" a formula and "#N/A" an error; put_cell keeps both text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    texts = [*HOSTILE, "#N/A", "#DIV/0!"]
    for row, text in enumerate(texts, start=1):
        put_cell(sheet.cell(row=row, column=1), text)
    put_cell(sheet.cell(row=1, column=2), 42)
    path = tmp_path / "t.xlsx"
    book.save(path)
    assert formulas_in(path) == []
    again = openpyxl.load_workbook(path).active
    assert again is not None
    assert [again.cell(row=r, column=1).value for r in range(1, len(texts) + 1)] == texts
    assert {again.cell(row=r, column=1).data_type for r in range(1, len(texts) + 1)} == {"s"}
    assert [again.cell(row=r, column=1).quotePrefix for r in range(1, len(texts) + 1)] == [
        looks_like_formula(t) for t in texts
    ]
    assert again["B1"].value == 42


def formulas_in(path: Path) -> list[str]:
    """Every formula element in every worksheet of an .xlsx (its raw XML)."""
    found = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                if "<f>" in xml or "<f " in xml:
                    found.append(name)
    return found


def hostile_catalog(c: dict[str, Any]) -> None:
    """Catalogue text that looks like formulas: a milestone title, measure names and units."""
    c["tasks"][1]["milestones"][0]["title"] = HOSTILE[0]
    c["measures"][0]["name"] = HOSTILE[1]
    c["measures"][0]["unit_of_measure"] = HOSTILE[3]  # VARCHAR(16)
    c["measures"][1]["name"] = HOSTILE[2]
    c["units"][5]["name"] = "../甲镇/社区"  # v11: a name that would be a path


@pytest.fixture
def hostile(settings: Settings, engine: Engine, write_catalog: CatalogWriter) -> Iterator[Engine]:
    with frozen_time(AT):
        with session_scope(engine) as session:
            sync_catalog(session, load_catalog(write_catalog(edit=hostile_catalog))[0])
        yield engine


def unit_workbook(engine: Engine, unit: str, out: Path) -> Path:
    with session_scope(engine) as session:
        plan = session.get(Plan, "demo-plan")
        row = session.scalars(select(Unit).where(Unit.code == unit)).one()
        assert plan is not None
        return write_workbook(session, plan, row, date(2021, 6, 21), out).path


def test_catalogue_text_in_a_unit_workbook_is_never_a_formula(
    hostile: Engine, tmp_path: Path
) -> None:
    """A milestone titled =HYPERLINK(…) and measures named @…/+… are plain text cells in the
    workbook: no formula in any sheet's XML, every text cell a string, the text exactly kept."""
    path = unit_workbook(hostile, "v11", tmp_path)
    assert formulas_in(path) == []
    book = openpyxl.load_workbook(path)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert set(HOSTILE) <= texts
    assert {c.data_type for c in cells if isinstance(c.value, str)} == {"s"}


def test_a_unit_name_never_makes_a_workbook_path(hostile: Engine, tmp_path: Path) -> None:
    """A unit named ../甲镇/社区 gets its workbook in the folder asked for, slashes replaced."""
    out = tmp_path / "workbooks"
    path = unit_workbook(hostile, "v11", out)
    assert path.parent == out and path.name == "v11-.._甲镇_社区-2021-06-21.xlsx"
    assert path.is_file()


def test_a_hostile_workbook_still_comes_back_and_lands(hostile: Engine, tmp_path: Path) -> None:
    """The unit fills in the row of the =HYPERLINK(…) milestone; the file lands as usual."""
    inbox = tmp_path / "inbox"
    path = unit_workbook(hostile, "v11", inbox)
    with session_scope(hostile) as session:
        item = session.scalars(
            select(WorkItem.id)
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Unit, Unit.id == WorkItem.unit_id)
            .where(Milestone.title == HOSTILE[0], Unit.code == "v11")
        ).one()
    fill_workbook(path, {item: {"state": "推进中", "percent": 40, "note": "-已摸底一半"}}, {})
    with frozen_time(AT):
        (outcome,) = collect(hostile, "demo-plan", inbox)
    assert outcome.status == "landed", outcome.problems
