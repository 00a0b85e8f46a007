"""Properties of every inbox reader (CSV, JSON, xlsx) over generated files: no exception escapes
`collect`, every file ends landed, duplicate or rejected with a reason, a rejected file writes
nothing (table checksums), and a good file after a bad one always lands."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError
from sqlalchemy import Engine

from tests.intake.signed import sign_csv, sign_json
from tests.intake.support import checksums, good_csv, run
from tests.intake.test_inbox_hostile import a_workbook

QUICK = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


WORDS = ["推进中", "已完成", "受阻", "未开始", "in_progress", "done", "差不多", "150", "-1"]
WORDS += ["1e400", "NaN", "2021/6/21", "2021-06-21", "是", "否", "t1", "t2", "v11", "zzb", ""]
cells = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True).map(str),
)
HEADERS = ["单位代码", "事项编号", "本期状态", "本期进度%", "进展情况", "存在问题", "佐证材料"]
HEADERS += ["报送期", "签名", "指标项代码", "本期值", "unit", "item", "state", "节点", "junk"]


def check_one(engine: Engine, name: str, data: bytes, *, trusted: bool) -> None:
    """The properties for one generated file, then a good file after it."""
    with tempfile.TemporaryDirectory() as folder:
        _check_in(engine, Path(folder) / "inbox", name, data, trusted=trusted)


def _check_in(engine: Engine, inbox: Path, name: str, data: bytes, *, trusted: bool) -> None:
    inbox.mkdir()
    (inbox / name).write_bytes(data)
    before = checksums(engine)
    (outcome,) = run(engine, inbox, trusted="测试员" if trusted else None)
    assert outcome.status in {"landed", "duplicate", "rejected"}
    if outcome.status == "rejected":
        assert outcome.problems and all(p.message for p in outcome.problems)
        assert outcome.error_report is not None and outcome.error_report.exists()
        assert checksums(engine) == before
    (inbox / "zz-good.csv").write_bytes(good_csv(engine))
    (good,) = run(engine, inbox)
    assert good.status == "landed", good.problems


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *rows])
    return out.getvalue()


@QUICK
@given(
    header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8),
    rows=st.lists(st.lists(cells, max_size=9), max_size=5),
    sign=st.booleans(),
    trusted=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_any_csv(
    synced: Engine,
    header: list[str],
    rows: list[list[str]],
    sign: bool,
    trusted: bool,
    encoding: str,
) -> None:
    """Generated CSV reports (signed when their rows allow it)."""
    text = _csv_text(header, rows)
    if sign:
        with contextlib.suppress(KeyError, ValueError, IndexError):  # rows it cannot sign
            text = sign_csv(text)
    check_one(synced, "report.csv", text.encode(encoding), trusted=trusted)


def _containers(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    _containers,
    max_leaves=15,
)
entries = st.dictionaries(
    st.sampled_from(["item", "state", "percent", "note", "problem", "evidence", "measure"]),
    cells | json_values,
    max_size=6,
)
documents = st.fixed_dictionaries(
    {"unit": st.sampled_from(["t1", "t2", "v11"]) | json_values},
    optional={
        "period": cells | json_values,
        "reports": st.lists(entries, max_size=4) | json_values,
        "measures": st.lists(entries, max_size=3),
        "plan": cells,
    },
)


@QUICK
@given(document=documents | json_values, sign=st.booleans(), trusted=st.booleans())
def test_any_json(synced: Engine, document: Any, sign: bool, trusted: bool) -> None:
    """Generated JSON documents, shaped like reports or not (signed when they allow it)."""
    if sign and isinstance(document, dict):
        with contextlib.suppress(KeyError, ValueError, TypeError):  # entries it cannot sign
            document = sign_json(document)
    check_one(synced, "report.json", json.dumps(document).encode(), trusted=trusted)


@QUICK
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".json", ".xlsx"]))
def test_any_bytes(synced: Engine, data: bytes, suffix: str) -> None:
    """Arbitrary bytes under each supported extension."""
    check_one(synced, f"noise{suffix}", data, trusted=True)


_BOOKS: dict[str, bytes] = {}


def _book(engine: Engine) -> bytes:
    key = str(engine.url)
    if key not in _BOOKS:
        with tempfile.TemporaryDirectory() as folder:
            _BOOKS[key] = a_workbook(engine, Path(folder))
    return _BOOKS[key]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 14), cells | st.integers() | st.floats()),
        max_size=6,
    ),
    corrupt=st.none() | st.tuples(st.integers(0, 30), st.binary(max_size=60)),
    cut=st.none() | st.integers(0, 6000),
)
def test_any_workbook(
    synced: Engine,
    edits: list[tuple[int, int, Any]],
    corrupt: tuple[int, bytes] | None,
    cut: int | None,
) -> None:
    """A signed workbook with cells typed over, a zip member overwritten, or truncated."""
    book = openpyxl.load_workbook(io.BytesIO(_book(synced)))
    for row, column, value in edits:
        try:
            book["进展填报"].cell(row=row, column=column, value=value)
        # AttributeError: inside the merged title, past its first cell, nobody can type
        except (IllegalCharacterError, ValueError, AttributeError):
            assume(False)
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if corrupt is not None:
        index, content = corrupt
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
            members = source.infolist()
            for i, info in enumerate(members):
                hit = i == index % len(members)
                target.writestr(info.filename, content if hit else source.read(info.filename))
        data = out.getvalue()
    if cut is not None:
        data = data[:cut]
    check_one(synced, "t1.xlsx", data, trusted=False)
