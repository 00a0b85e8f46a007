"""Alembic environment: uses the connection handed over by :mod:`models.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from models.migrate import schema_filter
from models.orm import full_metadata

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI directly
    raise RuntimeError("run migrations with `duban init`, which passes the connection in")


context.configure(
    connection=connection,
    target_metadata=full_metadata(),
    include_object=schema_filter(connection.dialect.name),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
