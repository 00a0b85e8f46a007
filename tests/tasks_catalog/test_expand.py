"""Milestones become work items: fan-out × recurrence, windows, and item dependencies."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from tasks_catalog.expand import (
    ItemKey,
    item_dependencies,
    occurrences,
    plan_items,
    resolve,
    windows,
)
from tasks_catalog.loader import load_catalog
from tasks_catalog.schema import MilestoneSpec, Recurrence
from tests.fixtures.catalog import CatalogWriter

QUARTER_ENDS = "FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"


def test_quarter_end_rule_gives_four_dates_a_year() -> None:
    """The catalogue's quarter-end RRULE yields the last day of each quarter."""
    dates = occurrences(
        Recurrence(rrule=QUARTER_ENDS, start=date(2022, 1, 1), end=date(2022, 12, 31))
    )
    assert dates == [date(2022, 3, 31), date(2022, 6, 30), date(2022, 9, 30), date(2022, 12, 31)]


def test_recurring_windows_open_the_day_after_the_previous_due() -> None:
    """Occurrence n's window starts the day after occurrence n-1 was due."""
    milestone = MilestoneSpec(
        id="M",
        title="t",
        recurrence=Recurrence(rrule=QUARTER_ENDS, start=date(2022, 1, 1), end=date(2022, 6, 30)),
    )
    assert windows(milestone, date(2021, 1, 1)) == [
        (date(2022, 1, 1), date(2022, 3, 31)),
        (date(2022, 4, 1), date(2022, 6, 30)),
    ]


def test_one_off_window_opens_at_plan_start_unless_given() -> None:
    """Without `start`, a one-off milestone is open from the plan's first day."""
    plain = MilestoneSpec(id="M", title="t", due=date(2021, 6, 30))
    assert windows(plain, date(2021, 1, 1)) == [(date(2021, 1, 1), date(2021, 6, 30))]
    started = MilestoneSpec(id="M", title="t", due=date(2021, 6, 30), start=date(2021, 5, 1))
    assert windows(started, date(2021, 1, 1)) == [(date(2021, 5, 1), date(2021, 6, 30))]


def test_item_counts_are_fan_out_times_recurrence(write_catalog: CatalogWriter) -> None:
    """1 (M1) + 2 townships (M2) + 2 townships × 4 quarters (M3) + 4 villages (M4) = 15."""
    catalog, _ = load_catalog(write_catalog())
    counts = Counter(i.key.milestone for i in plan_items(catalog))
    assert counts == {"M1": 1, "M2": 2, "M3": 8, "M4": 4}


def test_owner_defaults_to_task_lead(write_catalog: CatalogWriter) -> None:
    """A milestone without fan-out or owner belongs to its task's lead unit."""
    catalog, _ = load_catalog(write_catalog())
    m1 = [i for i in plan_items(catalog) if i.key.milestone == "M1"]
    assert [i.key.unit for i in m1] == ["zzb"]


def test_unit_sets() -> None:
    """Named sets select by kind and urban flag; lists mix ids and sets without duplicates."""
    from tasks_catalog.schema import UnitSpec  # noqa: PLC0415
    from tests.fixtures.catalog import minimal_catalog  # noqa: PLC0415

    units = [UnitSpec.model_validate(u) for u in minimal_catalog()["units"]]
    assert resolve("townships", units) == ["t1", "t2"]
    assert resolve("villages", units) == ["v11", "v12", "v21", "v22"]
    assert resolve("communities", units) == ["v11", "v21"]
    assert resolve("urban_communities", units) == ["v11"]
    assert resolve(["v12", "urban_communities", "v11"], units) == ["v12", "v11"]


def test_dependencies_follow_the_same_unit_and_latest_prior_occurrence(
    write_catalog: CatalogWriter,
) -> None:
    """Town t1's quarterly meeting waits for t1's own M2; every M2 waits for the single M1."""
    catalog, _ = load_catalog(write_catalog())
    items = plan_items(catalog)
    pairs = item_dependencies(catalog, items)
    assert (ItemKey("M3", "t1", 3), ItemKey("M2", "t1", 1)) in pairs
    assert (ItemKey("M3", "t1", 3), ItemKey("M2", "t2", 1)) not in pairs
    assert (ItemKey("M2", "t2", 1), ItemKey("M1", "zzb", 1)) in pairs
    assert len(pairs) == 2 + 8


def test_a_village_waits_for_its_own_township(write_catalog: CatalogWriter) -> None:
    """A village-level milestone after a township one waits only for its township's item."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][1]["milestones"][0]["depends_on"] = ["M2"]

    catalog, _ = load_catalog(write_catalog(edit=edit))
    pairs = item_dependencies(catalog, plan_items(catalog))
    village_waits = {(a.unit, b.unit) for a, b in pairs if a.milestone == "M4"}
    assert village_waits == {("v11", "t1"), ("v12", "t1"), ("v21", "t2"), ("v22", "t2")}
