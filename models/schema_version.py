"""Which schema the code needs and which one a database holds, read without Alembic.

Every command checks the schema before it runs; Alembic and its migration scripts are loaded
only to create or upgrade one (:mod:`models.migrate`). ``tests/models/test_migrations.py``
checks that :data:`HEAD_REVISION` is Alembic's head.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from config.errors import NotFoundError
from config.settings import hide_passwords
from models.db import database_setting, open_engine

HEAD_REVISION = "0024"
"""The newest migration in ``models/migrations/versions``; raise it with each new migration."""
VERSION_TABLE = "alembic_version"


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


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
    if current != HEAD_REVISION:
        raise NotFoundError(
            f"数据库（{database_setting()}）的结构版本是 {current}，本程序需要 {HEAD_REVISION}："
            "请运行 `duban init` 升级。"
        )
    return engine
