"""The PostgreSQL-only partial index, whose condition the models set when first read."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex

from models.orm import full_metadata

NAME = "ix_work_item_active_start"


def test_postgresql_creates_the_index_with_its_condition() -> None:
    """The deferred option still reaches PostgreSQL's DDL: the index is partial there."""
    (index,) = (i for i in full_metadata().tables["work_item"].indexes if i.name == NAME)
    ddl = str(CreateIndex(index).compile(dialect=make_url("postgresql://").get_dialect()()))
    where = "WHERE state NOT IN ('submitted', 'closed', 'retired') AND open_prerequisites <= 0"
    assert ddl.endswith(where)
    assert dict(index.dialect_kwargs).keys() == {"postgresql_where"}


def test_sqlite_does_not_create_it() -> None:
    """On SQLite the index is left out; the table's other indexes are made."""
    engine = create_engine("sqlite://")
    full_metadata().create_all(engine)
    made = {i["name"] for i in inspect(engine).get_indexes("work_item")}
    assert "ix_work_item_plan_id_due" in made
    assert NAME not in made
