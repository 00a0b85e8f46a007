"""Indicator values are ratios of sums over reporting units, checked against hand arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert, select

from config.settings import Settings
from domain.queries.indicators import indicator_values
from domain.queries.sync import sync_catalog
from domain.rules.indicators import light_for
from models.clock import frozen_time
from models.db import session_scope
from models.enums import Light
from models.orm import Unit
from models.records import Measure, MeasureValue
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter

# (unit, households, facility area) — per-unit m² per 100 households: 20, 50, 10
VALUES = [("v11", 1000, 200), ("v12", 100, 50), ("v21", 500, 50)]


@pytest.fixture
def measured(settings: Settings, engine: Engine, write_catalog: CatalogWriter) -> Engine:
    with frozen_time(datetime(2021, 6, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog())[0])
        ids = {r.code: r.id for r in session.execute(select(Measure.code, Measure.id))}
        units = {r.code: r.id for r in session.execute(select(Unit.code, Unit.id))}
        rows = []
        for unit, households, area in VALUES:
            for code, value in (("households", households), ("facility_area", area)):
                rows.append(
                    {
                        "plan_id": "demo-plan",
                        "measure_id": ids[code],
                        "unit_id": units[unit],
                        "value": value,
                        "received_at": datetime(2021, 6, 1, tzinfo=UTC),
                        "received_on": date(2021, 6, 1),
                    }
                )
        session.execute(insert(MeasureValue), rows)
    return engine


def test_county_value_is_ratio_of_sums_not_mean_of_ratios(measured: Engine) -> None:
    """(200+50+50)×100/(1000+100+500) = 18.75, not (20+50+10)/3 = 26.67."""
    with session_scope(measured) as session:
        (value,) = indicator_values(session, "demo-plan", date(2021, 6, 30))
    assert value.value == pytest.approx(18.75)
    assert (value.numerator, value.denominator) == (300, 1600)
    assert (value.units_reported, value.units_in_scope) == (3, 4)
    assert value.gap == pytest.approx(18.75 - 30)
    assert value.light == Light.YELLOW


def test_township_values_use_their_own_units(measured: Engine) -> None:
    """甲镇 = (200+50)×100/(1000+100) ≈ 22.73; 乙乡 = 50×100/500 = 10 with 1 of 2 reporting."""
    with session_scope(measured) as session:
        (value,) = indicator_values(session, "demo-plan", date(2021, 6, 30))
    towns = {t.code: t for t in value.townships}
    assert towns["t1"].value == pytest.approx(250 * 100 / 1100)
    assert (towns["t2"].value, towns["t2"].units_reported, towns["t2"].units_in_scope) == (10, 1, 2)


def test_values_received_later_are_not_seen_earlier(measured: Engine) -> None:
    """On a date before any value arrived there is no value and the light is gray."""
    with session_scope(measured) as session:
        (value,) = indicator_values(session, "demo-plan", date(2021, 5, 31))
    assert (value.value, value.light) == (None, Light.GRAY)


@pytest.mark.parametrize(
    ("value", "as_of", "light"),
    [
        (30.0, date(2025, 1, 1), Light.GREEN),
        (29.9, date(2025, 1, 1), Light.YELLOW),
        (29.9, date(2025, 12, 31), Light.RED),
        (None, date(2025, 1, 1), Light.GRAY),
    ],
)
def test_indicator_light(value: float | None, as_of: date, light: Light) -> None:
    """Met is green; not met is yellow before the due date and red from it; no data is gray."""
    assert light_for(value, ">=", 30, date(2025, 12, 31), as_of) == light
