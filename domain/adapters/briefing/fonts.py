"""Fonts for the briefing: the official GB/T 9704 faces, and free fonts when they are missing.

A Word document only *names* its fonts; the reader's machine supplies them. Government PCs have
the official faces (方正小标宋简体, 仿宋_GB2312, 黑体, 楷体_GB2312), so by default the DOCX names
those. For readers without them (or to turn the DOCX into PDF on a server), ``DUBAN_BRIEFING_FONTS
=free`` names, for each role, the first font of its chain below that is installed here and covers
every character the briefing uses; the Noto CJK fonts shipped with the ``mplfonts`` package are
always available, so the chain never runs dry. Coverage matters: the Arphic (AR PL) fonts found on
many Linux desktops lack 〇, which 七〇七社区 needs.

Charts always use the bundled Noto Sans CJK SC, so they look the same on every machine.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mplfonts
from fontTools.ttLib import TTCollection, TTFont, TTLibError

BUNDLED = Path(mplfonts.__file__).resolve().parent / "fonts"
CHART_FONT = BUNDLED / "NotoSansCJKsc-Regular.otf"

OFFICIAL: dict[str, str] = {
    "title": "方正小标宋简体",  # 小标宋, 二号
    "body": "仿宋_GB2312",  # 三号
    "heading1": "黑体",  # 一、
    "heading2": "楷体_GB2312",  # （一）
}
"""The faces GB/T 9704 names, as Word knows them on a government PC."""

FREE_CHAINS: dict[str, tuple[str, ...]] = {
    "title": ("Noto Serif CJK SC", "Source Han Serif SC"),
    "body": ("FangSong", "Noto Serif CJK SC", "Source Han Serif SC"),
    "heading1": ("SimHei", "Noto Sans CJK SC", "Source Han Sans SC"),
    "heading2": ("KaiTi", "AR PL UKai CN", "Noto Serif CJK SC", "Source Han Serif SC"),
}
"""Per role, the free (or commonly present) fonts to use instead, best first."""

FONT_ROLES = {"title": "标题", "body": "正文", "heading1": "一级标题", "heading2": "二级标题"}
"""Each role, as a font note names it."""

LATIN = "Times New Roman"


@dataclass(frozen=True)
class FontFile:
    family: str
    path: Path


def _system_font_files() -> list[Path]:
    """Font files fontconfig knows (none if fontconfig is absent)."""
    if shutil.which("fc-list") is None:
        return []
    listed = subprocess.run(
        ["fc-list", "--format", "%{file}\n"],  # noqa: S607 - fontconfig from PATH
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return [Path(line) for line in listed.stdout.splitlines() if line.strip()]


def _faces(path: Path) -> int:
    """How many fonts a file holds (a .ttc/.otc collection holds several)."""
    if path.suffix.lower() in {".ttc", ".otc"}:
        with TTCollection(path, lazy=True) as collection:
            return len(collection.fonts)
    return 1


def _family_names(font: TTFont) -> set[str]:
    """The names a document may use for this font: typographic family (name 16) and family
    (name 1) in every language, with a trailing " Regular" dropped."""
    names = set()
    for record in font["name"].names:
        if record.nameID in (1, 16):
            try:
                name = record.toUnicode().strip()
            except UnicodeDecodeError:
                continue
            names.add(name.removesuffix(" Regular"))
    return names


@cache
def installed_fonts() -> dict[str, tuple[Path, int]]:
    """Family name → (file, index in the file), for the bundled fonts and those installed."""
    found: dict[str, tuple[Path, int]] = {}
    # the bundled Noto/Source Han fonts (not the SimHei copy mplfonts also ships)
    bundled = [p for p in sorted(BUNDLED.iterdir()) if p.name.startswith(("Noto", "SourceHan"))]
    for path in bundled + _system_font_files():
        if path.suffix.lower() not in {".ttf", ".otf", ".ttc", ".otc"}:
            continue
        try:
            for index in range(_faces(path)):
                with TTFont(path, fontNumber=index, lazy=True) as font:
                    for name in _family_names(font):
                        found.setdefault(name, (path, index))
        except (TTLibError, OSError):
            continue
    return found


@cache
def _cmap(path: Path, index: int) -> frozenset[int]:
    with TTFont(path, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_characters(family: str, text: str) -> set[str]:
    """Characters of ``text`` the installed font ``family`` lacks (all of them if absent)."""
    where = installed_fonts().get(family)
    wanted = {c for c in text if not c.isspace()}
    if where is None:
        return wanted
    cmap = _cmap(*where)
    return {c for c in wanted if ord(c) not in cmap}


@dataclass(frozen=True)
class FontChoice:
    """The font named for each role, and notes on any role that fell back."""

    faces: dict[str, str]
    notes: list[str]


def choose_fonts(mode: str, text: str) -> FontChoice:
    """``official``: the GB/T 9704 faces. ``free``: per role the first installed font of its
    chain that covers every CJK character of ``text``."""
    if mode == "official":
        return FontChoice(dict(OFFICIAL), [])
    wide = "".join(sorted({c for c in text if ord(c) > 0x2000}))
    faces: dict[str, str] = {}
    notes: list[str] = []
    for role, chain in FREE_CHAINS.items():
        for family in chain:
            lacking = missing_characters(family, wide)
            if not lacking:
                faces[role] = family
                break
            if family in installed_fonts():
                notes.append(
                    f"{family} 缺少“{''.join(sorted(lacking))[:20]}”等字，不用作{FONT_ROLES[role]}"
                )
        else:  # the bundled Noto fonts end every chain: a bug if we get here
            faces[role] = chain[-1]
            notes.append(f"本机没有字体能显示{FONT_ROLES[role]}的全部文字")
    return FontChoice(faces, notes)
