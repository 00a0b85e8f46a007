"""The Alembic migrations build exactly the schema the ORM declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import ColumnElement, Engine, create_engine, text

from config.errors import InputError
from config.settings import temporary_settings
from domain.queries.item_status import CURRENT_DONE_ON, CURRENT_WAITING
from domain.queries.status import status_view
from domain.queries.sync import sync_catalog
from models.db import engine_for, session_scope
from models.migrate import downgrade, head_revision, schema_filter, upgrade
from models.orm import full_metadata
from models.schema_version import HEAD_REVISION, current_revision
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": schema_filter(engine.dialect.name)},
        )
        return list(compare_metadata(context, full_metadata()))


def test_sqlite_migrations_match_the_models(tmp_path: object) -> None:
    """Upgrading an empty SQLite database to head leaves no difference from the ORM."""
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    assert upgrade(engine) == (None, head_revision())
    assert schema_diff(engine) == []
    assert upgrade(engine) == (head_revision(), head_revision())  # idempotent


def test_the_schema_check_knows_alembics_head(tmp_path: Path) -> None:
    """The schema check every command runs (without Alembic) expects Alembic's newest migration,
    and reads a database's revision as Alembic does: None before ``duban init``."""
    assert head_revision() == HEAD_REVISION, (
        f"a new migration {head_revision()}: set models/schema_version.py HEAD_REVISION to it"
    )
    engine = create_engine(f"sqlite:///{tmp_path}/v.db")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == HEAD_REVISION


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
            view = status_view(session, context_of(session, date(2021, 6, 28)), task="1")
    assert sum(view.summary.values()) == 11
    assert [i.milestone for i in view.items][:1] == ["M1"]
    assert view.items[0].light == "yellow"


@pytest.mark.postgres
def test_postgres_statistics_cover_what_the_status_counts_group_by(postgres_url: str) -> None:
    """PostgreSQL's statistics match a grouping only if they name the same columns and
    expressions: migration 0006 must spell them as ``domain.queries.status`` writes them."""
    engine = engine_for(postgres_url)
    upgrade(engine)
    with engine.connect() as connection:
        definition = connection.scalar(
            text(
                "SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext"
                " WHERE stxname = 'work_item_status_groups'"
            )
        )
    assert definition is not None

    def sql(expression: ColumnElement[Any]) -> str:
        compiled = expression.compile(dialect=engine.dialect)
        # no bound values: a generic plan sees "> $1", which matches no statistics
        assert compiled.params == {}
        return str(compiled).replace("work_item.", "").lower()

    for expression in (CURRENT_DONE_ON, CURRENT_WAITING):
        assert sql(expression) in definition.lower()
    for column in ("milestone_id", "state", "start", "due", "percent"):
        assert f" {column}," in definition


def test_the_tally_triggers_exist_at_head(engine: Engine) -> None:
    """The work-item tally is only right while its triggers are there: on SQLite a migration
    that rebuilds ``work_item`` (Alembic's batch mode) drops them, and must create them again."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            names = connection.scalars(
                text(
                    "SELECT tgname FROM pg_trigger"
                    " WHERE tgrelid = 'work_item'::regclass AND NOT tgisinternal"
                )
            ).all()
        else:
            names = connection.scalars(
                text(
                    "SELECT name FROM sqlite_master"
                    " WHERE type = 'trigger' AND tbl_name = 'work_item'"
                )
            ).all()
    expected = {"work_item_tally_insert", "work_item_tally_update", "work_item_tally_delete"}
    if engine.dialect.name == "postgresql":
        expected.add("work_item_tally_truncate")
    else:  # migration 0010's check of start <= due
        expected |= {f"ck_work_item_start_not_after_due_{e}" for e in ("insert", "update")}
    assert set(names) == expected


def test_no_work_item_starts_after_its_due_date(
    engine: Engine, write_catalog: CatalogWriter
) -> None:
    """Migration 0010: the database refuses an item whose window opens after its due date,
    written or updated in plain SQL (what lets "active" be one range test on the start date);
    an item starting on its due date is fine."""
    with temporary_settings(database_url=str(engine.url)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog())[0])
    with engine.connect() as connection:
        item = connection.execute(text("SELECT id, due FROM work_item ORDER BY id")).first()
        assert item is not None
        connection.execute(text("UPDATE work_item SET start = due WHERE id = :id"), {"id": item.id})
        connection.rollback()
        for written in (
            "UPDATE work_item SET start = due + 1 WHERE id = :id",
            "UPDATE work_item SET due = start - 1 WHERE id = :id",
            "INSERT INTO work_item (plan_id, milestone_id, unit_id, occurrence, start, due,"
            " original_due, state, percent, open_prerequisites, created_at, updated_at)"
            " SELECT plan_id, milestone_id, unit_id, occurrence + 100, due + 1, due,"
            " original_due, state, percent, open_prerequisites, created_at, updated_at"
            " FROM work_item WHERE id = :id",
        ):
            statement = written
            if engine.dialect.name == "sqlite":  # dates are text there
                statement = written.replace("due + 1", "date(due, '+1 day')").replace(
                    "start - 1", "date(start, '-1 day')"
                )
            with pytest.raises(Exception, match="ck_work_item_start_not_after_due"):
                connection.execute(text(statement), {"id": item.id})
            connection.rollback()


def test_the_upgrade_to_0010_refuses_items_starting_after_their_due_date(
    engine: Engine, write_catalog: CatalogWriter
) -> None:
    """Down to 0009 (0011 and 0010 undone), an item made to start after its due date, then the
    upgrade: it stops with the item's id, saying what to do, and the schema stays at 0009; once
    the item is mended it goes through. The PostgreSQL constraint has the name the SQLite
    triggers give."""
    with temporary_settings(database_url=str(engine.url)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog())[0])
    downgrade(engine, "0009")
    with engine.begin() as connection:
        item = connection.scalar(text("SELECT min(id) FROM work_item"))
        late = "date(due, '+1 day')" if engine.dialect.name == "sqlite" else "due + 1"
        mar = text(f"UPDATE work_item SET start = {late} WHERE id = :id")
        connection.execute(mar, {"id": item})
    with pytest.raises(InputError, match=rf"1 work item\(s\) start after .*ids {item}\)"):
        upgrade(engine)
    assert current_revision(engine) == "0009"
    with engine.begin() as connection:
        connection.execute(text("UPDATE work_item SET start = due WHERE id = :id"), {"id": item})
    assert upgrade(engine) == ("0009", head_revision())
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            checks = connection.scalars(
                text(
                    "SELECT conname FROM pg_constraint"
                    " WHERE conrelid = 'work_item'::regclass AND contype = 'c'"
                )
            ).all()
        assert checks == ["ck_work_item_start_not_after_due"]


def test_the_upgrade_to_0016_makes_existing_briefings_weekly(
    engine: Engine, write_catalog: CatalogWriter
) -> None:
    """A briefing recorded before editions existed is a weekly one after 0016, its week its
    period; a monthly 第1期 of the same year then fits beside the weekly 第1期, and going back
    to 0015 drops the monthly record only."""
    with temporary_settings(database_url=str(engine.url)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog())[0])
    downgrade(engine, "0015")
    row = (
        "INSERT INTO briefing (plan_id, {key}, year, number, as_of, checksum, files,"
        " generations, first_generated_at, generated_at, actor)"
        " VALUES ('demo-plan', {value}, 2021, 1, '2021-12-31', 'c', '{{}}', 1,"
        " '2022-01-04 01:00:00', '2022-01-04 01:00:00', 'test')"
    )
    sent = (
        "INSERT INTO message (plan_id, recipient, channel, subject, body, created_on, created_at,"
        " status, attempts, briefing_id) VALUES ('demo-plan', 'xzf/head', 'file', 's', 'b',"
        " '2022-01-04', '2022-01-04 01:00:00', 'sent', 1, (SELECT max(id) FROM briefing))"
    )  # a briefing already sent: on SQLite the table is copied and dropped under its message
    with engine.begin() as connection:
        connection.execute(text(row.format(key="week", value="'2021-W52'")))
        connection.execute(text(sent))
    assert upgrade(engine) == ("0015", head_revision())
    with engine.begin() as connection:
        linked = "SELECT count(*) FROM message JOIN briefing ON briefing.id = message.briefing_id"
        assert connection.scalar(text(linked)) == 1
        connection.execute(text(row.format(key="edition, period", value="'month', '2021-12'")))
        rows = connection.execute(
            text("SELECT edition, period, year, number FROM briefing ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("week", "2021-W52", 2021, 1),
        ("month", "2021-12", 2021, 1),
    ]
    downgrade(engine, "0015")
    with engine.connect() as connection:
        left = connection.execute(text("SELECT week, number FROM briefing")).all()
    assert [tuple(r) for r in left] == [("2021-W52", 1)]
    assert upgrade(engine) == ("0015", head_revision())
