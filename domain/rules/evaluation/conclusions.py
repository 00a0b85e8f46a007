"""The coordinator's conclusions (评估结论和建议) read from a text file: its lines as
paragraphs, blank lines dropped."""

from __future__ import annotations

ENCODINGS = ("utf-8-sig", "gb18030")
"""A text file as a coordinator saves it: UTF-8 (with or without a BOM), or the GBK family
Windows Notepad long wrote by default."""


class ConclusionsError(ValueError):
    """The conclusions file is not text in a known encoding, or holds nothing."""


def read_conclusions(data: bytes) -> list[str]:
    """The file's paragraphs: each non-blank line, spaces at its ends removed
    (ConclusionsError when no encoding of :data:`ENCODINGS` reads it or nothing is written)."""
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # UTF-16 read as bytes: not what a person wrote
            break
        lines = [" ".join(line.split()) for line in text.splitlines()]
        paragraphs = [line for line in lines if line]
        if not paragraphs:
            raise ConclusionsError("文件是空的：请写入评估结论和建议，每段一行")
        return paragraphs
    raise ConclusionsError("无法读取：文件不是 UTF-8 或 GBK 编码的文本，请另存为 UTF-8 后再试")
