"""What a YAML syntax error means, in Chinese, for the person who edited the file: the common
slips of a Chinese keyboard (a full-width colon, a tab) named on the line where they are."""

from __future__ import annotations

import re

_FULL_WIDTH_KEY = re.compile(r"^\s*(?:-\s+)?[\w.\-]+\s*：")
"""A key ended by a full-width colon (``due：2026-06-30``), as a Chinese input method types it."""

_MEANINGS = (
    (
        "mapping values are not allowed",
        "这里不能出现“键: 值”：可能是缩进不对，或值里有半角冒号而没加引号",
    ),
    ("could not find expected ':'", "缺少半角冒号“:”（“键: 值”的冒号后要留一个空格）"),
    ("expected <block end>", "缩进不一致：请让同一级的行对齐（只用空格）"),
    ("did not find expected key", "缩进不一致：请让同一级的行对齐（只用空格）"),
    ("did not find expected '-' indicator", "列表的缩进不一致：每项以“- ”开头并对齐"),
    ("found unexpected end of stream", "引号或括号没有配对"),
    ("found unknown escape character", "双引号里的“\\”后面跟了不认识的字符：请改用单引号"),
    ("cannot start any token", "这一行以 YAML 不允许的字符开头：请给这个值加上引号"),
    ("found duplicate anchor", "同一个锚点（&名称）定义了两次"),
    ("found undefined alias", "引用了没有定义的锚点（*名称）"),
)


def yaml_error_words(lines: list[str], line: int | None, detail: str) -> tuple[int | None, str]:
    """The line to name and what went wrong there, for PyYAML's ``detail`` (its context and
    problem) reported at 1-based ``line`` of a file of ``lines``."""
    if line is not None:
        for at in (line, line - 1):  # PyYAML marks the line after a key it could not end
            if 1 <= at <= len(lines) and _FULL_WIDTH_KEY.match(lines[at - 1]):
                return at, "冒号是全角“：”，请改为半角“:”，冒号后留一个空格"
    if "'\\t'" in detail:
        return line, "用了制表符（Tab）缩进：YAML 只能用空格缩进"
    for english, chinese in _MEANINGS:
        if english in detail:
            return line, chinese
    return line, f"无法读取（{detail}）"
