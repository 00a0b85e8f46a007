"""Opening the configured database for a command, with a clear message if it is not ready."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from config.errors import NotFoundError
from models.db import get_engine
from models.migrate import current_revision, head_revision


def display_url(engine: Engine) -> str:
    """The database URL without its password."""
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def ready_engine() -> Engine:
    """The engine, after checking the schema is at the newest migration."""
    engine = get_engine()
    current = current_revision(engine)
    if current != head_revision():
        state = "is empty" if current is None else f"is at schema {current}"
        raise NotFoundError(
            f"the database {display_url(engine)} {state}; run `duban init` to create or upgrade it"
        )
    return engine
