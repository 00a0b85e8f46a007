"""The briefing's two charts, drawn with matplotlib from the view model (PNG, CJK font bundled).

1. 重点任务推进情况: per key task, the share of its items done, on track, behind pace or due
   soon, overdue and not started (100 % stacked bars, counts in the bars).
2. 指标完成情况: each indicator's current county value as a share of its target (a line at
   100 %), coloured by its light.

Figures are drawn at their printed width (:data:`CHART_WIDTH_MM`), so no text is smaller than
:data:`TEXT_PT` on paper; the captions (图1, 图2) are the documents', not the charts'.

Output is deterministic for a given matplotlib: no timestamp or version in the PNG metadata.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # no display on a server; must precede pyplot

from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from domain.adapters.briefing.fonts import CHART_FONT
from domain.rules.briefing.model import Briefing, TaskRow
from models.enums import Light

COLOURS = {
    "done": "#2e7d32",
    "on_track": "#8bc34a",
    "lagging": "#f9a825",
    "overdue": "#c62828",
    "not_started": "#bdbdbd",
}
LIGHT_COLOURS = {
    Light.GREEN: "#2e7d32",
    Light.YELLOW: "#f9a825",
    Light.RED: "#c62828",
    Light.GRAY: "#9e9e9e",
    Light.DONE_LATE: "#6a1b9a",
}
DPI = 150
CHART_WIDTH_MM = 150
"""The printed width of a chart in the Word document: figures are drawn at this size, so a
font size in points is the size on paper."""
FIGURE_WIDTH = CHART_WIDTH_MM / 25.4
TEXT_PT = 9.0
"""The smallest text on paper (labels, numbers in bars, legends)."""
AXIS_CAP = 200.0
"""The indicator chart stops at 200 % of the target: one far-exceeded indicator does not
flatten the others (its label still gives the value)."""


@dataclass(frozen=True)
class ChartFile:
    name: str
    caption: str
    path: Path


@cache
def _font_file() -> str:
    """The chart font, registered with matplotlib once per process."""
    font_manager.fontManager.addfont(str(CHART_FONT))
    return str(CHART_FONT)


def _font(size: float = TEXT_PT) -> font_manager.FontProperties:
    return font_manager.FontProperties(fname=_font_file(), size=size)


def _save(fig: Figure, path: Path) -> None:
    """The figure at its own size (no cropping: sizes in points stay sizes on paper)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def _segments(t: TaskRow) -> dict[str, int]:
    return {
        "done": t.done,
        "on_track": t.on_track,
        "lagging": t.behind_pace + t.due_soon,
        "overdue": t.overdue,
        "not_started": t.not_started,
    }


def task_figure(view: Briefing) -> Figure:
    """Bar per key task, its items split by where they stand."""
    font = _font()
    rows = list(reversed(view.tasks))
    counts = {t.code: _segments(t) for t in rows}
    fig, ax = plt.subplots(
        figsize=(FIGURE_WIDTH, 0.17 * len(rows) + 0.95), layout="constrained", dpi=DPI
    )
    labels = [f"{t.number}. {textwrap.shorten(t.title, 14, placeholder='…')}" for t in rows]
    left = [0.0] * len(rows)
    words = {
        "done": "已完成",
        "on_track": "正常推进",
        "lagging": "滞后或临期",
        "overdue": "逾期",
        "not_started": "未启动",
    }
    for segment, colour in COLOURS.items():
        widths = []
        for t in rows:
            total = sum(counts[t.code].values()) or 1
            widths.append(100 * counts[t.code].get(segment, 0) / total)
        bars = ax.barh(labels, widths, left=left, color=colour, label=words[segment], height=0.7)
        for bar, t, width in zip(bars, rows, widths, strict=True):
            n = counts[t.code].get(segment, 0)
            if n and width >= 4 * len(str(n)):
                ax.text(
                    bar.get_x() + width / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(n),
                    ha="center",
                    va="center",
                    color="white" if segment in {"done", "overdue"} else "black",
                    fontproperties=font,
                )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_xlim(0, 100)
    ax.set_xlabel("占该任务工作事项的比例（%），条内数字为事项数", fontproperties=font)
    _tick_fonts(ax, font)
    fig.legend(prop=font, ncol=5, loc="outside lower center", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def task_progress(view: Briefing, path: Path) -> ChartFile:
    """图1 as a PNG at ``path``."""
    _save(task_figure(view), path)
    return ChartFile("tasks", "图1  重点任务推进情况", path)


def _tick_fonts(ax: Axes, font: font_manager.FontProperties) -> None:
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


def indicator_figure(view: Briefing) -> Figure | None:
    """Each indicator's value as a share of its target, the axis to the larger of the target
    and the highest value (at most :data:`AXIS_CAP`); None when no indicator has a value."""
    shown = [v for v in view.indicators if v.attainment is not None]
    if not shown:
        return None
    font = _font()
    shown.reverse()
    fig, ax = plt.subplots(
        figsize=(FIGURE_WIDTH, 0.34 * len(shown) + 0.7), layout="constrained", dpi=DPI
    )
    labels = [two_lines(v.name, 14) for v in shown]
    ratios = [min(AXIS_CAP, v.attainment or 0.0) for v in shown]
    bars = ax.barh(labels, ratios, color=[LIGHT_COLOURS[v.light] for v in shown], height=0.6)
    top = max(100.0, *ratios)
    for bar, v in zip(bars, shown, strict=True):
        inside = bar.get_width() > top * 0.55  # the text inside a long bar, else after it
        ax.text(
            bar.get_width() - top * 0.01 if inside else bar.get_width() + top * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{v.value} / 目标{v.target}",
            va="center",
            ha="right" if inside else "left",
            color="white" if inside and v.light != Light.YELLOW else "black",
            fontproperties=font,
        )
    ax.axvline(100, color="#424242", linestyle="--", linewidth=1)
    ax.set_xlim(0, top)
    ax.set_xlabel("当前值占目标值的比例（%），虚线为目标", fontproperties=font)
    _tick_fonts(ax, font)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def indicator_attainment(view: Briefing, path: Path) -> ChartFile | None:
    """图2 as a PNG at ``path``; None when no indicator has a value yet."""
    fig = indicator_figure(view)
    if fig is None:
        return None
    _save(fig, path)
    return ChartFile("indicators", "图2  指标完成情况", path)
