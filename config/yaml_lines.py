"""Read YAML while remembering where each value came from, so errors can name the line.

PyYAML's composer gives every node a start mark; we walk the node tree once and record, for each
path of keys and indexes, the 1-based line where that entry starts. Duplicate keys (which YAML
would silently collapse into the last one) are reported as problems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from config.errors import Problem

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """``('tasks', 3, 'milestones', 1, 'due')`` → ``tasks[3].milestones[1].due``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class LineIndex:
    """Maps a field path in one YAML document to the line it starts on."""

    def __init__(self, lines: dict[Loc, int]) -> None:
        self._lines = lines

    def line(self, loc: Loc) -> int | None:
        """The line of ``loc``, or of its nearest ancestor that exists in the file."""
        while True:
            if loc in self._lines:
                return self._lines[loc]
            if not loc:
                return None
            loc = loc[:-1]


def _walk(
    path: Path, node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[Problem]
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if (key_node.tag, key) in seen:
                first = seen[(key_node.tag, key)]
                message = f"duplicate key (first on line {first}); YAML would keep only the last"
                problems.append(Problem(path, line, format_loc((*loc, key)), message))
            seen[(key_node.tag, key)] = line
            lines[(*loc, key)] = line
            _walk(path, value_node, (*loc, key), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _walk(path, item, (*loc, index), lines, problems)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose impossible dates (2021-06-31) are marked errors, not bare ValueErrors."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from exc


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_yaml(path: Path) -> tuple[Any, LineIndex, list[Problem]]:
    """Parse one YAML file; returns (data, line index, problems). Data is None if unparsable."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, LineIndex({}), [Problem(path, None, "", f"not UTF-8 text ({exc.reason})")]
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        return None, LineIndex({}), [Problem(path, line, "", f"invalid YAML: {message}")]
    except yaml.YAMLError as exc:
        return None, LineIndex({}), [Problem(path, None, "", f"invalid YAML: {exc}")]
    lines: dict[Loc, int] = {(): 1}
    problems: list[Problem] = []
    if node is not None:
        _walk(path, node, (), lines, problems)
    return data, LineIndex(lines), problems
