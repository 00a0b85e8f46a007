"""The briefing's chart as printed: no text under 9 pt on paper, the PNG as wide as the figure."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from domain.adapters.briefing.charts import task_figure, task_progress
from domain.adapters.chart_style import CHART_WIDTH_MM, DPI, TEXT_PT, two_lines
from domain.rules.briefing.model import Briefing
from tests.domain.test_briefing_layout import small_view


def twelve_tasks() -> Briefing:
    view = small_view()
    return view.model_copy(
        update={"tasks": [view.tasks[0].model_copy(update={"number": n}) for n in range(12)]}
    )


def printed_sizes(fig: Figure) -> list[float]:
    """The point size on paper of every text drawn, the figure printed CHART_WIDTH_MM wide."""
    fig.canvas.draw()
    scale = CHART_WIDTH_MM / (fig.get_figwidth() * 25.4)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return [float(t.get_fontsize()) * scale for t in texts]


def test_no_chart_text_is_smaller_than_nine_points_on_paper() -> None:
    fig = task_figure(twelve_tasks())
    sizes = printed_sizes(fig)
    plt.close(fig)
    assert len(sizes) > 10 and min(sizes) >= TEXT_PT


def test_the_png_is_as_wide_as_the_figure_so_sizes_hold_on_paper(tmp_path: Path) -> None:
    """No cropping to the drawn content: the PNG's width is the figure's, printed at
    CHART_WIDTH_MM."""
    chart = task_progress(twelve_tasks(), tmp_path / "t.png")
    with Image.open(chart.path) as png:
        width = png.size[0]
    assert width == pytest.approx(CHART_WIDTH_MM / 25.4 * DPI, abs=1)


def test_a_long_label_is_split_into_two_even_lines() -> None:
    assert two_lines("城乡社区综合服务设施覆盖率", 14) == "城乡社区综合服务设施覆盖率"
    assert two_lines("城市社区政务通用自助服务覆盖率", 14) == "城市社区政务通用\n自助服务覆盖率"
    assert two_lines("甲" * 30, 14) == "甲" * 14 + "\n" + "甲" * 13 + "…"
