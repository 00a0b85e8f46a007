"""The one way to get a database engine and a session.

Repository functions take a session and only ``flush()``; the command or flow that opened the
session owns the transaction (:func:`session_scope` commits on success, rolls back on error).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import chain, islice
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Json
from sqlalchemy import JSON, Engine, create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from config.settings import get_settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_engines: dict[tuple[str, bool], Engine] = {}


def engine_for(url: str, echo: bool = False) -> Engine:
    """A pooled engine for ``url`` (one per URL for the process); SQLite files get their folder
    created."""
    key = (url, echo)
    if key not in _engines:
        _engines[key] = _create(url, echo)
    return _engines[key]


def dispose_engine(url: str) -> None:
    """Close the pooled connections to ``url`` and forget its engine (before dropping a test
    database, say)."""
    for key in [k for k in _engines if k[0] == url]:
        _engines.pop(key).dispose()


def _create(url: str, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def get_engine() -> Engine:
    """The engine for the configured database."""
    settings = get_settings()
    return engine_for(settings.resolved_database_url, settings.sql_echo)


@contextmanager
def session_scope(engine: Engine | None = None, *, rollback: bool = False) -> Iterator[Session]:
    """A session whose transaction commits when the block ends and rolls back on error.

    ``rollback=True`` rolls back even on success: a dry run does all the work and keeps none.
    """
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    with factory() as session:
        transaction = session.begin()
        try:
            yield session
        except BaseException:
            transaction.rollback()
            raise
        if rollback:
            transaction.rollback()
        else:
            transaction.commit()


def prefer_hash_joins(session: Session) -> None:
    """For whole-table reports on PostgreSQL: no nested-loop joins for this transaction.

    The status query left-joins grouped derived tables (state as of a date, open prerequisites,
    later deadline changes) whose sizes PostgreSQL cannot estimate; it then picks nested loops
    and a 75,000-item status took 140 s instead of 0.1 s (measured, see BENCHMARKS.md). Every such
    query reads the whole plan, where hash joins are the right plan anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_nestloop = off"))
        # compiling these queries (JIT) cost 40–100 ms each at 10^6 items and saved less
        session.execute(text("SET LOCAL jit = off"))


COPY_FROM = 1000
"""Rows from which :func:`insert_rows` copies instead of inserting, on PostgreSQL."""
INSERT_BATCH = 10_000
"""Rows per statement where :func:`insert_rows` inserts."""


def insert_rows(
    session: Session, model: type[DeclarativeBase], rows: Iterable[Mapping[str, Any]]
) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table in the session's
    transaction, reading them as they come: a generator is never held whole in memory.
    Returns how many rows it wrote.

    A first load writes a million work items and as many transitions: on PostgreSQL a large
    batch goes through ``COPY … FROM STDIN`` (one stream, no statement per row: about three
    times faster than the driver's pipelined ``executemany`` at 10⁵ items); SQLite, other drivers
    and small batches take an ordinary insert, :data:`INSERT_BATCH` rows at a time. Columns not
    in the rows get their server defaults either way.
    """
    remaining = iter(rows)
    first = list(islice(remaining, COPY_FROM))
    if not first:
        return 0
    # the raw DBAPI connection of the session's transaction: COPY needs psycopg 3's
    driver = session.connection().connection.driver_connection
    if not isinstance(driver, psycopg.Connection) or len(first) < COPY_FROM:
        written, batch = 0, first
        while batch:
            session.execute(insert(model), batch)
            written += len(batch)
            batch = list(islice(remaining, INSERT_BATCH))
        return written
    session.flush()  # the copy bypasses the ORM: what it holds must be in the database first
    columns = list(first[0])
    # JSON columns: COPY would write a list as an array; the driver's Json adapter writes JSON
    # (None as JSON null unless the column stores SQL NULL for it, as an ordinary insert does)
    json = {c.name: c.type for c in model.__table__.columns if isinstance(c.type, JSON)}
    wrap = [c in json for c in columns]
    null_as_sql = [c in json and json[c].none_as_null for c in columns]
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with (
        driver.cursor() as cursor,
        cursor.copy(
            sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(model.__tablename__), names)
        ) as copy,
    ):
        written = 0
        for row in chain(first, remaining):
            written += 1
            copy.write_row(
                [
                    Json(row[c]) if w and not (row[c] is None and n) else row[c]
                    for c, w, n in zip(columns, wrap, null_as_sql, strict=True)
                ]
            )
    return written
