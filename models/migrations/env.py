"""Alembic environment: uses the connection handed over by :mod:`models.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from models.orm import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI directly
    raise RuntimeError("run migrations with `duban init`, which passes the connection in")


def include_object(*args: object) -> bool:
    """Alembic's filter, called with (object, name, type, reflected, compare_to): leave alone
    the tables other libraries own in our database (APScheduler's job store)."""
    _, name, type_, _, _ = args
    return not (type_ == "table" and name == "apscheduler_jobs")


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
