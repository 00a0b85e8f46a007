"""The briefing's charts as printed: no text under 9 pt on paper; honest axes."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from domain.adapters.briefing.charts import (
    AXIS_CAP,
    CHART_WIDTH_MM,
    DPI,
    TEXT_PT,
    indicator_attainment,
    indicator_figure,
    task_figure,
    two_lines,
)
from domain.rules.briefing.model import Briefing, IndicatorRow
from models.enums import Light
from tests.domain.test_briefing_layout import small_view


def indicators(*attainments: float) -> Briefing:
    rows = [
        IndicatorRow(
            code=f"I{n}",
            name=f"每百户居民拥有的社区综合服务设施面积{n}",
            value="25.8㎡",
            target="≥30㎡",
            gap="-4.2",
            reported="5/6",
            light=Light.YELLOW,
            attainment=a,
        )
        for n, a in enumerate(attainments)
    ]
    return small_view().model_copy(update={"indicators": rows})


def printed_sizes(fig: Figure) -> list[float]:
    """The point size on paper of every text drawn, the figure printed CHART_WIDTH_MM wide."""
    fig.canvas.draw()
    scale = CHART_WIDTH_MM / (fig.get_figwidth() * 25.4)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return [float(t.get_fontsize()) * scale for t in texts]


def test_no_chart_text_is_smaller_than_nine_points_on_paper() -> None:
    view = indicators(60.0, 130.0)
    tasks = small_view()
    tasks = tasks.model_copy(
        update={"tasks": [tasks.tasks[0].model_copy(update={"number": n}) for n in range(12)]}
    )
    for fig in (task_figure(tasks), indicator_figure(view)):
        assert fig is not None
        sizes = printed_sizes(fig)
        plt.close(fig)
        assert len(sizes) > 10 and min(sizes) >= TEXT_PT


def test_the_png_is_as_wide_as_the_figure_so_sizes_hold_on_paper(tmp_path: Path) -> None:
    """No cropping to the drawn content: the PNG's width is the figure's, printed at
    CHART_WIDTH_MM."""
    chart = indicator_attainment(indicators(90.0), tmp_path / "i.png")
    assert chart is not None
    with Image.open(chart.path) as png:
        width = png.size[0]
    assert width == pytest.approx(CHART_WIDTH_MM / 25.4 * DPI, abs=1)


@pytest.mark.parametrize(
    ("attainments", "right"),
    [((60.0, 80.0), 100.0), ((60.0, 130.0), 130.0), ((60.0, 900.0), AXIS_CAP)],
)
def test_the_indicator_axis_ends_at_the_larger_of_target_and_value(
    attainments: tuple[float, ...], right: float
) -> None:
    fig = indicator_figure(indicators(*attainments))
    assert fig is not None
    assert fig.axes[0].get_xlim() == (0.0, right)
    plt.close(fig)


def test_no_indicator_value_no_chart() -> None:
    assert indicator_figure(small_view()) is None


def test_a_long_label_is_split_into_two_even_lines() -> None:
    assert two_lines("城乡社区综合服务设施覆盖率", 14) == "城乡社区综合服务设施覆盖率"
    assert two_lines("城市社区政务通用自助服务覆盖率", 14) == "城市社区政务通用\n自助服务覆盖率"
    assert two_lines("甲" * 30, 14) == "甲" * 14 + "\n" + "甲" * 13 + "…"
