"""Rows written in bulk where some may already be there: each new row inserted once, the others
skipped, in the order given."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Session

from models.db import copies, copy_rows, insert_or_skip


def insert_new_rows(
    session: Session,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    key: list[str],
) -> int:
    """Insert the ``rows`` (dicts with the same keys) whose ``key`` columns match no row of
    ``model``'s table nor an earlier row, in order; returns how many were new. On PostgreSQL
    (psycopg), from :data:`COPY_FROM` rows, copied into a temporary table and inserted from
    it in one statement; else 1,000 rows a statement."""
    if not rows:
        return 0
    if not copies(session, rows):
        statement = insert_or_skip(session, model.__table__, index_elements=key)
        written = 0
        for start in range(0, len(rows), 1000):
            batch = rows[start : start + 1000]
            # the rows each chunk inserted (a conflict inserts nothing), with no query after
            written += (
                session.connection()
                .execute(statement.execution_options(preserve_rowcount=True), list(batch))
                .rowcount
            )
        return written
    from psycopg import Connection, sql  # noqa: PLC0415 - lazy: SQLite never loads the driver

    table = sql.Identifier(model.__tablename__)
    name = f"new_{model.__tablename__}"
    staged = sql.Identifier(name)
    names = sql.SQL(", ").join(sql.Identifier(c) for c in rows[0])
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, Connection)
    with driver.cursor() as cursor:
        # the columns' types without their constraints, and the rows' order kept in ``n``
        cursor.execute(
            sql.SQL(
                "CREATE TEMPORARY TABLE {staged} AS SELECT {names} FROM {table} WITH NO DATA;"
                " ALTER TABLE {staged} ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY"
            ).format(staged=staged, names=names, table=table)
        )
        copy_rows(session, model, name, rows)
        cursor.execute(
            sql.SQL(
                "INSERT INTO {table} ({names}) SELECT {names} FROM {staged} ORDER BY n"
                " ON CONFLICT ({key}) DO NOTHING"
            ).format(
                table=table,
                names=names,
                staged=staged,
                key=sql.SQL(", ").join(sql.Identifier(c) for c in key),
            )
        )
        written = int(cursor.rowcount)
        cursor.execute(sql.SQL("DROP TABLE {staged}").format(staged=staged))
    return written


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for a block that builds many rows (tens of thousands of
    tuples, dicts and lists, none in a cycle), which each collection would otherwise scan
    again; running again after it, if it ran before."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
