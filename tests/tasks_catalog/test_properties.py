"""Property: whatever a catalogue holds, it validates and syncs, or it is refused whole.

A valid small catalogue is mutated at random (values of any type in any field, deleted and
unknown keys, shared blocks written as aliases, duplicate keys, alias bombs, recursion, deep
nesting, odd unicode) and run through `duban catalog validate` and `sync` in-process. Either
both succeed, or both exit 2 naming the file, without a traceback and with every table of the
database unchanged.
"""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from config.errors import InputError
from config.settings import Settings
from config.yaml_lines import Loc
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import minimal_catalog
from tests.fixtures.db import table_checksums
from tests.tasks_catalog.cli_probe import assert_refused, run_cli


class DuplicateKeys(list[tuple[Any, Any]]):
    """Key-value pairs dumped as one YAML mapping, repeated keys and all."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    DuplicateKeys,
    lambda dumper, pairs: dumper.represent_mapping("tag:yaml.org,2002:map", list(pairs)),
)


def _paths(data: Any, loc: Loc = ()) -> list[Loc]:
    found = [loc] if loc else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*loc, i))
    return found


def _parent(data: Any, loc: Loc) -> Any:
    for part in loc[:-1]:
        data = data[part]
    return data


PATHS = _paths(minimal_catalog())
NUMBER_PATHS = [
    loc
    for loc in PATHS
    if type(_parent(minimal_catalog(), loc)[loc[-1]]) in {int, float}  # bool is not a number here
]
"""Where the fixture holds numbers: picked more often, as numbers are where sync used to fail."""
OPTIONAL_KEYS = [
    "weight",
    "phone",
    "unit_of_measure",
    "timezone",
    "reporting",
    "contacts",
    "briefing_title",
    "start",
    "owner",
    "factor",
    "division_code",
    "lead_unit",
    "备注",
]
ODD_TEXT = [
    "",
    "  ",
    "\x00",
    "甲\ud800乙",
    "\u202e右到左",
    "\ufeffBOM",
    "行\u2028分隔",
    "😀",
    "x" * 70,
    '=HYPERLINK("http://evil/")',
    "2021-06-31",
    "townships",
    "villages",
    "mzj",
    "M1",
]


def laughs(levels: int) -> list[Any]:
    """Ten lists of ten lists …: dumped as anchors and aliases, 10^levels values expanded."""
    block: list[Any] = ["lol"] * 10
    for _ in range(levels - 1):
        block = [block] * 10
    return block


def recursive() -> list[Any]:
    inner: list[Any] = []
    inner.append(inner)
    return inner


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


scalars = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.booleans(),
    st.none(),
    st.dates(),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 12, 31)),
    st.text(max_size=20),
    st.sampled_from(ODD_TEXT),
)
SPECIAL_NUMBERS = [float("nan"), float("inf"), 10**30, 2**31, 2**63, -1, 0, 1e30, 1e-300]
numbers = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS),
    st.sampled_from(SPECIAL_NUMBERS),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
)
"""Numbers at and beyond every range a column or a field might have."""
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["m²", "户" * 16, "户" * 17, "Asia/Shanghai", "Mars/Olympus", "x" * 70]),
    st.sampled_from(ODD_TEXT),
)
hostile = st.one_of(
    st.builds(laughs, st.integers(min_value=1, max_value=9)),
    st.builds(recursive),
    st.builds(nested, st.integers(min_value=1, max_value=80)),
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=8), scalars, max_size=2),
)
values = st.one_of(scalars, hostile)


def _like(original: Any) -> st.SearchStrategy[Any]:
    """Values of the original's own type, so that many mutants stay valid and get synced."""
    if isinstance(original, bool):
        return st.booleans()
    if isinstance(original, int | float):
        return st.one_of(st.integers(min_value=-5, max_value=200_000), st.integers(), st.floats())
    if isinstance(original, date):
        return st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 12, 31))
    if isinstance(original, str):
        return st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(ODD_TEXT))
    return values


VALUE_KINDS = ["number", "text", "like"]
"""Mutations that keep the shape: many mutants stay valid, so sync gets exercised."""
SHAPE_KINDS = ["any", "delete", "unknown", "share", "duplicate"]
"""Mutations of the shape: wrong types, missing and unknown keys, aliases, duplicate keys."""
NUMBER_SLOTS: list[Loc] = [("tasks", 1, "weight"), ("plan", "reporting", "due"), *NUMBER_PATHS]
"""Where numbers go: the fixture's own and optional ones it leaves out."""
TEXT_SLOTS: list[Loc] = [
    ("measures", 0, "unit_of_measure"),
    ("indicators", 0, "unit_of_measure"),
    ("plan", "timezone"),
]
"""Optional texts stored in length-limited columns."""


@st.composite
def mutants(draw: st.DrawFn, kinds: list[str]) -> dict[str, Any]:
    """The fixture catalogue with one to three random mutations of these kinds (a number or a
    text first, if those are among them)."""
    data = minimal_catalog()
    data["plan"]["reporting"] = {"cycle": "weekly"}
    first = draw(st.sampled_from([k for k in kinds if k in {"number", "text"}] or kinds))
    for n in range(draw(st.integers(min_value=1, max_value=3))):
        kind = first if n == 0 else draw(st.sampled_from(kinds))
        if kind in {"number", "text"}:
            slot = draw(st.sampled_from(NUMBER_SLOTS if kind == "number" else TEXT_SLOTS))
            value = draw(numbers if kind == "number" else texts)
            with contextlib.suppress(KeyError, IndexError, TypeError):  # gone by an earlier edit
                _parent(data, slot)[slot[-1]] = value
            continue
        loc = draw(st.sampled_from(PATHS))
        try:
            parent = _parent(data, loc)
            original = parent[loc[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        if kind == "like":
            parent[loc[-1]] = draw(_like(original))
        elif kind == "any":
            parent[loc[-1]] = draw(values)
        elif kind == "delete":
            del parent[loc[-1]]
        elif kind == "unknown" and isinstance(original, dict):
            original[draw(st.sampled_from(OPTIONAL_KEYS))] = draw(values)
        elif kind == "share":
            other = draw(st.sampled_from(PATHS))
            try:
                parent[loc[-1]] = _parent(data, other)[other[-1]]  # dumped as an alias
            except (KeyError, IndexError, TypeError):
                continue
        elif kind == "duplicate" and isinstance(original, dict) and original:
            pairs = list(original.items())
            key = draw(st.sampled_from([k for k, _ in pairs]))
            parent[loc[-1]] = DuplicateKeys([*pairs, (key, draw(_like(original[key])))])
    return data


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


def _validate_then_sync(folder: Path, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """validate and sync agree; a refusal is exit 2 naming the file, and writes nothing."""
    validated = run_cli(capsys, "catalog", "validate", str(folder))
    before = table_checksums(engine)
    synced = run_cli(capsys, "catalog", "sync", "--allow-retire", str(folder))
    event("valid" if validated.code == 0 else "refused")
    if validated.code == 0:
        assert synced.code == 0, synced.err
        return
    assert_refused(validated, str(folder))
    assert_refused(synced, str(folder))
    assert table_checksums(engine) == before


def _write(tmp_path: Path, mutant: dict[str, Any]) -> Path:
    folder = tmp_path / "plan"
    folder.mkdir(exist_ok=True)
    (folder / "plan.yaml").write_text(_dump(mutant), encoding="utf-8")
    return folder


PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(mutant=mutants(VALUE_KINDS))
def test_any_values_in_the_fields_validate_and_sync_or_are_refused_whole(
    mutant: dict[str, Any],
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Numbers out of every range, nan, inf, odd and long texts: what validates also syncs."""
    _validate_then_sync(_write(tmp_path, mutant), engine, capsys)


@PROPERTY
@given(mutant=mutants(SHAPE_KINDS))
def test_any_shape_validates_and_syncs_or_is_refused_whole(
    mutant: dict[str, Any],
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Wrong types, alias bombs, recursion, deep nesting, duplicate and unknown keys."""
    _validate_then_sync(_write(tmp_path, mutant), engine, capsys)


YAML_PIECES = [
    "plan:",
    "tasks:",
    "units:",
    "- ",
    "  ",
    "\n",
    ": ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "<<: ",
    "? ",
    "'",
    '"',
    '"\\0"',
    '"\\ud800"',
    "!!binary AAE=",
    "!!python/object/apply:os.system ['true']",
    "!!set ",
    "!!timestamp ",
    "9" * 120,
    "1:2:3",
    ".nan",
    "-.inf",
    "0x1F",
    "2021-02-30",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "#",
    "甲",
    "\t",
]


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pieces=st.lists(st.sampled_from(YAML_PIECES), max_size=40))
def test_the_loader_never_raises_anything_but_input_error(
    pieces: list[str], tmp_path: Path
) -> None:
    """Any text made of YAML's syntax loads or is refused with problems in that file."""
    path = tmp_path / "plan.yaml"
    path.write_text("".join(pieces), encoding="utf-8")
    try:
        load_catalog(path)
    except InputError as error:
        assert error.problems
        assert {p.file for p in error.problems} == {path}
