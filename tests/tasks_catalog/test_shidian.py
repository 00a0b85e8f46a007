"""The default catalogue is the Shidian plan, complete and honest about what it proposes."""

from __future__ import annotations

from collections import Counter

import pytest

from config.settings import DEFAULT_CATALOG
from models.enums import UnitKind
from tasks_catalog.expand import plan_items
from tasks_catalog.loader import load_catalog
from tasks_catalog.schema import Catalog

PLAN_TARGETS = {
    "城乡社区综合服务设施覆盖率": (">=", 100),
    "城市社区政务通用自助服务覆盖率": (">=", 100),
    "社区商业和综合服务设施面积占社区总建筑面积的比例": (">=", 10),
    "每百户居民拥有综合服务设施面积": (">=", 30),
    "居民活动区域面积占社区综合服务设施总建筑面积比例": (">=", 60),
    "每万城镇常住人口拥有社区工作者": (">=", 18),
}


@pytest.fixture(scope="module")
def shidian() -> Catalog:
    catalog, _ = load_catalog(DEFAULT_CATALOG)
    return catalog


def test_twelve_tasks_in_the_plans_order_with_its_titles(shidian: Catalog) -> None:
    """Tasks 1–12 with the plan's headings (spot-checked) and proposed responsibilities."""
    assert [t.number for t in shidian.tasks] == list(range(1, 13))
    assert shidian.tasks[0].title == "加强基层党组织的领导作用"
    assert shidian.tasks[8].title == "推进智能服务应用数字化"
    assert "一部手机办事通APP" in shidian.tasks[8].description
    assert all(t.responsibility == "proposed" for t in shidian.tasks)


def test_every_task_has_three_proposed_milestones_including_recurring_and_fanned(
    shidian: Catalog,
) -> None:
    """≥ 3 milestones per task, all marked proposed; recurrence and fan-out both used."""
    for task in shidian.tasks:
        assert len(task.milestones) >= 3, task.code
        assert all(m.proposed for m in task.milestones)
    milestones = [m for t in shidian.tasks for m in t.milestones]
    assert sum(m.recurrence is not None for m in milestones) >= 5
    assert {m.fan_out for m in milestones if isinstance(m.fan_out, str)} >= {
        "townships",
        "villages",
        "urban_communities",
    }


def test_units_are_the_official_townships_and_villages(shidian: Catalog) -> None:
    """13 townships and 138 village-level units keyed by their division codes."""
    kinds = Counter(u.kind for u in shidian.units)
    assert kinds[UnitKind.TOWNSHIP] == 13
    assert kinds[UnitKind.VILLAGE] + kinds[UnitKind.COMMUNITY] == 138
    assert sum(u.urban for u in shidian.units) == 5
    villages = [u for u in shidian.units if u.kind in {UnitKind.VILLAGE, UnitKind.COMMUNITY}]
    assert all(u.id == u.division_code and len(u.id) == 12 for u in villages)
    assert any(u.name == "七〇七社区" for u in villages)
    assert all(u.proposed for u in shidian.units if u.kind == UnitKind.DEPARTMENT)


def test_the_139_of_the_plan_is_kept_and_warned_about() -> None:
    """The plan's 139 stays a setting; the catalogue's 138 gives a warning, not an invention."""
    catalog, warnings = load_catalog(DEFAULT_CATALOG)
    assert catalog.plan.declared_village_units == 139
    assert ["139" in w.message and "138" in w.message for w in warnings] == [True]


def test_six_indicators_with_the_plans_targets(shidian: Catalog) -> None:
    """The six targets of section 三, as ratio-of-sums formulas over declared measures."""
    found = {i.name: (i.target.op, i.target.value) for i in shidian.indicators}
    assert found == PLAN_TARGETS
    per_hundred = next(i for i in shidian.indicators if i.name.startswith("每百户"))
    assert per_hundred.formula.numerator == ["facility_area"]
    assert per_hundred.formula.denominator == ["households"]
    assert per_hundred.formula.factor == 100
    assert per_hundred.aspirational


def test_work_items_stay_inside_the_plan_period(shidian: Catalog) -> None:
    """Every expanded item is due within 2021–2025 and its window opens before it is due."""
    items = plan_items(shidian)
    assert len(items) > 3000
    period = shidian.plan.period
    assert all(period.start <= i.start <= i.due <= period.end for i in items)
