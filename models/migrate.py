"""Create or upgrade the database schema with Alembic (what ``duban init`` runs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from config.errors import NotFoundError
from config.settings import hide_passwords
from models.db import database_setting, open_engine

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


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest schema; returns (revision before, revision after)."""
    before = current_revision(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


def display_url(engine: Engine) -> str:
    """The database URL without its password (nor one hidden in a SQLite file's path)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return hide_passwords(f"sqlite:///{url.database}")
    return url.render_as_string(hide_password=True)


def ready_engine() -> Engine:
    """The configured engine, after checking it answers (:func:`models.db.open_engine`) and its
    schema is at the newest migration; creates nothing."""
    engine = open_engine()
    current = current_revision(engine)
    if current is None:
        raise NotFoundError(f"数据库（{database_setting()}）还是空的：请先运行 `duban init` 创建。")
    if current != head_revision():
        raise NotFoundError(
            f"数据库（{database_setting()}）的结构版本是 {current}，本程序需要 {head_revision()}："
            "请运行 `duban init` 升级。"
        )
    return engine
