"""The final evaluation's two charts, drawn with :mod:`domain.adapters.chart_style` (printed
width, bundled CJK font, no metadata): each indicator's value at each year's end against its
target (one small panel per indicator, in its own unit), and each year's on-time rate and
reporting timeliness side by side."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from domain.adapters.briefing.charts import COLOURS
from domain.adapters.chart_style import (
    DPI,
    FIGURE_WIDTH,
    ChartFile,
    chart_font,
    save_figure,
    tick_fonts,
    two_lines,
)
from domain.rules.evaluation.layout import CHART_INDICATORS, CHART_YEARS
from domain.rules.evaluation.model import Evaluation

PANELS_A_ROW = 3


def indicator_years_figure(view: Evaluation) -> Figure | None:
    """A panel per indicator with data: its value at each year's end (a line with points) and
    its target (dashed); None when no indicator ever had a value."""
    shown = [i for i in view.indicators if any(v is not None for _, v in i.yearly)]
    if not shown:
        return None
    font = chart_font()
    rows = math.ceil(len(shown) / PANELS_A_ROW)
    fig, axes = plt.subplots(
        rows,
        PANELS_A_ROW,
        figsize=(FIGURE_WIDTH, 1.75 * rows + 0.2),
        layout="constrained",
        dpi=DPI,
        squeeze=False,
    )
    for n, ax in enumerate(axes.flat):
        if n >= len(shown):
            ax.set_visible(False)
            continue
        ind = shown[n]
        years = [year for year, _ in ind.yearly]
        values = [math.nan if v is None else v for _, v in ind.yearly]
        ax.plot(years, values, marker="o", color=COLOURS["done"], linewidth=1.5, markersize=3)
        ax.axhline(ind.target, color="#424242", linestyle="--", linewidth=1)
        known = [v for v in values if not math.isnan(v)]
        top = max([ind.target, *known]) * 1.15 or 1.0
        ax.set_ylim(0, top)
        ax.set_xticks(years, [f"{y % 100:02d}年" for y in years])
        label = two_lines(ind.name, 14)
        ax.set_title(label, fontproperties=font)
        if ind.unit_of_measure:
            ax.set_ylabel(ind.unit_of_measure, fontproperties=font)
        ax.spines[["top", "right"]].set_visible(False)
        tick_fonts(ax, font)
    return fig


def indicator_years(view: Evaluation, path: Path) -> ChartFile | None:
    """图1 as a PNG at ``path``; None when no indicator ever had a value."""
    fig = indicator_years_figure(view)
    if fig is None:
        return None
    save_figure(fig, path)
    return ChartFile(CHART_INDICATORS, "图1  各项指标逐年完成情况", path)


def years_figure(view: Evaluation) -> Figure:
    """Two bars a year of the period: the on-time rate of the items due in it and the reporting
    timeliness of its cycles (percent, printed on the bars); a year not reached has none."""
    font = chart_font()
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 2.1), layout="constrained", dpi=DPI)
    width = 0.36
    last = max([view.period_end.year, *(y.year for y in view.years)])  # a close-out year too
    every = list(range(view.period_start.year, last + 1))
    at = {year: n for n, year in enumerate(every)}
    series = (
        ("按期完成率", [(y.year, y.on_time_rate) for y in view.years], COLOURS["done"], -1),
        ("报送及时率", [(y.year, y.timeliness) for y in view.years], "#1565c0", 1),
    )
    for label, values, colour, side in series:
        xs = [at[year] + side * width / 2 for year, _ in values]
        heights = [0.0 if v is None else v for _, v in values]
        bars = ax.bar(xs, heights, width=width, color=colour, label=label)
        for bar, (_, value) in zip(bars, values, strict=True):
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_height() + 1.5,
                "—" if value is None else f"{value:.1f}",
                ha="center",
                va="bottom",
                fontproperties=font,
            )
    ax.set_xticks(
        range(len(every)),
        [f"{year}年" + ("\n（期满后）" if year > view.period_end.year else "") for year in every],
    )
    ax.set_xlim(-0.6, len(every) - 0.4)
    ax.set_ylim(0, 115)
    ax.set_ylabel("%", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    tick_fonts(ax, font)
    fig.legend(prop=font, ncol=2, loc="outside lower center", frameon=False)
    return fig


def yearly_rates(view: Evaluation, path: Path) -> ChartFile:
    """图2 as a PNG at ``path``."""
    save_figure(years_figure(view), path)
    return ChartFile(CHART_YEARS, "图2  逐年按期完成率和报送及时率", path)
