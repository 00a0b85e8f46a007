"""The bounded YAML reader (config.yaml_lines): refusals with a line, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import yaml_lines
from config.settings import DEFAULT_CATALOG
from config.yaml_lines import MAX_DEPTH, MAX_VALUES, parse_yaml

FILE = Path("plan.yaml")


def problems(text: str) -> list[tuple[int | None, str, str]]:
    _, _, found = parse_yaml(FILE, text.encode())
    return [(p.line, p.field, p.message) for p in found]


def test_aliases_within_the_bound_expand_as_yaml_says() -> None:
    """Shared blocks, a merge key and exactly MAX_VALUES values in all are read normally."""
    shared = "a: &a [" + ", ".join(["x"] * 99) + "]\n"  # 100 values with the sequence
    uses = (MAX_VALUES - 1 - 2 - 100 - 1) // 100  # the root, key `a`, block a, key `b` + list
    text = shared + "b: [" + ", ".join(["*a"] * uses) + "]\nc: {<<: {k: 1}, j: 2}\n"
    data, _, found = parse_yaml(FILE, text.encode())
    assert found == []
    assert len(data["b"]) == uses and data["b"][0] is data["a"]
    assert data["c"] == {"k": 1, "j": 2}


def test_the_expansion_bound_names_aliases_only_when_they_caused_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Too many values written out is a different mistake from too many alias expansions."""
    monkeypatch.setattr(yaml_lines, "MAX_VALUES", 1000)  # the rule, at a size that reads fast
    many = "x: [" + ", ".join(["1"] * 1000) + "]\n"
    assert problems(many) == [(1, "", "文件中的值超过 1000 个：请拆分成几个文件")]
    bomb = "a: &a [" + ", ".join(["x"] * 100) + "]\nb: [" + ", ".join(["*a"] * 10) + "]\n"
    [(line, _, message)] = problems(bomb)
    assert line == 2 and message.startswith("YAML 别名(*引用)展开过多（展开后超过 1000 个值）")


def test_aliases_count_towards_the_depth_bound() -> None:
    """A shallow alias to a deep block is as deep as the block it expands to (31 + 2 here)."""
    deep = "[" * (MAX_DEPTH - 2) + "x" + "]" * (MAX_DEPTH - 2)
    assert problems(f"a: &a {deep}\n") == []
    [(line, _, message)] = problems(f"a: &a {deep}\nb: [[*a]]\n")
    assert line == 2 and message.startswith(f"嵌套超过 {MAX_DEPTH} 层")


@pytest.mark.parametrize(
    "text",
    ['!!timestamp ""', "!!int abc", "x: !!float 1,5", "!!bool maybe", 'x: !!int "0x"'],
)
def test_a_value_that_does_not_fit_its_tag_is_a_problem(text: str) -> None:
    """An explicit tag the value cannot satisfy: a problem on its line, not a crash."""
    [(line, _, message)] = problems(text)
    assert line == 1 and "无法读取" in message


def test_unstorable_text_is_found_in_every_kind_of_collection() -> None:
    """U+0000 inside a !!set or !!pairs, or a surrogate in a key: reported with the path."""
    found = problems('e: !!set {"a\\0": null}\np: !!pairs ["\\0": 1]\nk: {"\\uDC00": 1}\n')
    assert [(line, field) for line, field, _ in found] == [
        (1, "e[0]"),
        (2, "p[0][0]"),
        (3, "k.\udc00"),
    ]


def test_a_clean_file_gets_the_lines_the_careful_reader_gives() -> None:
    """libyaml reads a clean file; the lines asked of it later are those of the line-marking
    reader, for every field of the Shidian plan's files."""
    for path in sorted(DEFAULT_CATALOG.glob("*.yaml")):
        raw = path.read_bytes()
        data, index, found = parse_yaml(path, raw)
        careful, careful_index, careful_found = yaml_lines._careful_parse(path, raw.decode())
        assert found == careful_found == [] and data == careful
        every = careful_index._lines
        assert isinstance(every, dict) and len(every) > 10
        assert {loc: index.line(loc) for loc in every} == every, path.name


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # libyaml keeps the last; the careful reader names the duplicate
        "a: &x [1, *x]\n",  # an alias inside its own anchor
        "x: " + "9" * 200 + "\n",  # an integer past the bound
        'a: "\\0"\n',  # text a database cannot store
    ],
)
def test_what_libyaml_reads_without_complaint_is_still_refused(text: str) -> None:
    """The fast read gives way to the careful reader whenever the careful one has a problem."""
    assert problems(text)
