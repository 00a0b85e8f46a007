"""The briefing's chart, drawn with matplotlib from the view model (PNG, CJK font bundled, the
settings of :mod:`domain.adapters.chart_style`).

重点任务推进情况: per key task, the share of its items done, on track, behind pace or due soon,
overdue and not started (100 % stacked bars, counts in the bars). Its caption (图1) is the
documents', not the chart's. (The indicators have no chart: the body's table says the same.)
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from domain.adapters.chart_style import (
    DPI,
    FIGURE_WIDTH,
    ChartFile,
    chart_font,
    save_figure,
    tick_fonts,
)
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
    font = chart_font()
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
    tick_fonts(ax, font)
    fig.legend(prop=font, ncol=5, loc="outside lower center", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def task_progress(view: Briefing, path: Path) -> ChartFile:
    """图1 as a PNG at ``path``."""
    save_figure(task_figure(view), path)
    return ChartFile("tasks", "图1  重点任务推进情况", path)
