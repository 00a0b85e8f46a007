"""Alembic migration scripts (run through :mod:`models.migrate`, no alembic.ini needed)."""
