"""Read YAML while remembering where each value came from, so errors can name the line.

PyYAML's composer gives every node a start mark; we walk the node tree once and record, for each
path of keys and indexes, the 1-based line where that entry starts. Duplicate keys (which YAML
would silently collapse into the last one) are reported as problems.

The reader is bounded before anything is expanded: a file over :data:`MAX_FILE_BYTES`, nesting
deeper than :data:`MAX_DEPTH`, more than :data:`MAX_VALUES` values once aliases (``*name``) are
expanded, an alias inside its own anchor, or an integer longer than :data:`MAX_INT_CHARS` is a
problem naming the file and line, never a crash or a runaway. So is text a database cannot
store (U+0000, lone surrogates) and ``!!binary`` data.

A document is first read with libyaml (``yaml.CSafeLoader``, about six times faster) and its
composed nodes checked against the same bounds; only a document that fails that read or any
check is read again by the line-marking pure-Python reader, whose problems are the ones
reported. The lines of a clean document are worked out when first asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from config.errors import Problem
from config.yaml_words import yaml_error_words

Loc = tuple[str | int, ...]

MAX_FILE_BYTES = 1024 * 1024
"""Largest file read; the Shidian plan's largest file is 18 KB."""
MAX_DEPTH = 32
"""Deepest nesting of collections and values, aliases expanded; a catalogue needs 7."""
MAX_VALUES = 100_000
"""Most values (keys, scalars, collections) in one file once aliases are expanded; Shidian's
largest file has 1,700."""
MAX_INT_CHARS = 100
"""Longest integer literal (Python refuses long ones; base-60 ones grow quadratically)."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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
    """Maps a field path in one YAML document to the line it starts on; ``lines`` is the map or
    a function that makes it when a line is first asked for."""

    def __init__(self, lines: dict[Loc, int] | Callable[[], dict[Loc, int]]) -> None:
        self._lines = lines

    def line(self, loc: Loc) -> int | None:
        """The line of ``loc``, or of its nearest ancestor that exists in the file."""
        if callable(self._lines):
            self._lines = self._lines()
        while True:
            if loc in self._lines:
                return self._lines[loc]
            if not loc:
                return None
            loc = loc[:-1]


class _LimitError(Exception):
    """The reader refuses the document at ``line`` (a bound hit, a value it cannot read)."""

    def __init__(self, mark: Any, message: str) -> None:  # a yaml.Mark or None
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.message = message


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses, while composing, what would expand beyond the reader's bounds.

    Each node's expanded size and height are computed from its children's (an alias counts as
    its anchor's), so a "billion laughs" file is refused after composing a few dozen nodes.
    A value its tag cannot make (``!!int abc``, impossible dates such as 2021-06-31) is a marked
    error, not a bare exception.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._composed = 0
        self._measures: dict[int, tuple[int, int]] = {}  # id(node) → (expanded size, height)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self._measures:
                raise _LimitError(
                    event.start_mark,
                    f"YAML 别名 *{event.anchor} 写在它所引用的 &{event.anchor} 块之内（循环引用），"
                    "无法展开：请直接写出内容",
                )
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise _LimitError(event.start_mark, _too_deep())
        self._composed += 1
        if self._composed > MAX_VALUES:  # refused as soon as counted, not when its list ends
            raise _LimitError(event.start_mark, self._too_many())
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        assert node is not None  # only an alias event composes to an existing node
        measured = [self._measures[id(child)] for child in _children(node)]
        size = 1 + sum(s for s, _ in measured)
        height = 1 + max((h for _, h in measured), default=0)
        self._measures[id(node)] = (size, height)
        if height > MAX_DEPTH:
            raise _LimitError(node.start_mark, _too_deep())
        if size > MAX_VALUES:
            raise _LimitError(node.start_mark, self._too_many())
        return node

    def _too_many(self) -> str:
        if self._composed > MAX_VALUES:
            return f"文件中的值超过 {MAX_VALUES} 个：请拆分成几个文件"
        return (
            f"YAML 别名(*引用)展开过多（展开后超过 {MAX_VALUES} 个值），"
            "请直接写出内容，或只用别名引用小块的共用内容"
        )

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError):
            tag = "!!" + node.tag.rpartition(":")[2]
            raise _LimitError(
                node.start_mark, f"这个值不是合法的 {tag}，无法读取：请改正它，或去掉 {tag} 标记"
            ) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        if len(node.value) > MAX_INT_CHARS:
            raise _LimitError(
                node.start_mark,
                f"整数 {node.value[:20]}… 超过 {MAX_INT_CHARS} 个字符，请改正这个数",
            )
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            reason = (
                f"{node.value!r} 不是日历上有的日期：请写成 年-月-日（如 2021-12-31），"
                "月份 1–12，日子不超过该月天数"
            )
            raise yaml.constructor.ConstructorError(None, None, reason, node.start_mark) from exc


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


class _FastLoader(yaml.CSafeLoader):
    """libyaml's parser and composer with the constructors of :class:`_Loader`'s bounds."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        if len(node.value) > MAX_INT_CHARS:
            raise _UncleanError
        return super().construct_yaml_int(node)


_FastLoader.add_constructor("tag:yaml.org,2002:int", _FastLoader.construct_yaml_int)


class _UncleanError(Exception):
    """The fast read found something the line-marking reader must report."""


def _measure(node: yaml.Node, measured: dict[int, tuple[int, int]], open_: set[int]) -> int:
    """The expanded size of ``node`` (aliases counted as often as they are used), recording
    each node's (size, height) once; raises :class:`_UncleanError` past a bound, at a duplicate key
    or at a node inside itself (an alias inside its own anchor)."""
    key = id(node)
    if key in measured:
        return measured[key][0]
    if key in open_ or len(open_) >= MAX_DEPTH:
        raise _UncleanError
    open_.add(key)
    size, height = 1, 1
    if isinstance(node, yaml.MappingNode):
        seen: set[tuple[str, Any]] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if (key_node.tag, key_node.value) in seen:
                    raise _UncleanError
                seen.add((key_node.tag, key_node.value))
            for child in (key_node, value_node):
                size += _measure(child, measured, open_)
                height = max(height, 1 + measured[id(child)][1])
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _measure(child, measured, open_)
            height = max(height, 1 + measured[id(child)][1])
    open_.discard(key)
    if size > MAX_VALUES or height > MAX_DEPTH:
        raise _UncleanError
    measured[key] = (size, height)
    return size


def _fast_parse(text: str) -> tuple[Any, bool]:
    """(data, True) when libyaml reads ``text`` within every bound with nothing to report;
    (None, False) when the line-marking reader must read it again."""
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, True
        _measure(node, {}, set())
        data = loader.construct_document(node)
    except Exception:  # any fault at all: the careful reader says what it is
        return None, False
    finally:
        loader.dispose()
    found: list[Problem] = []
    _unstorable(Path(), data, (), LineIndex({}), found)
    return (None, False) if found else (data, True)


def _lines_of(text: str) -> Callable[[], dict[Loc, int]]:
    """The line of each field path of a document :func:`_fast_parse` read cleanly."""

    def lines() -> dict[Loc, int]:
        found: dict[Loc, int] = {(): 1}
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
        if node is not None:
            _walk(Path(), node, (), found, [])
        return found

    return lines


def _too_deep() -> str:
    return f"嵌套超过 {MAX_DEPTH} 层（YAML 别名按展开后计）：请检查缩进和括号"


def _walk(
    path: Path, node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[Problem]
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a collection as a key: the constructor refuses it
            key = key_node.value
            line = key_node.start_mark.line + 1
            if (key_node.tag, key) in seen:
                first = seen[(key_node.tag, key)]
                message = (
                    f"键重复（第一次出现在第 {first} 行），YAML 只会保留最后一个：请合并或删去其一"
                )
                problems.append(Problem(path, line, format_loc((*loc, key)), message))
            seen[(key_node.tag, key)] = line
            lines[(*loc, key)] = line
            _walk(path, value_node, (*loc, key), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _walk(path, item, (*loc, index), lines, problems)


def _unstorable(path: Path, data: Any, loc: Loc, index: LineIndex, problems: list[Problem]) -> None:
    """Report text a database cannot store and binary data, anywhere in ``data``."""
    found = None
    if isinstance(data, str):
        bad = _UNSTORABLE.search(data)
        if bad:
            found = f"含有无法保存的字符 U+{ord(bad.group()):04X}（空字符或孤立的代理项），请删除"
    elif isinstance(data, bytes):
        found = "不支持 !!binary 二进制数据，请直接写文字"
    elif isinstance(data, dict):
        for key, value in data.items():
            sub = (*loc, key if isinstance(key, str | int) else str(key))
            _unstorable(path, key, sub, index, problems)
            _unstorable(path, value, sub, index, problems)
    elif isinstance(data, list | tuple | set | frozenset):  # !!set, !!omap, !!pairs too
        for i, value in enumerate(data):
            _unstorable(path, value, (*loc, i), index, problems)
    if found:
        problems.append(Problem(path, index.line(loc), format_loc(loc), found))


def read_bounded(path: Path) -> tuple[bytes | None, list[Problem]]:
    """The file's bytes, or None with a problem if it cannot be read or exceeds the size bound."""
    if path.exists() and not path.is_file():  # a folder, a device, a pipe that would block
        return None, [Problem(path, None, "", "不是普通文件，无法读取：请改用 YAML 文件")]
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [Problem(path, None, "", f"无法读取文件：{exc.strerror or exc}")]
    if len(raw) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        message = f"文件超过 {limit} MB 的上限：请确认没有选错文件；内容确实很多时请拆分成几个文件"
        return None, [Problem(path, None, "", message)]
    return raw, []


def parse_yaml(path: Path, raw: bytes) -> tuple[Any, LineIndex, list[Problem]]:
    """Parse one YAML document read from ``path``; returns (data, line index, problems).

    Data is None if the document is empty or was refused (then a problem says why).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            None,
            LineIndex({}),
            [Problem(path, None, "", f"不是 UTF-8 编码的文本（{exc.reason}），请另存为 UTF-8")],
        )
    data, clean = _fast_parse(text)
    if clean:
        return data, LineIndex(_lines_of(text)), []
    return _careful_parse(path, text)


def _careful_parse(path: Path, text: str) -> tuple[Any, LineIndex, list[Problem]]:
    """:func:`parse_yaml` by the pure-Python reader that marks lines and names each problem."""
    lines: dict[Loc, int] = {(): 1}
    problems: list[Problem] = []
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, LineIndex(lines), []
        _walk(path, node, (), lines, problems)  # before constructing: merges rewrite the nodes
        data = loader.construct_document(node)
    except _LimitError as exc:
        return None, LineIndex({}), [Problem(path, exc.line, "", exc.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        detail = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        line, meaning = yaml_error_words(text.splitlines(), line, detail)
        return None, LineIndex({}), [Problem(path, line, "", f"YAML 格式错误：{meaning}")]
    except yaml.YAMLError as exc:
        return None, LineIndex({}), [Problem(path, None, "", f"YAML 格式错误：{exc}")]
    finally:
        loader.dispose()
    index = LineIndex(lines)
    _unstorable(path, data, (), index, problems)
    return data, index, problems


def read_yaml(path: Path) -> tuple[Any, LineIndex, list[Problem]]:
    """Read and parse one YAML file within the reader's bounds (see the module docstring)."""
    raw, problems = read_bounded(path)
    if raw is None:
        return None, LineIndex({}), problems
    return parse_yaml(path, raw)
