"""What every chart of a printed document shares (the briefing's, the evaluation's): drawn with
matplotlib at its printed width (:data:`CHART_WIDTH_MM`), so a size in points is the size on
paper and no text is smaller than :data:`TEXT_PT`; the bundled CJK font; PNG without timestamp or
version in its metadata, so output is deterministic for a given matplotlib."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # no display on a server; before any figure is made

from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from domain.adapters.briefing.fonts import CHART_FONT

DPI = 150
CHART_WIDTH_MM = 150
"""The printed width of a chart in the Word document: figures are drawn at this size, so a
font size in points is the size on paper."""
FIGURE_WIDTH = CHART_WIDTH_MM / 25.4
TEXT_PT = 9.0
"""The smallest text on paper (labels, numbers in bars, legends)."""


@dataclass(frozen=True)
class ChartFile:
    """A chart drawn: its name in the documents' chart blocks, its caption and its PNG."""

    name: str
    caption: str
    path: Path


@cache
def _font_file() -> str:
    """The chart font, registered with matplotlib once per process."""
    font_manager.fontManager.addfont(str(CHART_FONT))
    return str(CHART_FONT)


def chart_font(size: float = TEXT_PT) -> font_manager.FontProperties:
    """The bundled CJK font at ``size`` points."""
    return font_manager.FontProperties(fname=_font_file(), size=size)


def save_figure(fig: Figure, path: Path) -> None:
    """The figure at its own size (no cropping: sizes in points stay sizes on paper)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def tick_fonts(ax: Axes, font: font_manager.FontProperties) -> None:
    """Both axes' tick labels in ``font``."""
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(font)


def two_lines(text: str, width: int) -> str:
    """``text`` on one line if it fits ``width`` characters, else on two of equal length (no
    single character left on the second), shortened with … beyond two lines."""
    if len(text) <= width:
        return text
    if len(text) > 2 * width:
        text = text[: 2 * width - 1] + "…"
    half = (len(text) + 1) // 2
    return f"{text[:half]}\n{text[half:]}"
