"""The briefing's two charts, drawn with matplotlib from the view model (PNG, CJK font bundled).

1. 重点任务推进情况: per key task, the share of its items done, on track, behind pace or due
   soon, overdue and not started (100 % stacked bars, counts in the bars).
2. 指标完成情况: each indicator's current county value as a share of its target (a line at
   100 %), coloured by its light.

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


@dataclass(frozen=True)
class ChartFile:
    name: str
    caption: str
    path: Path


@cache
def _font() -> font_manager.FontProperties:
    """The chart font, registered with matplotlib once per process."""
    font_manager.fontManager.addfont(str(CHART_FONT))
    return font_manager.FontProperties(fname=str(CHART_FONT))


def _save(fig: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def _segments(t: TaskRow) -> dict[str, int]:
    return {
        "done": t.done,
        "on_track": t.on_track,
        "lagging": t.behind_pace + t.due_soon,
        "overdue": t.overdue,
        "not_started": t.not_started,
    }


def task_progress(view: Briefing, path: Path) -> ChartFile:
    """Bar per key task, its items split by where they stand."""
    font = _font()
    rows = list(reversed(view.tasks))
    counts = {t.code: _segments(t) for t in rows}
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.4))
    labels = [f"{t.code} {textwrap.shorten(t.title, 16, placeholder='…')}" for t in rows]
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
        bars = ax.barh(labels, widths, left=left, color=colour, label=words[segment], height=0.6)
        for bar, t, width in zip(bars, rows, widths, strict=True):
            n = counts[t.code].get(segment, 0)
            if n and width >= 7:
                ax.text(
                    bar.get_x() + width / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(n),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if segment in {"done", "overdue"} else "black",
                    fontproperties=font,
                )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_xlim(0, 100)
    ax.set_xlabel("占该任务工作事项的比例（%），条内数字为事项数", fontproperties=font)
    for label in ax.get_yticklabels():
        label.set_fontproperties(font)
        label.set_fontsize(8)
    ax.legend(prop=font, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    ax.set_title(f"重点任务推进情况（截至{view.masthead.issued_on_zh}）", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    _save(fig, path)
    return ChartFile("tasks", "图1  重点任务推进情况", path)


def indicator_attainment(view: Briefing, path: Path) -> ChartFile | None:
    """None when no indicator has a value yet."""
    shown = [v for v in view.indicators if v.attainment is not None]
    if not shown:
        return None
    font = _font()
    shown.reverse()
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(shown) + 1.2))
    labels = ["\n".join(textwrap.wrap(v.name, 16)) for v in shown]
    ratios = [min(150.0, v.attainment or 0.0) for v in shown]
    bars = ax.barh(labels, ratios, color=[LIGHT_COLOURS[v.light] for v in shown], height=0.55)
    for bar, v in zip(bars, shown, strict=True):
        ax.text(
            max(bar.get_width(), 100) + 2,  # right of the target line, never crossed by it
            bar.get_y() + bar.get_height() / 2,
            f"{v.value} / 目标{v.target}",
            va="center",
            fontsize=7,
            fontproperties=font,
        )
    ax.axvline(100, color="#424242", linestyle="--", linewidth=1)
    ax.set_xlim(0, 175)
    ax.set_xlabel("当前值占目标值的比例（%），虚线为目标", fontproperties=font)
    for label in ax.get_yticklabels():
        label.set_fontproperties(font)
        label.set_fontsize(8)
    ax.set_title(f"指标完成情况（截至{view.masthead.issued_on_zh}）", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    _save(fig, path)
    return ChartFile("indicators", "图2  指标完成情况", path)
