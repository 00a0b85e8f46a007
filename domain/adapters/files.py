"""Writing files so that a reader never sees half of one, under names every filesystem takes."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

NAME_MAX_BYTES = 255  # one path component, in UTF-8 bytes (ext4, XFS, Btrfs, NTFS in UTF-16)
_FORBIDDEN = set('<>:"/\\|?*')  # what Windows refuses, so a copied archive stays readable


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def display_name(name: str) -> str:
    """A file name as text that can be stored and printed: undecodable bytes become U+FFFD."""
    return os.fsencode(name).decode("utf-8", errors="replace")


def fit_name(name: str, *, prefix: str = "", reserve: int = 0) -> str:
    """``prefix + name`` made safe and short enough that ``reserve`` more bytes still fit in one
    path component: control and Windows-forbidden characters become ``_``, and the stem is cut
    (on a character boundary, the extension kept) to ``NAME_MAX_BYTES - reserve`` UTF-8 bytes."""
    text = (
        "".join(
            "_" if c in _FORBIDDEN or unicodedata.category(c) in {"Cc", "Cs"} else c
            for c in display_name(name)
        ).strip(" .")
        or "_"
    )
    budget = NAME_MAX_BYTES - reserve - len(prefix.encode())
    stem, dot, suffix = text.rpartition(".")
    if not dot or len(suffix.encode()) > 16:
        stem, suffix = text, ""
    tail = f".{suffix}" if suffix else ""
    room = budget - len(tail.encode())
    if len(stem.encode()) > room:
        stem = stem.encode()[: max(room - 3, 1)].decode("utf-8", errors="ignore") + "…"
    return prefix + stem + tail
