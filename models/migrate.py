"""Create or upgrade the database schema with Alembic (what ``duban init`` runs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from models.schema_version import current_revision

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def schema_filter(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for a database of ``dialect``: leave alone the tables
    other libraries own in our database (APScheduler's job store) and the objects the models
    mark as another dialect's (``info={"dialect": ...}``: PostgreSQL's partial indexes)."""

    def include(obj: object, name: str | None, type_: str, *_: object) -> bool:
        if type_ == "table" and name == "apscheduler_jobs":
            return False
        info: dict[str, object] = getattr(obj, "info", None) or {}
        return info.get("dialect", dialect) == dialect

    return include


def alembic_config() -> Config:
    """An Alembic config pointing at duban's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration in the code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@contextmanager
def _migrating(engine: Engine) -> Iterator[Config]:
    """An Alembic config on one transaction of ``engine``, committed if the block ends well.

    On SQLite the whole of it is one transaction (a migration that fails leaves the schema as it
    was), and foreign keys are off meanwhile (a batch migration copies a table, drops it and
    renames the copy: with them on, dropping a table other rows point at fails) and checked
    before the commit."""
    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a pragma that takes effect only outside a transaction
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if sqlite:  # pysqlite runs DDL outside a transaction unless one is begun
                    connection.exec_driver_sql("BEGIN")
                config.attributes["connection"] = connection
                yield config
                if sqlite and (broken := connection.exec_driver_sql(_FK_CHECK).all()):
                    raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


_FK_CHECK = "PRAGMA foreign_key_check"


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest schema; returns (revision before, revision after)."""
    before = current_revision(engine)
    with _migrating(engine) as config:
        command.upgrade(config, "head")
    return before, head_revision()


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (tests of a migration's upgrade)."""
    with _migrating(engine) as config:
        command.downgrade(config, revision)
