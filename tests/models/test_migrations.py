"""The Alembic migrations build exactly the schema the ORM declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine

from config.settings import temporary_settings
from domain.status import status_view
from domain.sync import sync_catalog
from models.db import engine_for, session_scope
from models.migrate import current_revision, head_revision, upgrade
from models.orm import Base
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_sqlite_migrations_match_the_models(tmp_path: object) -> None:
    """Upgrading an empty SQLite database to head leaves no difference from the ORM."""
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    assert upgrade(engine) == (None, head_revision())
    assert schema_diff(engine) == []
    assert upgrade(engine) == (head_revision(), head_revision())  # idempotent


@pytest.mark.postgres
def test_postgres_end_to_end(postgres_url: str, write_catalog: CatalogWriter) -> None:
    """On real PostgreSQL: migrate, match the ORM, sync twice, and compute the status."""
    engine = engine_for(postgres_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert schema_diff(engine) == []
    catalog, _ = load_catalog(write_catalog())
    with temporary_settings(database_url=postgres_url):
        with session_scope(engine) as session:
            assert sync_catalog(session, catalog).added["work items"] == 15
        with session_scope(engine) as session:
            assert sync_catalog(session, catalog).unchanged
        with session_scope(engine) as session:
            view = status_view(
                session, plan_id=None, as_of=date(2021, 6, 28), yellow_workdays=5, task="1"
            )
    assert sum(view.summary.values()) == 11
    assert [i.milestone for i in view.items][:1] == ["M1"]
    assert view.items[0].light == "yellow"
