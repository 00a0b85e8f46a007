"""What the catalogue schema accepts fits the database: numbers bounded, texts fit their columns."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Iterator
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import Column, String

from domain.rules.workdays import EPOCH
from models import orm, records
from tasks_catalog import schema

INT_MAX = 2**31 - 1
"""The range of the database's INTEGER columns (PostgreSQL's is 32 bits)."""
FLOAT_MAX = 1e15

STRING_COLUMNS: dict[tuple[type[BaseModel], str], Any] = {
    (schema.PlanSpec, "id"): orm.Plan.id,
    (schema.PlanSpec, "timezone"): orm.Plan.timezone,
    (schema.PlanSpec, "coordinator"): orm.Plan.coordinator_code,
    (schema.PlanSpec, "leadership"): orm.Plan.leadership_code,
    (schema.ReportingSpec, "cycle"): orm.Plan.reporting_cycle,
    (schema.UnitSpec, "id"): orm.Unit.code,
    (schema.UnitSpec, "kind"): orm.Unit.kind,
    (schema.UnitSpec, "division_code"): orm.Unit.division_code,
    (schema.Contact, "role"): records.Contact.role,
    (schema.Contact, "phone"): records.Contact.phone,
    (schema.TaskSpec, "id"): orm.Task.code,
    (schema.TaskSpec, "responsibility"): orm.Task.responsibility,
    (schema.MilestoneSpec, "id"): orm.Milestone.code,
    (schema.CarriedFrom, "plan"): orm.Milestone.carried_from_plan,
    (schema.CarriedFrom, "milestone"): orm.Milestone.carried_from_code,
    (schema.MeasureSpec, "id"): records.Measure.code,
    (schema.MeasureSpec, "unit_of_measure"): records.Measure.unit_of_measure,
    (schema.MeasureSpec, "type"): records.Measure.type,
    (schema.IndicatorSpec, "id"): records.Indicator.code,
    (schema.IndicatorSpec, "unit_of_measure"): records.Indicator.unit_of_measure,
    (schema.Target, "op"): records.Indicator.target_op,
}
"""Each catalogue field stored in a length-limited column, with that column."""
NOT_FROM_THE_CATALOGUE = {"plan.catalog_checksum", "contact.link_key"}
CATALOGUE_TABLES = {"plan", "unit", "contact", "task", "milestone", "measure", "indicator"}


def models(model: type[BaseModel] = schema.CatalogFile) -> Iterator[type[BaseModel]]:
    """The model and every model its fields hold, each once."""
    seen: set[type[BaseModel]] = set()
    todo = [model]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        yield current
        todo += [m for f in current.model_fields.values() for m in _models_in(f.annotation)]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _base_types(annotation: Any) -> set[Any]:
    """The plain types of an annotation: without None, Annotated metadata, unions or lists."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        return {t for arg in typing.get_args(annotation) for t in _base_types(arg)}
    return {annotation} - {type(None)}


def _metadata(info: FieldInfo) -> list[Any]:
    found = list(info.metadata)

    def collect(annotation: Any) -> None:
        if typing.get_origin(annotation) is typing.Annotated:
            found.extend(annotation.__metadata__)
        for arg in typing.get_args(annotation):
            collect(arg)

    collect(info.annotation)
    return found


def _max_length(info: FieldInfo) -> int | None:
    """The longest text the field accepts, from its constraints or its literal or enum values."""
    lengths = [m.max_length for m in _metadata(info) if getattr(m, "max_length", None) is not None]
    for base in _base_types(info.annotation):
        if typing.get_origin(base) is typing.Literal:
            lengths.append(max(len(str(v)) for v in typing.get_args(base)))
        elif isinstance(base, type) and issubclass(base, enum.Enum):
            lengths.append(max(len(str(m.value)) for m in base))
    return min(lengths) if lengths else None


def _number(bound: Any) -> float:
    """The number of an annotated-types bound (Ge, Gt, Le or Lt)."""
    return float(getattr(bound, dataclasses.fields(bound)[0].name))


def test_every_number_is_finite_and_bounded_within_the_database_range() -> None:
    """Each int or float field has a lower and an upper bound inside what the columns hold."""
    checked = []
    for model in models():
        assert model.model_config.get("allow_inf_nan") is False, model.__name__
        for name, info in model.model_fields.items():
            bases = _base_types(info.annotation)
            if not bases & {int, float}:
                continue
            meta = _metadata(info)
            lows = [_number(m) for m in meta if isinstance(m, Ge | Gt)]
            highs = [_number(m) for m in meta if isinstance(m, Le | Lt)]
            limit = INT_MAX if int in bases else FLOAT_MAX
            assert lows and highs, f"{model.__name__}.{name} has no lower or upper bound"
            assert -limit <= max(lows) and min(highs) <= limit, f"{model.__name__}.{name}"
            checked.append(f"{model.__name__}.{name}")
    assert "TaskSpec.number" in checked and "Target.value" in checked


def test_every_text_fits_its_column() -> None:
    """A field stored in a String(n) column accepts at most n characters."""
    for (model, name), column in STRING_COLUMNS.items():
        longest = _max_length(model.model_fields[name])
        assert longest is not None, f"{model.__name__}.{name} has no length bound"
        assert longest <= column.type.length, f"{model.__name__}.{name}: {longest}"


def test_every_limited_column_of_the_catalogue_tables_is_checked() -> None:
    """A new String(n) column in a catalogue table needs its field in STRING_COLUMNS."""
    mapped = {f"{c.table.name}.{c.name}" for c in STRING_COLUMNS.values()}
    for table in orm.full_metadata().sorted_tables:
        if table.name not in CATALOGUE_TABLES:
            continue
        for column in table.columns:
            if isinstance(column, Column) and isinstance(column.type, String):
                if column.type.length is None or column.foreign_keys:
                    continue  # unlimited, or holds the values of the column it refers to
                key = f"{table.name}.{column.name}"
                assert key in mapped or key in NOT_FROM_THE_CATALOGUE, key


def test_the_plan_period_bound_is_the_calendar_epoch() -> None:
    """No plan may start before the working-day calendar does (sync builds it from there)."""
    assert schema.FIRST_DAY == EPOCH
