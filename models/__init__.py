"""Data model: SQLAlchemy ORM, database engine/session, Alembic migrations, shared enums."""
