"""Create or upgrade the database schema with Alembic (what ``duban init`` runs)."""

from __future__ import annotations

from collections.abc import Callable
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


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest schema; returns (revision before, revision after)."""
    before = current_revision(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()
