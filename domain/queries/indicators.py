"""Plan indicators on a date from the units' newest measures (:mod:`domain.rules.indicators`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.rules.indicators import UNITS, AreaValue, IndicatorValue, light_for, ratio, unit_value
from models.enums import UnitKind
from models.orm import Unit
from models.records import Indicator, Measure, MeasureValue
from models.unitsets import select_units


def measure_table(
    session: Session,
    plan_id: str,
    as_of: date | None = None,
    unit_id: int | None = None,
    *,
    unit_ids: Collection[int] | None = None,
) -> dict[int, dict[str, float]]:
    """unit id → measure code → newest value (received on or before ``as_of``, if given; for one
    unit, or some units, if given)."""
    newest = (
        select(func.max(MeasureValue.id))
        .where(MeasureValue.plan_id == plan_id)
        .group_by(MeasureValue.measure_id, MeasureValue.unit_id)
    )
    if as_of is not None:
        newest = newest.where(MeasureValue.received_on <= as_of)
    if unit_id is not None:
        newest = newest.where(MeasureValue.unit_id == unit_id)
    if unit_ids is not None:
        newest = newest.where(MeasureValue.unit_id.in_(sorted(unit_ids)))
    table: dict[int, dict[str, float]] = defaultdict(dict)
    for row in session.execute(
        select(MeasureValue.unit_id, Measure.code, MeasureValue.value)
        .join(Measure, Measure.id == MeasureValue.measure_id)
        .where(MeasureValue.id.in_(newest))
    ):
        table[row.unit_id][row.code] = row.value
    return table


def latest_values(session: Session, plan_id: str, unit_id: int) -> dict[str, float]:
    """One unit's newest value of each measure."""
    return measure_table(session, plan_id, unit_id=unit_id).get(unit_id, {})


def nearest_of_kind(
    units: dict[int, Unit], kinds: tuple[UnitKind, ...] = (UnitKind.TOWNSHIP,)
) -> dict[int, Unit | None]:
    """Each unit's nearest unit of one of ``kinds``, itself included, going up the parents: a
    village's township, say (None where there is none)."""
    wanted = {k.value for k in kinds}
    out: dict[int, Unit | None] = {}
    for unit_id, unit in units.items():
        current: Unit | None = unit
        while current is not None and current.kind not in wanted:
            current = units.get(current.parent_id) if current.parent_id else None
        out[unit_id] = current
    return out


def indicator_values(session: Session, plan_id: str, as_of: date) -> list[IndicatorValue]:
    """Every live indicator of the plan on ``as_of``."""
    units = {
        u.id: u
        for u in session.scalars(
            select(Unit).where(Unit.plan_id == plan_id, Unit.retired_at.is_(None))
        )
    }
    township = nearest_of_kind(units)
    table = measure_table(session, plan_id, as_of)
    out = []
    for ind in session.scalars(
        select(Indicator)
        .where(Indicator.plan_id == plan_id, Indicator.retired_at.is_(None))
        .order_by(Indicator.id)
    ):
        scope = select_units(ind.scope, list(units.values()), key=lambda u: u.code)
        needed = [p for p in {*ind.numerator, *ind.denominator} if p != UNITS]
        reporting = [u for u in scope if all(p in table.get(u.id, {}) for p in needed)]
        num = sum(unit_value(table[u.id], ind.numerator) for u in reporting)
        den = sum(unit_value(table[u.id], ind.denominator) for u in reporting)
        value = ratio(num, den, ind.factor) if reporting else None
        areas: dict[int, list[Unit]] = defaultdict(list)
        for u in scope:
            t = township[u.id]
            if t is not None:
                areas[t.id].append(u)
        towns = []
        for town_id, members in sorted(areas.items(), key=lambda kv: units[kv[0]].code):
            rep = [u for u in members if u in reporting]
            t_num = sum(unit_value(table[u.id], ind.numerator) for u in rep)
            t_den = sum(unit_value(table[u.id], ind.denominator) for u in rep)
            towns.append(
                AreaValue(
                    code=units[town_id].code,
                    name=units[town_id].name,
                    value=ratio(t_num, t_den, ind.factor) if rep else None,
                    units_reported=len(rep),
                    units_in_scope=len(members),
                )
            )
        out.append(
            IndicatorValue(
                id=ind.code,
                name=ind.name,
                unit_of_measure=ind.unit_of_measure,
                target_op=ind.target_op,
                target=ind.target_value,
                aspirational=ind.aspirational,
                due=ind.due,
                value=value,
                numerator=num,
                denominator=den,
                units_reported=len(reporting),
                units_in_scope=len(scope),
                gap=None if value is None else value - ind.target_value,
                light=light_for(value, ind.target_op, ind.target_value, ind.due, as_of),
                townships=towns,
            )
        )
    return out
